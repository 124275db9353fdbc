"""Extensions API rules without I/O: routing, validation with exact 403 bodies, the registry."""

from __future__ import annotations

import json

import pytest

from lambdarig.rie_server.extensions import protocol
from lambdarig.rie_server.extensions.protocol import Register, Reply, Route
from lambdarig.rie_server.extensions.state import Refusal, Registry, State

ID = "0b6c2d1e-3f4a-4b5c-8d6e-7f8091a2b3c4"


def error(reply: object) -> tuple[int, dict[str, str]]:
    assert isinstance(reply, Reply)
    return reply.status, json.loads(reply.body)


def test_routes() -> None:
    assert protocol.route("POST", "/2020-01-01/extension/register") is Route.REGISTER
    assert protocol.route("GET", "/2020-01-01/extension/event/next") is Route.EVENT_NEXT
    assert protocol.route("POST", "/2020-01-01/extension/init/error") is Route.INIT_ERROR
    assert protocol.route("POST", "/2020-01-01/extension/exit/error") is Route.EXIT_ERROR
    assert protocol.route("GET", "/2020-01-01/extension/register") is Route.METHOD_NOT_ALLOWED
    assert protocol.route("GET", "/2020-01-01/extension/nope") is Route.NOT_FOUND


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {},
            ("Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header"),
        ),
        (
            {"Lambda-Extension-Identifier": "not-a-uuid"},
            ("Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier"),
        ),
    ],
)
def test_identifier_errors(headers: dict[str, str], expected: tuple[str, str]) -> None:
    assert error(protocol.identifier(headers)) == (
        403,
        {"errorMessage": expected[1], "errorType": expected[0]},
    )
    assert protocol.identifier({"Lambda-Extension-Identifier": ID.upper()}) == ID


def test_unknown_identifier_body() -> None:
    assert error(protocol.unknown_identifier(ID)) == (
        403,
        {
            "errorMessage": f"Unknown extension {ID}",
            "errorType": "Extension.UnknownExtensionIdentifier",
        },
    )


def test_register_validation() -> None:
    name = {"Lambda-Extension-Name": "ext"}
    assert protocol.parse_register(name, b'{"events":["INVOKE","SHUTDOWN"]}') == Register(
        "ext", ("INVOKE", "SHUTDOWN"), False
    )
    wanted = {**name, "Lambda-Extension-Accept-Feature": "x, accountId"}
    assert protocol.parse_register(wanted, b"{}") == Register("ext", (), True)
    assert error(protocol.parse_register({}, b"{}")) == (
        403,
        {"errorMessage": "Empty extension name", "errorType": "Extension.InvalidExtensionName"},
    )
    status, body = error(protocol.parse_register({"Lambda-Extension-Name": "a/../b"}, b"{}"))
    assert (status, body["errorType"]) == (403, "Extension.InvalidExtensionName")
    status, body = error(protocol.parse_register(name, b'{"events":["INVOKE","BOOM\\n"]}'))
    assert body == {
        "errorMessage": '"BOOM\\n": unknown event type',
        "errorType": "Extension.InvalidEventType",
    }
    keys = b'{"events":[],"configurationKeys":["a"]}'
    assert error(protocol.parse_register(name, keys)) == (
        403,
        {
            "errorMessage": "configurationKeys are deprecated; use environment variables instead",
            "errorType": "InvalidRequestFormat",
        },
    )
    for bad in (b"[", b"[1]", b'{"events":"INVOKE"}', b"\xff"):
        status, body = error(protocol.parse_register(name, bad))
        assert (status, body["errorType"]) == (403, "InvalidRequestFormat")


def test_error_type_header_is_required() -> None:
    assert error(protocol.error_type({})) == (
        403,
        {
            "errorMessage": "Lambda-Extension-Function-Error-Type not found",
            "errorType": "Extension.MissingHeader",
        },
    )


def test_event_bodies() -> None:
    assert protocol.invoke_event("r", 5, "arn", None) == {
        "eventType": "INVOKE",
        "deadlineMs": 5,
        "requestId": "r",
        "invokedFunctionArn": "arn",
    }
    assert protocol.shutdown_event("timeout", 7) == {
        "eventType": "SHUTDOWN",
        "shutdownReason": "timeout",
        "deadlineMs": 7,
    }
    reply = protocol.event_reply("eid", {"eventType": "INVOKE"})
    assert reply.headers["Lambda-Extension-Event-Identifier"] == "eid"


def test_registry_refusals_and_limit() -> None:
    registry = Registry(["external"])
    external = registry.register("external", ("INVOKE", "SHUTDOWN"), "id-0")
    assert not isinstance(external, Refusal) and external.external
    assert registry.register("external", (), "id-x") is Refusal.DUPLICATE
    assert registry.register("internal", ("SHUTDOWN",), "id-y") is Refusal.INTERNAL_SHUTDOWN
    for n in range(1, 10):
        assert not isinstance(registry.register(f"i{n}", ("INVOKE",), f"id-{n}"), Refusal)
    assert registry.register("eleventh", (), "id-11") is Refusal.TOO_MANY
    registry.close_registration()
    assert registry.register("late", (), "id-12") is Refusal.CLOSED
    assert error(protocol.too_many())[1] == {
        "errorMessage": "Extension limit (10) reached",
        "errorType": "Extension.TooManyExtensions",
    }
    assert error(protocol.registration_closed())[1] == {
        "errorMessage": "Extension registration closed already",
        "errorType": "Extension.RegistrationClosed",
    }


def test_init_and_invoke_completion_rules() -> None:
    registry = Registry(["a"])
    assert not registry.all_registered()
    a = registry.register("a", ("INVOKE",), "id-a")
    assert not isinstance(a, Refusal)
    assert registry.all_registered() and not registry.init_done()  # not polling yet
    assert registry.next(a) is None and registry.init_done()
    registry.queue("INVOKE", "e1", {"eventType": "INVOKE"})
    assert not registry.invoke_done()
    assert registry.take(a) == ("e1", {"eventType": "INVOKE"}) and a.state is State.RUNNING
    assert not registry.invoke_done()
    assert registry.next(a) is None and registry.invoke_done()


def test_errors_reported_once() -> None:
    registry = Registry()
    a = registry.register("a", (), "id-a")
    assert not isinstance(a, Refusal)
    registry.report_error(a, True, "Extension.ConfigInvalid")
    assert registry.failed() is a and a.state is State.INIT_ERROR
    with pytest.raises(Exception, match="InitError -> ExitError"):
        registry.report_error(a, False, "Extension.Other")
