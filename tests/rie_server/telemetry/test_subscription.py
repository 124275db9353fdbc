"""Subscription validation for both APIs: exact statuses and bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdarig.rie_server.telemetry.subscription import (
    Api,
    Buffering,
    Destination,
    Subscription,
    identify,
    parse,
    subscribed,
)

ID = "6e1c2b8a-0d5f-4b0e-9a51-1f4c3f2d7a10"
LOOKUP = {ID: "telemetry-ext"}.get


def body(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "schemaVersion": "2022-12-13",
        "types": ["platform", "function"],
        "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:4243/lambda"},
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None}).encode()


def error(reply: Any) -> tuple[int, dict[str, str]]:
    return reply.status, json.loads(reply.body)


def test_a_valid_telemetry_subscription_with_defaults() -> None:
    parsed = parse(Api.TELEMETRY, "ext", body())
    assert parsed == Subscription(
        Api.TELEMETRY,
        "ext",
        "2022-12-13",
        frozenset({"platform", "function"}),
        Destination("HTTP", 4243, "sandbox.localdomain", "/lambda"),
        Buffering(10000, 262144, 1000),
    )
    assert subscribed().status == 200 and subscribed().body == b'"OK"'


@pytest.mark.parametrize("schema", ["2022-07-01", "2022-12-13", "2025-01-29"])
def test_every_telemetry_schema_is_accepted(schema: str) -> None:
    assert isinstance(parse(Api.TELEMETRY, "ext", body(schemaVersion=schema)), Subscription)


def test_logs_api_defaults_its_schema_and_takes_sandbox_without_path() -> None:
    destination = {"protocol": "HTTP", "URI": "http://sandbox:4243"}
    parsed = parse(Api.LOGS, "ext", body(schemaVersion=None, destination=destination))
    assert isinstance(parsed, Subscription)
    assert parsed.schema_version == "2020-08-15"
    assert parsed.destination == Destination("HTTP", 4243, "sandbox", "/")


def test_tcp_destination_and_buffering_bounds_accepted() -> None:
    buffering = {"maxItems": 1000, "maxBytes": 1048576, "timeoutMs": 25}
    parsed = parse(
        Api.TELEMETRY,
        "ext",
        body(destination={"protocol": "TCP", "port": 4244}, buffering=buffering),
    )
    assert isinstance(parsed, Subscription)
    assert parsed.destination == Destination("TCP", 4244)
    assert parsed.buffering == Buffering(1000, 1048576, 25)


def test_the_service_example_message_no_port_and_empty_types() -> None:
    destination = {"protocol": "HTTP", "URI": "http://sandbox.localdomain/lambda_logs"}
    reply = parse(Api.LOGS, "ext", body(schemaVersion=None, types=[], destination=destination))
    assert error(reply) == (
        400,
        {
            "errorMessage": "URI port is not provided; types should not be empty",
            "errorType": "Logs.ValidationError",
        },
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"schemaVersion": "2020-08-15"},
            'schemaVersion should be one of 2022-07-01, 2022-12-13, 2025-01-29; got "2020-08-15"',
        ),
        (
            {"schemaVersion": None},
            "schemaVersion should be one of 2022-07-01, 2022-12-13, 2025-01-29; got nothing",
        ),
        (
            {"types": ["platform", "bogus"]},
            'types should be among platform, function, extension; got "bogus"',
        ),
        (
            {"buffering": {"maxItems": 999}},
            "buffering.maxItems should be an integer in [1000, 10000]; got 999",
        ),
        (
            {"buffering": {"maxBytes": 2**20 + 1}},
            "buffering.maxBytes should be an integer in [262144, 1048576]; got 1048577",
        ),
        (
            {"buffering": {"timeoutMs": 24}},
            "buffering.timeoutMs should be an integer in [25, 30000]; got 24",
        ),
        (
            {"buffering": {"timeoutMs": True}},
            "buffering.timeoutMs should be an integer in [25, 30000]; got true",
        ),
        (
            {"destination": {"protocol": "UDP"}},
            'destination.protocol should be HTTP or TCP; got "UDP"',
        ),
        (
            {"destination": {"protocol": "TCP", "port": 9001}},
            "destination.port should be an integer in [1, 65535] other than 9001; got 9001",
        ),
        (
            {"destination": {"protocol": "HTTP", "URI": "http://sandbox:9001/"}},
            "URI port should be in [1, 65535] other than 9001; got 9001",
        ),
        (
            {"destination": {"protocol": "HTTP", "URI": "http://example.com:80/"}},
            'URI host should be sandbox.localdomain or sandbox; got "example.com"',
        ),
        (
            {"destination": {"protocol": "HTTP", "URI": "https://sandbox:8080/"}},
            'URI should be http://sandbox.localdomain:<port>/<path>; got "https://sandbox:8080/"',
        ),
        (
            {"destination": {"protocol": "HTTP", "URI": "http://sandbox:8080/a\r\nX: y"}},
            "URI should be http://sandbox.localdomain:<port>/<path>; got "
            '"http://sandbox:8080/a\\r\\nX: y"',
        ),
        ({"destination": {"protocol": "HTTP"}}, "URI is not provided"),
    ],
)
def test_each_problem_is_a_400_naming_what_was_expected(
    fields: dict[str, Any], message: str
) -> None:
    assert error(parse(Api.TELEMETRY, "ext", body(**fields))) == (
        400,
        {"errorMessage": message, "errorType": "Telemetry.ValidationError"},
    )


def test_logs_api_refuses_telemetry_schemas() -> None:
    status, payload = error(parse(Api.LOGS, "ext", body(schemaVersion="2022-07-01")))
    assert status == 400 and payload["errorType"] == "Logs.ValidationError"
    assert payload["errorMessage"].startswith(
        "schemaVersion should be one of 2020-08-15, 2021-03-18"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{", "expected a JSON object as the request body, got invalid JSON"),
        (b"\xff", "expected a JSON object as the request body, got invalid JSON"),
        (b"[1]", "expected a JSON object as the request body, got list"),
        (b" " * 70000, "expected a subscription body of at most 65536 bytes, got 70000"),
    ],
)
def test_hostile_bodies_are_refused(raw: bytes, message: str) -> None:
    assert error(parse(Api.TELEMETRY, "ext", raw)) == (
        400,
        {"errorMessage": message, "errorType": "Telemetry.ValidationError"},
    )


def test_only_registered_extensions_may_subscribe() -> None:
    assert identify({"Lambda-Extension-Identifier": ID}, LOOKUP) == "telemetry-ext"
    assert error(identify({}, LOOKUP)) == (  # type: ignore[arg-type]
        403,
        {
            "errorMessage": "Missing Lambda-Extension-Identifier header",
            "errorType": "Extension.MissingExtensionIdentifier",
        },
    )
    assert error(identify({"Lambda-Extension-Identifier": "nope"}, LOOKUP)) == (  # type: ignore[arg-type]
        403,
        {
            "errorMessage": "Invalid Lambda-Extension-Identifier",
            "errorType": "Extension.InvalidExtensionIdentifier",
        },
    )
    other = "00000000-0000-4000-8000-000000000000"
    assert error(identify({"Lambda-Extension-Identifier": other}, LOOKUP)) == (  # type: ignore[arg-type]
        403,
        {
            "errorMessage": f"Unknown extension {other}",
            "errorType": "Extension.UnknownExtensionIdentifier",
        },
    )
