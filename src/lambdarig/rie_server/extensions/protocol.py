"""Server side of the Extensions API, sans-IO: routing, request validation, exact replies.

Takes methods, paths, header values and bodies; returns values. No sockets, clock or
environment. Every error is a 403 JSON ``{"errorMessage","errorType"}`` as RAPID renders it
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-runtime_api.html).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from typing import NamedTuple

from lambdarig import extensions_api as ext
from lambdarig import runtime_api
from lambdarig.rie_server.runtime.protocol import Reply

__all__ = ["Register", "Reply", "Route", "route"]


class Route(enum.Enum):
    """Every endpoint under ``/2020-01-01/extension/``."""

    REGISTER = "register"
    EVENT_NEXT = "event_next"
    INIT_ERROR = "init_error"
    EXIT_ERROR = "exit_error"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"


_ROUTES: dict[str, tuple[str, Route]] = {
    ext.PATH_REGISTER: ("POST", Route.REGISTER),
    ext.PATH_EVENT_NEXT: ("GET", Route.EVENT_NEXT),
    ext.PATH_INIT_ERROR: ("POST", Route.INIT_ERROR),
    ext.PATH_EXIT_ERROR: ("POST", Route.EXIT_ERROR),
}
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# What we accept as a name: a file name's printable characters, no path separators.
_NAME = re.compile(r"[A-Za-z0-9._\-+@=,~]{1,128}")  # 128 = MAX_NAME_LENGTH


def valid_name(name: str) -> bool:
    """Whether ``name`` may name an extension (a plain file name of accepted characters)."""
    return _NAME.fullmatch(name) is not None


def route(method: str, path: str) -> Route:
    """Map ``(method, path)`` to a route; wrong method -> ``METHOD_NOT_ALLOWED``."""
    found = _ROUTES.get(path)
    if found is None:
        return Route.NOT_FOUND
    wanted, which = found
    return which if method == wanted else Route.METHOD_NOT_ALLOWED


# --- replies -------------------------------------------------------------------------------------


def _error(status: int, error_type: str, message: str) -> Reply:
    body = json.dumps({"errorMessage": message, "errorType": error_type}, separators=(",", ":"))
    return Reply(status, body.encode() + b"\n")


def forbidden(error_type: str, message: str) -> Reply:
    """403 with RAPID's JSON error body."""
    return _error(403, error_type, message)


def accepted() -> Reply:
    """202 ``{"status":"OK"}`` (``init/error``, ``exit/error``)."""
    return Reply(202, runtime_api.STATUS_OK_BODY)


def not_found() -> Reply:
    return _error(404, "NotFound", "Not Found")


def method_not_allowed() -> Reply:
    return _error(405, "MethodNotAllowed", "Method Not Allowed")


def too_large() -> Reply:
    return forbidden(ext.ERROR_INVALID_REQUEST_FORMAT, "request body too large")


def registered(identifier: str, info: Mapping[str, str]) -> Reply:
    """200: the registration's answer, with the identifier every later call must send."""
    body = json.dumps(dict(info), separators=(",", ":")).encode()
    headers = {"Content-Type": runtime_api.CONTENT_TYPE_JSON, ext.HEADER_IDENTIFIER: identifier}
    return Reply(200, body, headers)


def event_reply(event_id: str, event: Mapping[str, object]) -> Reply:
    """200: one event for ``/event/next``."""
    body = json.dumps(dict(event), separators=(",", ":")).encode()
    headers = {"Content-Type": runtime_api.CONTENT_TYPE_JSON, ext.HEADER_EVENT_IDENTIFIER: event_id}
    return Reply(200, body, headers)


def registration_closed() -> Reply:
    return forbidden(ext.ERROR_REGISTRATION_CLOSED, ext.MESSAGE_REGISTRATION_CLOSED)


def too_many() -> Reply:
    return forbidden(ext.ERROR_TOO_MANY, ext.MESSAGE_TOO_MANY.format(limit=ext.MAX_EXTENSIONS))


def already_registered() -> Reply:
    return forbidden(ext.ERROR_INVALID_STATE, ext.MESSAGE_ALREADY_REGISTERED)


def invalid_transition(from_state: str, to_state: str, name: str, error: str) -> Reply:
    message = ext.MESSAGE_STATE_TRANSITION.format(
        from_state=from_state, to_state=to_state, name=name, error=error
    )
    return forbidden(ext.ERROR_INVALID_STATE, message)


def unknown_identifier(identifier: str) -> Reply:
    message = ext.MESSAGE_UNKNOWN_IDENTIFIER.format(identifier=identifier)
    return forbidden(ext.ERROR_UNKNOWN_IDENTIFIER, message)


# --- requests ------------------------------------------------------------------------------------


def identifier(headers: Mapping[str, str]) -> str | Reply:
    """The ``Lambda-Extension-Identifier`` (lower-case UUID), or the 403 for a missing or
    malformed one. Whether it names a registered extension is the registry's question."""
    value = headers.get(ext.HEADER_IDENTIFIER)
    if not value:
        return forbidden(ext.ERROR_MISSING_IDENTIFIER, ext.MESSAGE_MISSING_IDENTIFIER)
    if _UUID.fullmatch(value) is None:
        return forbidden(ext.ERROR_INVALID_IDENTIFIER, ext.MESSAGE_INVALID_IDENTIFIER)
    return value.lower()


class Register(NamedTuple):
    """A valid ``/register`` request."""

    name: str
    events: tuple[str, ...]
    account_id_wanted: bool


def parse_register(headers: Mapping[str, str], body: bytes) -> Register | Reply:
    """Validate a ``/register``: name header, JSON body with an ``events`` list of known types,
    no ``configurationKeys``. Returns the request or its 403."""
    name = headers.get(ext.HEADER_NAME, "")
    if not name:
        return forbidden(ext.ERROR_INVALID_NAME, ext.MESSAGE_EMPTY_NAME)
    if _NAME.fullmatch(name) is None:
        message = (
            f"expected a file name of at most {ext.MAX_NAME_LENGTH} characters "
            f"[A-Za-z0-9._-+@=,~], got {len(name)} characters"
        )
        return forbidden(ext.ERROR_INVALID_NAME, message)
    if len(body) > ext.MAX_BODY_SIZE:
        return too_large()
    parsed = _parse_events(body)
    if isinstance(parsed, Reply):
        return parsed
    features = headers.get(ext.HEADER_ACCEPT_FEATURE, "")
    wanted = ext.FEATURE_ACCOUNT_ID in (part.strip() for part in features.split(","))
    return Register(name, parsed, wanted)


def _parse_events(body: bytes) -> tuple[str, ...] | Reply:
    try:
        document = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError) as exc:
        return forbidden(ext.ERROR_INVALID_REQUEST_FORMAT, f"expected a JSON object: {exc}")
    if not isinstance(document, dict):
        message = f"expected a JSON object, got {type(document).__name__}"
        return forbidden(ext.ERROR_INVALID_REQUEST_FORMAT, message)
    if "configurationKeys" in document:
        return forbidden(ext.ERROR_INVALID_REQUEST_FORMAT, ext.MESSAGE_CONFIGURATION_KEYS)
    events = document.get("events", [])
    if not isinstance(events, list) or not all(isinstance(item, str) for item in events):
        message = 'expected "events" to be a list of strings'
        return forbidden(ext.ERROR_INVALID_REQUEST_FORMAT, message)
    for event in events:
        if event not in ext.EVENT_TYPES:
            shown = json.dumps(event[:64])  # quoted and escaped: never a control character
            return invalid_event(shown, "unknown event type")
    return tuple(dict.fromkeys(events))


def invalid_event(event: str, reason: str) -> Reply:
    return forbidden(ext.ERROR_INVALID_EVENT_TYPE, f"{event}: {reason}")


def internal_shutdown() -> Reply:
    """An internal extension asked for ``SHUTDOWN`` (only external ones may)."""
    return invalid_event(ext.EVENT_SHUTDOWN, "internal extensions cannot subscribe to SHUTDOWN")


def error_type(headers: Mapping[str, str]) -> str | Reply:
    """The required ``Lambda-Extension-Function-Error-Type`` of ``init/error``/``exit/error``."""
    value = headers.get(ext.HEADER_FUNCTION_ERROR_TYPE)
    if not value:
        return forbidden(ext.ERROR_MISSING_HEADER, ext.MESSAGE_MISSING_ERROR_TYPE)
    return value[:256]


# --- events --------------------------------------------------------------------------------------


def invoke_event(
    request_id: str, deadline_ms: int, function_arn: str, trace_id: str | None
) -> dict[str, object]:
    """The ``INVOKE`` event body (``tracing`` only when the invocation has a trace id)."""
    event: dict[str, object] = {
        "eventType": ext.EVENT_INVOKE,
        "deadlineMs": deadline_ms,
        "requestId": request_id,
        "invokedFunctionArn": function_arn,
    }
    if trace_id:
        event["tracing"] = {"type": ext.TRACING_TYPE, "value": trace_id}
    return event


def shutdown_event(reason: str, deadline_ms: int) -> dict[str, object]:
    """The ``SHUTDOWN`` event body."""
    return {"eventType": ext.EVENT_SHUTDOWN, "shutdownReason": reason, "deadlineMs": deadline_ms}


def register_info(
    function_name: str, version: str, handler: str, account_id: str | None
) -> dict[str, str]:
    """The ``/register`` answer's body fields (``accountId`` only when asked for)."""
    info = {"functionName": function_name, "functionVersion": version, "handler": handler}
    if account_id is not None:
        info["accountId"] = account_id
    return info
