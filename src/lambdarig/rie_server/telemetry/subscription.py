"""Subscriptions to the Telemetry API and the Logs API, sans-IO: the ``PUT`` body validated into a
``Subscription``, or the exact error ``Reply``.

Body (https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html#telemetry-api-subscription)::

    {"schemaVersion": "2022-12-13", "types": ["platform", "function", "extension"],
     "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 100},
     "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:8080/lambda"}}

``buffering`` is optional (each field within its range, defaults 10000 / 262144 / 1000);
``destination`` is ``HTTP`` to ``sandbox.localdomain`` or ``sandbox`` with an explicit port other
than the Runtime API's 9001, or ``TCP`` with a ``port``. The Logs API (``2020-08-15``, superseded)
takes the same body; its ``schemaVersion`` defaults to ``2020-08-15``. Success is 200 ``"OK"``;
problems are 400 ``Telemetry.ValidationError`` / ``Logs.ValidationError`` with every problem found,
joined by ``"; "`` as the service does (``URI port is not provided; types should not be empty``);
a missing or unknown ``Lambda-Extension-Identifier`` is 403 (only registered extensions
subscribe).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from typing import Any, Callable, NamedTuple

from lambdarig.rie_server.extensions import protocol as extensions_protocol
from lambdarig.rie_server.runtime.protocol import Reply

# identifier -> the registered extension's name, or None (unknown identifier)
ExtensionLookup = Callable[[str], "str | None"]

MAX_BODY_BYTES = 64 * 1024  # a subscription is a few hundred bytes; anything larger is refused
SANDBOX_HOSTS = ("sandbox.localdomain", "sandbox")
RESERVED_PORT = 9001  # the Runtime API's own port inside Lambda
CATEGORIES = ("platform", "function", "extension")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class Api(enum.Enum):
    """Which subscription API; the value prefixes its error types."""

    TELEMETRY = "Telemetry"
    LOGS = "Logs"


SCHEMAS: Mapping[Api, tuple[str, ...]] = {
    Api.TELEMETRY: ("2022-07-01", "2022-12-13", "2025-01-29"),
    Api.LOGS: ("2020-08-15", "2021-03-18"),
}
_DEFAULT_SCHEMA: Mapping[Api, str | None] = {Api.TELEMETRY: None, Api.LOGS: "2020-08-15"}
# (field, minimum, maximum, default)
BUFFERING_RANGES = (
    ("maxItems", 1000, 10000, 10000),
    ("maxBytes", 262144, 1048576, 262144),
    ("timeoutMs", 25, 30000, 1000),
)


class Buffering(NamedTuple):
    max_items: int = 10000
    max_bytes: int = 262144
    timeout_ms: int = 1000


class Destination(NamedTuple):
    """Where batches go: ``HTTP`` POSTs to ``http://<host>:<port><path>``, or ``TCP`` NDJSON to
    ``<host>:<port>`` (host: the sandbox name the subscriber used; the dispatcher resolves it)."""

    protocol: str  # "HTTP" | "TCP"
    port: int
    host: str = SANDBOX_HOSTS[0]
    path: str = "/"


class Subscription(NamedTuple):
    api: Api
    extension: str  # the subscribing extension's name
    schema_version: str
    types: frozenset[str]
    destination: Destination
    buffering: Buffering = Buffering()


def subscribed() -> Reply:
    """200 ``"OK"``: the subscription is in place."""
    return Reply(200, b'"OK"')


def validation_error(api: Api, problems: list[str]) -> Reply:
    """400 ``<Api>.ValidationError`` naming every problem."""
    return _error(400, f"{api.value}.ValidationError", "; ".join(problems))


def _error(status: int, error_type: str, message: str) -> Reply:
    body = json.dumps({"errorMessage": message, "errorType": error_type}, separators=(",", ":"))
    return Reply(status, body.encode() + b"\n")


def identify(headers: Mapping[str, str], lookup: ExtensionLookup) -> str | Reply:
    """The subscribing extension's name, or the 403 the Extensions API gives a missing, malformed
    or unknown ``Lambda-Extension-Identifier`` (the same answers, from ``extensions.protocol``)."""
    identifier = extensions_protocol.identifier(headers)
    if isinstance(identifier, Reply):
        return identifier
    name = lookup(identifier)
    if name is None:
        return extensions_protocol.unknown_identifier(identifier)
    return name


def parse(api: Api, extension: str, body: bytes) -> Subscription | Reply:
    """Validate a ``PUT`` body; returns the ``Subscription`` or the 400 listing every problem."""
    if len(body) > MAX_BODY_BYTES:
        message = f"expected a subscription body of at most {MAX_BODY_BYTES} bytes, got {len(body)}"
        return validation_error(api, [message])
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return validation_error(
            api, ["expected a JSON object as the request body, got invalid JSON"]
        )
    if not isinstance(parsed, dict):
        got = type(parsed).__name__
        return validation_error(api, [f"expected a JSON object as the request body, got {got}"])
    problems: list[str] = []
    schema = _schema(api, parsed.get("schemaVersion"), problems)
    destination = _destination(parsed.get("destination"), problems)
    types = _types(parsed.get("types"), problems)
    buffering = _buffering(parsed.get("buffering"), problems)
    if problems or schema is None or destination is None:
        return validation_error(api, problems)
    return Subscription(api, extension, schema, types, destination, buffering)


def _schema(api: Api, value: Any, problems: list[str]) -> str | None:
    if value is None and _DEFAULT_SCHEMA[api] is not None:
        return _DEFAULT_SCHEMA[api]
    allowed = SCHEMAS[api]
    if value not in allowed:
        got = "nothing" if value is None else json.dumps(value)
        problems.append(f"schemaVersion should be one of {', '.join(allowed)}; got {got}")
        return None
    return str(value)


def _types(value: Any, problems: list[str]) -> frozenset[str]:
    if not isinstance(value, list) or not value:
        problems.append("types should not be empty")
        return frozenset()
    unknown = [item for item in value if item not in CATEGORIES]
    if unknown:
        got = ", ".join(json.dumps(item) for item in unknown)
        problems.append(f"types should be among {', '.join(CATEGORIES)}; got {got}")
    return frozenset(item for item in value if item in CATEGORIES)


def _buffering(value: Any, problems: list[str]) -> Buffering:
    if value is None:
        return Buffering()
    if not isinstance(value, dict):
        problems.append(f"buffering should be an object; got {json.dumps(value)}")
        return Buffering()
    chosen: list[int] = []
    for name, low, high, default in BUFFERING_RANGES:
        item = value.get(name, default)
        if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
            problems.append(
                f"buffering.{name} should be an integer in [{low}, {high}]; got {json.dumps(item)}"
            )
            item = default
        chosen.append(item)
    return Buffering(*chosen)


def _destination(value: Any, problems: list[str]) -> Destination | None:
    if not isinstance(value, dict):
        problems.append("destination should be an object with a protocol (HTTP or TCP)")
        return None
    protocol = value.get("protocol")
    if protocol == "TCP":
        port: Any = value.get("port")
        if not _valid_port(port):
            problems.append(
                f"destination.port should be an integer in [1, 65535] other than "
                f"{RESERVED_PORT}; got {json.dumps(port)}"
            )
            return None
        return Destination("TCP", port)
    if protocol != "HTTP":
        problems.append(f"destination.protocol should be HTTP or TCP; got {json.dumps(protocol)}")
        return None
    return _http_destination(value.get("URI"), problems)


def _http_destination(uri: Any, problems: list[str]) -> Destination | None:
    if not isinstance(uri, str) or not uri:
        problems.append("URI is not provided")
        return None
    match = re.fullmatch(r"http://([^/:?#@]*)(?::([0-9]*))?([/?][^\s]*)?", uri)
    if match is None or any(ord(char) < 0x21 or ord(char) == 0x7F for char in uri):
        problems.append(
            f"URI should be http://sandbox.localdomain:<port>/<path>; got {json.dumps(uri)}"
        )
        return None
    host, port_text, path = match.group(1), match.group(2), match.group(3) or "/"
    if host not in SANDBOX_HOSTS:
        problems.append(f"URI host should be {' or '.join(SANDBOX_HOSTS)}; got {json.dumps(host)}")
    if not port_text:
        problems.append("URI port is not provided")
        return None
    port = int(port_text[:6])
    if not _valid_port(port):
        problems.append(
            f"URI port should be in [1, 65535] other than {RESERVED_PORT}; got {port_text}"
        )
        return None
    if not path.startswith("/"):
        path = "/" + path
    return Destination("HTTP", port, host, path)


def _valid_port(port: Any) -> bool:
    return (
        isinstance(port, int)
        and not isinstance(port, bool)
        and 0 < port < 65536
        and port != RESERVED_PORT
    )
