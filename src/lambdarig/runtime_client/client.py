"""RuntimeAPIClient: each Runtime API call = build the request (protocol) → send it (transport) →
check the status (protocol). No retries, no logging, no hidden policy: callers decide (see
:mod:`lambdarig.runtime_client.loop` and :mod:`lambdarig.runtime_client.concurrency`).
"""

from __future__ import annotations

from lambdarig.runtime_client import protocol

TYPE_CHECKING = False  # typing is not imported at run time (cold start)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from lambdarig.runtime_api import Invocation
    from lambdarig.runtime_client.streaming import ResponseStream
    from lambdarig.runtime_client.transport import Transport


class RuntimeAPIClient:
    """Talks to the Runtime API through ``transport``.

    Every method blocks until the platform answers (``next_invocation`` without a timeout) and
    raises :class:`~lambdarig.runtime_client.errors.StaleInvocationError` on 410,
    :class:`~lambdarig.runtime_client.errors.RuntimeAPIError` on any other unexpected status and
    :class:`~lambdarig.runtime_client.errors.RuntimeAPIUnreachable` when the API cannot be reached.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def next_invocation(self, while_waiting: Callable[[], object] | None = None) -> Invocation:
        """``GET /next``: wait for the next invocation (also: the previous one has ended).
        ``while_waiting`` runs at most once, after the request is sent (``Transport.request``)."""
        request = protocol.next_request()
        response = self.transport.request(
            request.method, request.path, request.headers, while_waiting=while_waiting
        )
        return protocol.parse_next_response(response.status, response.headers, response.body)

    def post_response(self, inv: Invocation, body: bytes, content_type: str) -> None:
        """``POST /invocation/{id}/response``: report a successful result (202 expected)."""
        self._send(protocol.response_request(inv, body, content_type))

    def post_stream(self, inv: Invocation, stream: ResponseStream) -> None:
        """Streamed ``POST /invocation/{id}/response`` (202 expected): each chunk is sent as the
        handler produces it; a failure after the first chunk ends the body with the
        ``Lambda-Runtime-Function-Error-Type``/``-Body`` trailers. ``stream`` is closed before
        this returns or raises."""
        request = protocol.streaming_response_request(inv, stream.content_type)
        try:
            response = self.transport.stream(
                request.method, request.path, request.headers, _chunked(stream)
            )
        finally:
            stream.close()
        protocol.check_status(request, response.status, response.body)

    def post_error(self, inv: Invocation, body: bytes, xray_cause: str | None) -> None:
        """``POST /invocation/{id}/error``: report a function error (202 expected)."""
        self._send(protocol.error_request(inv, body, xray_cause))

    def post_init_error(self, body: bytes, error_type: str, xray_cause: str | None = None) -> None:
        """``POST /init/error``: report an initialisation failure (202 expected)."""
        self._send(protocol.init_error_request(body, error_type, xray_cause))

    def restore_next(self) -> None:
        """``GET /restore/next``: SnapStart; returns once restored from the snapshot (200)."""
        self._send(protocol.restore_next_request())

    def post_restore_error(self, body: bytes, error_type: str) -> None:
        """``POST /restore/error``: report an after-restore hook failure (202 expected)."""
        self._send(protocol.restore_error_request(body, error_type))

    def _send(self, request: protocol.HttpRequest) -> None:
        response = self.transport.request(
            request.method, request.path, request.headers, request.body
        )
        protocol.check_status(request, response.status, response.body)


def _chunked(stream: ResponseStream) -> Iterator[bytes]:
    """``stream`` framed as a chunked body, with the error trailers if it failed."""
    for chunk in stream:
        yield protocol.encode_chunk(chunk)
    trailers = None if stream.error is None else protocol.stream_error_trailers(*stream.error)
    yield protocol.last_chunk(trailers)
