"""The client side of the Runtime API as values: requests to send, statuses to expect (sans-IO).

Every function here takes and returns plain values; none touches a socket, the clock or the
environment. :mod:`lambdarig.runtime_client.client` pairs these with a transport.

Header choices follow awslambdaric 4.2.2 (its C++ client for ``next``/``response``/``error``, its
``http.client`` path for ``init/error`` and ``restore``): ``/error`` carries no
``Lambda-Runtime-Function-Error-Type`` (RAPID then records ``Runtime.Unknown``), ``/init/error`` and
``/restore/error`` do; ``Lambda-Runtime-Invocation-Id`` is echoed on ``/response`` (streamed
too) and ``/error`` whenever ``/next`` carried one. Statuses too: its C++ client takes any 2xx as
success for ``next``, ``response`` and ``error``; its ``http.client`` path wants exactly 202
(``init/error``, ``restore/error``) or 200 (``restore/next``).
"""

from __future__ import annotations

import binascii
import sys

from lambdarig import __version__
from lambdarig import runtime_api as wire
from lambdarig.runtime_client.errors import RuntimeAPIError, StaleInvocationError

TYPE_CHECKING = False  # typing is not imported at run time (cold start)
if TYPE_CHECKING:
    from collections.abc import Mapping

STATUS_OK = 200
STATUS_ACCEPTED = 202
STATUS_GONE = 410


def user_agent() -> str:
    """``aws-lambda-python/<python x.y.z>-lambdarig/<version>`` (awslambdaric's shape)."""
    v = sys.version_info
    return f"aws-lambda-python/{v.major}.{v.minor}.{v.micro}-lambdarig/{__version__}"


USER_AGENT = user_agent()


class HttpRequest:
    """One request to send: method, path (from the API root), headers and body.

    ``expected_status`` is the one status that means success, or ``None`` for any 2xx.
    """

    __slots__ = ("method", "path", "headers", "body", "expected_status")

    def __init__(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
        expected_status: int | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.expected_status = expected_status

    def __repr__(self) -> str:
        return (
            f"HttpRequest({self.method} {self.path}, headers={self.headers!r}, body={self.body!r})"
        )


def next_request() -> HttpRequest:
    """``GET /runtime/invocation/next`` (answered 200 with an invocation; any 2xx accepted)."""
    return HttpRequest("GET", wire.PATH_NEXT, {"User-Agent": USER_AGENT})


def response_request(inv: wire.Invocation, body: bytes, content_type: str) -> HttpRequest:
    """``POST /runtime/invocation/{id}/response`` with the marshalled result."""
    headers = {"User-Agent": USER_AGENT, "Content-Type": content_type}
    _echo_invocation_id(inv, headers)
    return HttpRequest("POST", wire.response_path(inv.request_id), headers, body)


def streaming_response_request(inv: wire.Invocation, content_type: str) -> HttpRequest:
    """The head of a streamed ``POST /runtime/invocation/{id}/response``; its body follows as
    :func:`encode_chunk` pieces and one :func:`last_chunk`. It declares the two error trailers
    (sent only when the function fails mid-stream).

    https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming
    """
    headers = {
        "User-Agent": USER_AGENT,
        "Content-Type": content_type,
        wire.HEADER_RESPONSE_MODE: wire.RESPONSE_MODE_STREAMING,
        "Transfer-Encoding": "chunked",
        "Trailer": ", ".join(wire.STREAMING_TRAILERS),
    }
    _echo_invocation_id(inv, headers)
    return HttpRequest("POST", wire.response_path(inv.request_id), headers)


def encode_chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body; ``b""`` for no data (a zero-size chunk would
    end the body)."""
    if not data:
        return b""
    return b"%x\r\n" % len(data) + data + b"\r\n"


def last_chunk(trailers: Mapping[str, str] | None = None) -> bytes:
    """The zero-size chunk ending a chunked body, with ``trailers`` (names and values must be
    free of control characters: ``ValueError`` otherwise)."""
    lines = [b"0\r\n"]
    for name, value in (trailers or {}).items():
        if not _is_header_safe(name) or not _is_header_safe(value):
            raise ValueError(f"expected a trailer without control characters, got {name!r}")
        lines.append(f"{name}: {value}\r\n".encode())
    lines.append(b"\r\n")
    return b"".join(lines)


def stream_error_trailers(error_type: str, error_body: bytes) -> dict[str, str]:
    """The trailers reporting a failure after the first streamed byte: the error type (control
    characters dropped; ``Runtime.Unknown`` if nothing is left) and the error JSON in base64."""
    safe_type = "".join(c for c in error_type if c >= " " and c != "\x7f") or wire.RUNTIME_UNKNOWN
    body = binascii.b2a_base64(error_body, newline=False).decode("ascii")
    return {wire.HEADER_FUNCTION_ERROR_TYPE: safe_type, wire.HEADER_FUNCTION_ERROR_BODY: body}


def error_request(inv: wire.Invocation, body: bytes, xray_cause: str | None) -> HttpRequest:
    """``POST /runtime/invocation/{id}/error`` with the error JSON and optional X-Ray cause.

    The cause is dropped when it is ``MAX_XRAY_CAUSE_SIZE`` bytes or larger (as awslambdaric).
    """
    headers = {"User-Agent": USER_AGENT, "Content-Type": wire.CONTENT_TYPE_JSON}
    _add_xray_cause(headers, xray_cause)
    _echo_invocation_id(inv, headers)
    return HttpRequest("POST", wire.error_path(inv.request_id), headers, body)


def init_error_request(body: bytes, error_type: str, xray_cause: str | None) -> HttpRequest:
    """``POST /runtime/init/error`` with ``Lambda-Runtime-Function-Error-Type: <error_type>``."""
    headers = {"User-Agent": USER_AGENT, wire.HEADER_FUNCTION_ERROR_TYPE: error_type}
    _add_xray_cause(headers, xray_cause)
    return HttpRequest("POST", wire.PATH_INIT_ERROR, headers, body, STATUS_ACCEPTED)


def restore_next_request() -> HttpRequest:
    """``GET /runtime/restore/next`` (SnapStart: returns 200 once restored from the snapshot)."""
    return HttpRequest("GET", wire.PATH_RESTORE_NEXT, {"User-Agent": USER_AGENT}, b"", STATUS_OK)


def restore_error_request(body: bytes, error_type: str) -> HttpRequest:
    """``POST /runtime/restore/error`` (SnapStart after-restore hook failure)."""
    headers = {"User-Agent": USER_AGENT, wire.HEADER_FUNCTION_ERROR_TYPE: error_type}
    return HttpRequest("POST", wire.PATH_RESTORE_ERROR, headers, body, STATUS_ACCEPTED)


def check_status(request: HttpRequest, status: int, body: bytes) -> None:
    """Accept the request's expected status (any 2xx when it has none); 410 →
    :class:`StaleInvocationError`; else :class:`RuntimeAPIError` (``Request to Lambda Runtime
    '<path>' endpoint failed. ...``)."""
    expected = request.expected_status
    if status == expected or (expected is None and 200 <= status < 300):
        return
    if status == STATUS_GONE:
        raise StaleInvocationError(request.path, status, body)
    raise RuntimeAPIError(request.path, status, body)


def parse_next_response(status: int, headers: Mapping[str, str], body: bytes) -> wire.Invocation:
    """The invocation carried by a ``/next`` response.

    Raises :class:`RuntimeAPIError` for any status but 200, and for a 200 without a request id or
    with a non-integer deadline (the ``ValueError`` naming the header is the ``__cause__``).
    """
    request = next_request()
    check_status(request, status, body)
    try:
        return wire.Invocation.from_headers(headers, body)
    except ValueError as exc:
        raise RuntimeAPIError(request.path, status, str(exc).encode()) from exc


def _echo_invocation_id(inv: wire.Invocation, headers: dict[str, str]) -> None:
    if inv.invocation_id:
        headers[wire.HEADER_INVOCATION_ID] = inv.invocation_id


def _is_header_safe(text: str) -> bool:
    return all(c >= " " and c != "\x7f" for c in text)


def _add_xray_cause(headers: dict[str, str], xray_cause: str | None) -> None:
    if xray_cause and len(xray_cause.encode()) < wire.MAX_XRAY_CAUSE_SIZE:
        headers[wire.HEADER_XRAY_ERROR_CAUSE] = xray_cause
