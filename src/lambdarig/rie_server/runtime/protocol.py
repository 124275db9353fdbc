"""Server side of the Runtime API, sans-IO: routing, exact replies, error-type sanitising.

Takes methods, paths, header values and sizes; returns values (``Match``, ``Reply``). No sockets,
clock or environment. Every status and body here is the one RAPID/the service sends
(runtimes-runtime_api.html; RAPID's rapi/).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from lambdarig import invoke_api, runtime_api


class Route(enum.Enum):
    """Every endpoint the environment's Runtime API listener serves."""

    NEXT = "next"
    RESPONSE = "response"
    ERROR = "error"
    INIT_ERROR = "init_error"
    RESTORE_NEXT = "restore_next"  # SnapStart only: 404 elsewhere, as in aws-lambda-rie
    RESTORE_ERROR = "restore_error"
    PING = "ping"
    LOGS = "logs"
    TELEMETRY = "telemetry"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"


class Match(NamedTuple):
    """A routed request: the route and, for per-invocation posts, the request id in the path."""

    route: Route
    request_id: str | None = None


_JSON: Mapping[str, str] = MappingProxyType({"Content-Type": runtime_api.CONTENT_TYPE_JSON})


class Reply(NamedTuple):
    """A complete answer to the runtime: status, body and headers."""

    status: int
    body: bytes
    headers: Mapping[str, str] = _JSON


_INVOCATION_PREFIX = runtime_api.PREFIX + "/runtime/invocation/"
_FIXED: dict[str, tuple[str, Route]] = {
    runtime_api.PATH_NEXT: ("GET", Route.NEXT),
    runtime_api.PATH_INIT_ERROR: ("POST", Route.INIT_ERROR),
    runtime_api.PATH_RESTORE_NEXT: ("GET", Route.RESTORE_NEXT),
    runtime_api.PATH_RESTORE_ERROR: ("POST", Route.RESTORE_ERROR),
    runtime_api.PATH_PING: ("GET", Route.PING),
    runtime_api.PATH_LOGS: ("PUT", Route.LOGS),
    runtime_api.PATH_TELEMETRY: ("PUT", Route.TELEMETRY),
}
_ERROR_TYPE_PATTERN = r"(Runtime|Function)\.[A-Z][a-zA-Z]+"  # compiled by re on first use
_TEXT: Mapping[str, str] = {"Content-Type": invoke_api.RIE_TEXT_CONTENT_TYPE}
_ACTIONS = {"response": Route.RESPONSE, "error": Route.ERROR}  # .../invocation/{id}/<action>
# Read on every post, bound once: a member read off its Enum class goes through the
# metaclass's attribute hook (``EnumType.__getattr__``), about five times a module global.
_RESPONSE = Route.RESPONSE


def route(method: str, path: str) -> Match:
    """Map ``(method, path)`` to a route; wrong method -> ``METHOD_NOT_ALLOWED``."""
    fixed = _FIXED.get(path)
    if fixed is not None:
        wanted, found = fixed
        return Match(found) if method == wanted else Match(Route.METHOD_NOT_ALLOWED)
    if path.startswith(_INVOCATION_PREFIX):
        request_id, _, action = path[len(_INVOCATION_PREFIX) :].partition("/")
        kind = _ACTIONS.get(action)
        if request_id and kind is not None:
            if method != "POST":
                return Match(Route.METHOD_NOT_ALLOWED)
            return Match(kind, request_id)
    return Match(Route.NOT_FOUND)


def _json_reply(status: int, error_type: str, message: str) -> Reply:
    body = json.dumps({"errorMessage": message, "errorType": error_type}, separators=(",", ":"))
    return Reply(status, body.encode() + b"\n")


def accepted() -> Reply:
    """202 ``{"status":"OK"}``: the post was taken."""
    return Reply(202, runtime_api.STATUS_OK_BODY)


def invalid_request_id() -> Reply:
    """400: the path names no invocation this runtime may post for."""
    return _json_reply(
        400, runtime_api.ERROR_INVALID_REQUEST_ID, runtime_api.MESSAGE_INVALID_REQUEST_ID
    )


def invalid_transition(from_state: str, to_state: str) -> Reply:
    """403: the runtime's state forbids this step (RAPID's message with the state names)."""
    message = runtime_api.MESSAGE_STATE_TRANSITION.format(from_state=from_state, to_state=to_state)
    return _json_reply(403, runtime_api.ERROR_INVALID_STATE_TRANSITION, message)


def payload_too_large() -> Reply:
    """413: the posted body exceeds ``MAX_PAYLOAD_SIZE``."""
    message = runtime_api.MESSAGE_PAYLOAD_TOO_LARGE.format(limit=runtime_api.MAX_PAYLOAD_SIZE)
    return _json_reply(413, runtime_api.ERROR_PAYLOAD_TOO_LARGE, message)


def truncated() -> Reply:
    """400: the body ended before its declared length."""
    return _json_reply(400, runtime_api.ERROR_TRUNCATED, runtime_api.MESSAGE_TRUNCATED)


def invalid_response_mode() -> Reply:
    """400: ``Lambda-Runtime-Function-Response-Mode`` is neither absent nor ``streaming``."""
    return _json_reply(
        400, runtime_api.ERROR_INVALID_RESPONSE_MODE, runtime_api.MESSAGE_INVALID_RESPONSE_MODE
    )


def stale_invocation() -> Reply:
    """410: the echoed ``Lambda-Runtime-Invocation-Id`` belongs to an older invocation."""
    return _json_reply(410, runtime_api.ERROR_INVOKE_TIMEOUT, runtime_api.MESSAGE_INVOKE_TIMEOUT)


def internal_error() -> Reply:
    """500: the emulator failed; the runtime should exit."""
    return _json_reply(500, runtime_api.ERROR_INTERNAL, runtime_api.MESSAGE_INTERNAL)


def not_supported(match: Route) -> Reply:
    """202 ``Logs.NotSupported`` / ``Telemetry.NotSupported``, as classic RAPID answers."""
    name = "Logs" if match is Route.LOGS else "Telemetry"
    error_type = runtime_api.ERROR_NOT_SUPPORTED.format(api=name)
    return _json_reply(202, error_type, runtime_api.MESSAGE_NOT_SUPPORTED.format(api=name))


def restored() -> Reply:
    """200 to ``GET /restore/next``: the environment was restored from its snapshot."""
    return Reply(200, b"")


def pong() -> Reply:
    """200 ``pong`` for ``GET /2018-06-01/ping``."""
    return Reply(200, runtime_api.PING_BODY, _TEXT)


def not_found() -> Reply:
    """404 for paths outside the Runtime API."""
    return Reply(404, invoke_api.RIE_NOT_FOUND_BODY, _TEXT)


def method_not_allowed() -> Reply:
    """405 for a known path with the wrong method."""
    return Reply(405, b"", _TEXT)


def check_post(
    content_length: int | None, received: int, response_mode: str | None, route_: Route
) -> Reply | None:
    """Validation that needs no state: response mode, size, truncation. ``None`` = acceptable.

    ``content_length`` is the declared length (``None`` for chunked), ``received`` the bytes read
    (reading stops just past ``MAX_PAYLOAD_SIZE``).
    """
    if (
        route_ is _RESPONSE
        and response_mode
        and response_mode != runtime_api.RESPONSE_MODE_STREAMING
    ):
        return invalid_response_mode()
    if (
        received > runtime_api.MAX_PAYLOAD_SIZE
        or (content_length or 0) > runtime_api.MAX_PAYLOAD_SIZE
    ):
        return payload_too_large()
    if content_length is not None and received < content_length:
        return truncated()
    return None


def sanitize_error_type(value: str | None) -> str:
    """RAPID's ``GetValidRuntimeOrFunctionErrorType``: keep a value containing
    ``(Runtime|Function).Reason``, else ``Function.Unknown`` / ``Runtime.Unknown``."""
    if value and re.search(_ERROR_TYPE_PATTERN, value):
        return value
    if value and value.startswith("Function."):
        return runtime_api.FUNCTION_UNKNOWN
    return runtime_api.RUNTIME_UNKNOWN


def next_headers(invocation: runtime_api.Invocation) -> dict[str, str]:
    """Headers of a ``/next`` answer; ``Content-Type`` is always present (awslambdaric needs it)."""
    headers = invocation.to_headers()
    headers.setdefault("Content-Type", runtime_api.CONTENT_TYPE_JSON)
    return headers


def error_body(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """What the invoker sees for a posted ``/error`` body (RAPID ``invocationerror.go``).

    A body typed ``application/vnd.aws.lambda.error.cause+json`` loses its ``errorCause`` (the
    X-Ray cause) and is forwarded as JSON; if it does not parse, the JSON string
    ``"Invalid error body"`` is forwarded instead. Any other body passes through verbatim.
    """
    if content_type != runtime_api.CONTENT_TYPE_ERROR_CAUSE:
        return body, content_type
    try:
        parsed = json.loads(body)
    except ValueError:
        return runtime_api.INVALID_ERROR_BODY, runtime_api.CONTENT_TYPE_OCTET_STREAM
    if not isinstance(parsed, dict):
        return runtime_api.INVALID_ERROR_BODY, runtime_api.CONTENT_TYPE_OCTET_STREAM
    parsed.pop("errorCause", None)
    return json.dumps(parsed, separators=(",", ":")).encode(), runtime_api.CONTENT_TYPE_JSON


# --- Errors the platform synthesises for the invoker (RAPID's fatalerror, API_Invoke) -------------
# Go's names for signals, as RAPID prints them after "signal: ".
_SIGNAL_NAMES = {
    1: "hangup",
    2: "interrupt",
    3: "quit",
    4: "illegal instruction",
    5: "trace/breakpoint trap",
    6: "aborted",
    7: "bus error",
    8: "floating point exception",
    9: "killed",
    10: "user defined signal 1",
    11: "segmentation fault",
    12: "user defined signal 2",
    13: "broken pipe",
    14: "alarm clock",
    15: "terminated",
}


def _prefix(request_id: str | None) -> str:
    if not request_id:
        return runtime_api.ERROR_MESSAGE_PREFIX_NO_ID
    return runtime_api.ERROR_MESSAGE_PREFIX.format(request_id=request_id)


def timeout_message(request_id: str | None, timeout_s: float) -> str:
    """``RequestId: <id> Error: Task timed out after 3.00 seconds`` (two decimals)."""
    return _prefix(request_id) + invoke_api.RIE_TIMEOUT_MESSAGE.format(seconds=timeout_s)


def exit_message(request_id: str | None, returncode: int) -> str:
    """The service's ``Runtime.ExitError`` message for a runtime that exited with ``returncode``
    (negative = killed by that signal)."""
    if returncode == 0:
        return _prefix(request_id) + runtime_api.MESSAGE_EXIT_NO_REASON
    if returncode < 0:
        name = _SIGNAL_NAMES.get(-returncode, f"signal {-returncode}")
        return _prefix(request_id) + runtime_api.MESSAGE_EXIT_SIGNAL.format(name=name)
    return _prefix(request_id) + runtime_api.MESSAGE_EXIT_STATUS.format(status=returncode)


def response_too_large_message() -> str:
    """The service's ``Function.ResponseSizeTooLarge`` message."""
    return runtime_api.MESSAGE_RESPONSE_TOO_LARGE.format(limit=runtime_api.MAX_PAYLOAD_SIZE)
