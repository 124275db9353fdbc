"""The Invoke API, sans-IO: an HTTP request in, an ``InvokeCall`` (or a ready answer) out; an
``InvokeOutcome`` in, the caller's HTTP answer out.

No sockets, no clock, no randomness: the request id and a generated trace id are passed in. Two
answer shapes are rendered: the Lambda service's (``CompatMode.SERVICE``, the default) and
aws-lambda-rie's (``CompatMode.RIE``) for callers whose tests expect its quirks (API_Invoke):

====================  ============================================  ===============================
outcome               service                                       aws-lambda-rie
====================  ============================================  ===============================
success               200, body                                     200, body
function error        200 + ``X-Amz-Function-Error: Unhandled``     200, no header
timeout               200 + Unhandled + ``Sandbox.Timedout`` JSON   200, plain text
crash                 200 + Unhandled + ``Runtime.ExitError`` JSON  502, same JSON
init error            200 + Unhandled + the posted error            502, the posted error
response too large    200 + Unhandled + ``Function.ResponseSize…``  502, errorType-first JSON
====================  ============================================  ===============================
"""

from __future__ import annotations

import binascii
import enum
import json
import re
from collections.abc import Mapping
from typing import NamedTuple

from lambdarig import invoke_api
from lambdarig.rie_server.choices import CompatMode as CompatMode  # re-exported
from lambdarig.rie_server.choices import FunctionIdentity
from lambdarig.rie_server.environments.outcomes import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.invoke.input import client_context, load_json, trace_header
from lambdarig.rie_server.invoke.names import executed_version, resolve_function
from lambdarig.runtime_api import (
    CONTENT_TYPE_JSON,
    FUNCTION_RESPONSE_SIZE_TOO_LARGE,
    MAX_PAYLOAD_SIZE,
    MESSAGE_RESPONSE_TOO_LARGE,
    SANDBOX_TIMEDOUT,
)

# The headers ``parse_invoke`` reads, as keys of its lower-cased copy (lowered once, here).
_KEY_CLIENT_CONTEXT = invoke_api.HEADER_CLIENT_CONTEXT.lower()
_KEY_TENANT_ID = invoke_api.HEADER_TENANT_ID.lower()
_KEY_LOG_TYPE = invoke_api.HEADER_LOG_TYPE.lower()
_KEY_TRACE_ID = invoke_api.HEADER_TRACE_ID.lower()
_KEY_REQUEST_ID = invoke_api.HEADER_REQUEST_ID_IN.lower()
_KEY_INVOCATION_TYPE = invoke_api.HEADER_INVOCATION_TYPE.lower()


class InvocationType(enum.Enum):
    REQUEST_RESPONSE = invoke_api.INVOCATION_TYPE_REQUEST_RESPONSE
    EVENT = invoke_api.INVOCATION_TYPE_EVENT
    DRY_RUN = invoke_api.INVOCATION_TYPE_DRY_RUN


_INVOCATION_TYPES = {member.value: member for member in InvocationType}  # by header value
# Enum members read on every invoke, bound once: a member read off its class goes through the
# metaclass's attribute hook (``EnumType.__getattr__``), about five times a module global.
_RIE, _EVENT = CompatMode.RIE, InvocationType.EVENT
_SUCCESS, _FUNCTION_ERROR = OutcomeKind.SUCCESS, OutcomeKind.FUNCTION_ERROR


class HttpResponse(NamedTuple):
    """An answer ready for the wire."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``None``."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class InvokeCall(NamedTuple):
    """A valid invoke request, ready to be run by an execution environment."""

    request_id: str
    invocation_type: InvocationType
    tail: bool
    payload: bytes
    invoked_function_arn: str
    trace_id: str | None
    client_context: str | None = None
    tenant_id: str | None = None


class RawRequest(NamedTuple):
    """What the I/O layer read: ``path`` undecoded, ``headers`` with any key casing."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes


def parse_invoke(
    raw: RawRequest,
    function: FunctionIdentity,
    mode: CompatMode,
    request_id: str,
    generated_trace_id: str,
    invoked_arn: str | None = None,
) -> InvokeCall | HttpResponse:
    """Validate ``raw``; return the call to run, or the answer to send without running anything.

    ``request_id`` is the generated id; the service uses a caller's ``X-Amzn-RequestId`` instead
    when it is a UUID (``InvokeCall.request_id``), and answers 400 when it is not. What may reach
    the runtime from the headers and the body is checked by ``invoke.input``; a header with a
    control character never gets here (the HTTP layer answers 400 for it, ``http.grammar``).
    ``invoked_arn``: the target, already resolved by the caller (``names.resolve_among``).
    """
    headers = {key.lower(): value for key, value in raw.headers.items()}
    if mode is _RIE:
        return _parse_rie(raw, headers, function, request_id)
    arn_or_error = invoked_arn or _resolve_target(raw, function, request_id)
    if isinstance(arn_or_error, HttpResponse):
        return arn_or_error
    id_or_error = _request_id(headers, request_id)
    if isinstance(id_or_error, HttpResponse):
        return id_or_error
    request_id = id_or_error
    type_or_error = _invocation_type(headers, request_id)
    if isinstance(type_or_error, HttpResponse):
        return type_or_error
    too_large = _check_size(raw.body, type_or_error, request_id)
    if too_large is not None:
        return too_large
    payload = raw.body if raw.body.strip() else b"{}"
    invalid = _check_json(payload, request_id)
    if invalid is not None:
        return invalid
    context = client_context(headers.get(_KEY_CLIENT_CONTEXT), service=True)
    if context is None:
        return _invalid_content(invoke_api.MESSAGE_BAD_CLIENT_CONTEXT, request_id)
    tenant_id = headers.get(_KEY_TENANT_ID)
    if tenant_id is not None and not re.fullmatch(invoke_api.TENANT_ID_PATTERN, tenant_id):
        return service_error(
            400,
            invoke_api.ERROR_INVALID_PARAMETER_VALUE,
            invoke_api.MESSAGE_BAD_TENANT_ID,
            request_id,
        )
    return InvokeCall(
        request_id=request_id,
        invocation_type=type_or_error,
        tail=headers.get(_KEY_LOG_TYPE) == invoke_api.LOG_TYPE_TAIL,
        payload=payload,
        invoked_function_arn=arn_or_error,
        trace_id=trace_header(headers.get(_KEY_TRACE_ID)) or generated_trace_id,
        client_context=context or None,
        tenant_id=tenant_id,
    )


def _request_id(headers: Mapping[str, str], generated: str) -> str | HttpResponse:
    """The caller's ``X-Amzn-RequestId`` when it is a UUID, else ``generated``; 400 otherwise."""
    supplied = headers.get(_KEY_REQUEST_ID)
    if supplied is None:
        return generated
    if not re.fullmatch(invoke_api.REQUEST_ID_PATTERN, supplied):
        return _invalid_content(invoke_api.MESSAGE_BAD_REQUEST_ID.format(value=supplied), generated)
    return supplied


def _parse_rie(
    raw: RawRequest, headers: Mapping[str, str], function: FunctionIdentity, request_id: str
) -> InvokeCall | HttpResponse:
    """aws-lambda-rie: any method, literal name ``function``, bodies cut, headers ignored."""
    if raw.path != invoke_api.PATH_INVOKE.format(name=invoke_api.RIE_FUNCTION_NAME):
        return HttpResponse(
            404,
            (("Content-Type", invoke_api.RIE_TEXT_CONTENT_TYPE),),
            invoke_api.RIE_NOT_FOUND_BODY,
        )
    context = client_context(headers.get(_KEY_CLIENT_CONTEXT), service=False)
    if context is None:
        return HttpResponse(500, ())
    return InvokeCall(
        request_id=request_id,
        invocation_type=InvocationType.REQUEST_RESPONSE,
        tail=False,
        payload=raw.body[:MAX_PAYLOAD_SIZE],
        invoked_function_arn=function.arn,
        trace_id=trace_header(headers.get(_KEY_TRACE_ID)),
        client_context=context or None,
        tenant_id=headers.get(_KEY_TENANT_ID),
    )


def _resolve_target(
    raw: RawRequest, function: FunctionIdentity, request_id: str
) -> str | HttpResponse:
    """The ARN the caller invoked (qualified when it named a qualifier), or a 404/400 answer."""
    target = resolve_function(
        raw.method, raw.path, raw.query.get(invoke_api.QUERY_QUALIFIER), function
    )
    if isinstance(target, str):
        return target
    status, error_type, message = target
    return service_error(status, error_type, message, request_id)


def _invocation_type(headers: Mapping[str, str], request_id: str) -> InvocationType | HttpResponse:
    value = headers.get(_KEY_INVOCATION_TYPE, invoke_api.INVOCATION_TYPE_REQUEST_RESPONSE)
    found = _INVOCATION_TYPES.get(value)
    if found is not None:
        return found
    message = invoke_api.MESSAGE_BAD_INVOCATION_TYPE.format(value=value)
    return service_error(400, invoke_api.ERROR_INVALID_PARAMETER_VALUE, message, request_id)


def payload_limit(invocation_type: InvocationType) -> int:
    """The largest request body the service accepts for ``invocation_type``."""
    if invocation_type is _EVENT:
        return invoke_api.MAX_ASYNC_REQUEST_SIZE
    return invoke_api.MAX_SYNC_REQUEST_SIZE


def _check_size(
    body: bytes, invocation_type: InvocationType, request_id: str
) -> HttpResponse | None:
    limit = payload_limit(invocation_type)
    return request_too_large(limit, request_id) if len(body) > limit else None


def request_too_large(limit: int, request_id: str) -> HttpResponse:
    """413 ``RequestTooLargeException`` for a body over ``limit`` bytes."""
    message = invoke_api.MESSAGE_REQUEST_TOO_LARGE.format(limit=limit)
    return service_error(413, invoke_api.ERROR_REQUEST_TOO_LARGE, message, request_id)


def _check_json(payload: bytes, request_id: str) -> HttpResponse | None:
    try:
        load_json(payload)
    except ValueError as exc:  # UnicodeDecodeError included
        return _invalid_content(invoke_api.MESSAGE_INVALID_JSON.format(detail=exc), request_id)
    return None


def _invalid_content(message: str, request_id: str) -> HttpResponse:
    return service_error(400, invoke_api.ERROR_INVALID_REQUEST_CONTENT, message, request_id)


def service_error(status: int, error_type: str, message: str, request_id: str) -> HttpResponse:
    """A non-2xx Invoke API answer: ``x-amzn-ErrorType`` + ``{"Type":"User","Message":…}``."""
    body = {"Type": invoke_api.ERROR_TYPE_USER if status < 500 else invoke_api.ERROR_TYPE_SERVICE}
    body["Message"] = message
    return _json_answer(status, error_type, body, request_id)


def snapstart_error(outcome: InvokeOutcome, request_id: str) -> HttpResponse:
    """A SnapStart restore that failed: 408 ``SnapStartTimeoutException`` when the after-restore
    hooks ran out of time, else 400 ``SnapStartException``."""
    if outcome.error_type == SANDBOX_TIMEDOUT:
        return service_error(
            408,
            invoke_api.ERROR_SNAPSTART_TIMEOUT,
            invoke_api.MESSAGE_SNAPSTART_TIMEOUT,
            request_id,
        )
    return service_error(400, invoke_api.ERROR_SNAPSTART, invoke_api.MESSAGE_SNAPSTART, request_id)


def throttled(request_id: str, reason: str = invoke_api.THROTTLE_REASON_CONCURRENT) -> HttpResponse:
    """429 ``TooManyRequestsException``: every environment is busy at the concurrency limit
    (``reason``: ``THROTTLE_REASON_RESERVED`` when it is the function's reserved concurrency)."""
    body = {
        "Reason": reason,
        "Type": invoke_api.ERROR_TYPE_USER,
        "message": invoke_api.MESSAGE_RATE_EXCEEDED,
    }
    return _json_answer(429, invoke_api.ERROR_TOO_MANY_REQUESTS, body, request_id)


def _json_answer(
    status: int, error_type: str, body: Mapping[str, str], request_id: str
) -> HttpResponse:
    headers = (
        ("Content-Type", CONTENT_TYPE_JSON),
        (invoke_api.HEADER_REQUEST_ID, request_id),
        (invoke_api.HEADER_ERROR_TYPE, error_type),
    )
    return HttpResponse(status, headers, _compact_json(body))


def accepted(call: InvokeCall, function: FunctionIdentity) -> HttpResponse:
    """The immediate answer to an ``Event`` (202) or ``DryRun`` (204) call: no
    ``X-Amz-Executed-Version`` (nothing has run; the service sends none for either)."""
    status = invoke_api.STATUS_EVENT
    if call.invocation_type is InvocationType.DRY_RUN:
        status = invoke_api.STATUS_DRY_RUN
    return HttpResponse(status, ((invoke_api.HEADER_REQUEST_ID, call.request_id),))


def render_outcome(
    call: InvokeCall,
    outcome: InvokeOutcome,
    function: FunctionIdentity,
    mode: CompatMode,
    timeout_s: float,
    log_tail: bytes | None = None,
) -> HttpResponse:
    """The caller's answer to a synchronous invoke that ran; ``log_tail`` feeds Tail."""
    body = outcome_body(outcome)
    if mode is _RIE:
        return _render_rie(outcome, body, timeout_s)
    if outcome.restore_error:
        return snapstart_error(outcome, call.request_id)
    headers = [
        ("Content-Type", CONTENT_TYPE_JSON),
        (invoke_api.HEADER_REQUEST_ID, call.request_id),
        (invoke_api.HEADER_EXECUTED_VERSION, executed_version(call.invoked_function_arn, function)),
    ]
    if outcome.kind is not _SUCCESS:
        headers.append((invoke_api.HEADER_FUNCTION_ERROR, invoke_api.FUNCTION_ERROR_UNHANDLED))
    if call.tail and log_tail is not None:
        headers.append((invoke_api.HEADER_LOG_RESULT, base64_text(log_tail)))
    return HttpResponse(invoke_api.STATUS_REQUEST_RESPONSE, tuple(headers), body)


def base64_text(data: bytes) -> str:
    """``base64.b64encode(data)`` as text (a Tail's ``LogResult``): its own primitive, so that a
    plain invoke does not load ``base64`` (and ``struct``)."""
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _render_rie(outcome: InvokeOutcome, body: bytes, timeout_s: float) -> HttpResponse:
    if outcome.kind is OutcomeKind.TIMEOUT:
        text = invoke_api.RIE_TIMEOUT_MESSAGE.format(seconds=timeout_s).encode("utf-8")
        return HttpResponse(200, (("Content-Type", invoke_api.RIE_TEXT_CONTENT_TYPE),), text)
    status = 200
    if outcome.kind is OutcomeKind.RESPONSE_TOO_LARGE:
        # Observed from aws-lambda-rie: 502, and RAPID's errorType-first key order.
        message = MESSAGE_RESPONSE_TOO_LARGE.format(limit=MAX_PAYLOAD_SIZE)
        body = _compact_json(
            {"errorType": FUNCTION_RESPONSE_SIZE_TOO_LARGE, "errorMessage": message}
        )
    if outcome.kind in (OutcomeKind.CRASH, OutcomeKind.INIT_ERROR, OutcomeKind.RESPONSE_TOO_LARGE):
        status = invoke_api.RIE_STATUS_RUNTIME_FAILURE
    return HttpResponse(status, (("Content-Type", invoke_api.RIE_TEXT_CONTENT_TYPE),), body)


def outcome_body(outcome: InvokeOutcome) -> bytes:
    """The body the caller sees: what the runtime posted, or the platform's error JSON."""
    kind = outcome.kind
    if kind is _SUCCESS or kind is _FUNCTION_ERROR:
        return outcome.body
    if kind is OutcomeKind.INIT_ERROR and outcome.body:
        return outcome.body
    if kind is OutcomeKind.RESPONSE_TOO_LARGE:
        message = MESSAGE_RESPONSE_TOO_LARGE.format(limit=MAX_PAYLOAD_SIZE)
        return _compact_json(
            {"errorMessage": message, "errorType": FUNCTION_RESPONSE_SIZE_TOO_LARGE}
        )
    # Synthesised platform errors put errorType first, as RAPID does.
    return _compact_json(
        {"errorType": outcome.error_type or "", "errorMessage": outcome.error_message or ""}
    )


def _compact_json(value: Mapping[str, str]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")
