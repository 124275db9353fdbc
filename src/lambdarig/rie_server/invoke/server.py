"""The server for the Invoke API: HTTP <-> ``invoke.protocol`` values, nothing more.

Every request, whatever its method or path, is read into an ``invoke.protocol.RawRequest`` (the body
bounded: at most one byte more than the largest payload any mode accepts is kept, the rest drained)
and handed to the ``Dispatcher``, whose ``HttpResponse`` is written back. Routing, validation and
status codes are the protocol's and the dispatcher's decisions, not this module's. HTTP itself is
``http.server``; a caller hanging up does not cancel its invocation (the function still runs, as in
the service). A body without ``Content-Type`` is sent as ``application/octet-stream``."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from typing import Union

from lambdarig import invoke_api
from lambdarig.rie_server.errors import ListenError
from lambdarig.rie_server.http.server import HttpReply, HttpRequest, HttpServer, ReplyStream
from lambdarig.rie_server.invoke.protocol import HttpResponse, RawRequest
from lambdarig.runtime_api import MAX_PAYLOAD_SIZE

# A streamed answer (``InvokeWithResponseStream``) is an ``http.streams.ReplyStream``.
Dispatcher = Callable[[RawRequest], Awaitable[Union[HttpResponse, ReplyStream]]]

# One byte past the largest body any mode keeps, so "too large" stays detectable.
BODY_KEEP_BYTES = max(MAX_PAYLOAD_SIZE, invoke_api.MAX_SYNC_REQUEST_SIZE) + 1
_DEFAULT_CONTENT_TYPE = ("Content-Type", "application/octet-stream")


class InvokeApiServer:
    """Listens on ``host:port`` (0 = ephemeral); ``start()`` returns once bound. ``stop()`` closes
    the listener and open connections; idempotent."""

    def __init__(
        self, dispatch: Dispatcher, host: str, port: int, sock: socket.socket | None = None
    ) -> None:
        self._dispatch = dispatch
        self._sock = sock  # bound to ``host:port`` already (``fast_start``)
        self._host = host
        self._port = port
        self._server: HttpServer | None = None
        self._bound_port: int | None = None

    @property
    def port(self) -> int:
        """The bound port (raises ``RuntimeError`` before ``start``)."""
        if self._bound_port is None:
            raise RuntimeError("expected InvokeApiServer.start() before reading .port")
        return self._bound_port

    @property
    def host(self) -> str:
        return self._host

    async def start(self) -> None:
        """Bind (unless given a bound socket) and serve; raises ``ListenError`` when the address
        cannot be bound."""
        server = HttpServer(
            self._handle, self._host, self._port, keep_bytes=BODY_KEEP_BYTES, sock=self._sock
        )
        self._sock = None
        try:
            self._bound_port = await server.start()
        except OSError as exc:
            raise ListenError("invoke", self._host, self._port, exc) from exc
        self._server = server

    async def stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:  # handed over but never served
            sock.close()
        server, self._server = self._server, None
        if server is not None:
            await server.close()

    async def _handle(self, request: HttpRequest) -> HttpReply | ReplyStream:
        raw = RawRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            body=request.body,
        )
        answer = await self._dispatch(raw)
        if isinstance(answer, ReplyStream):
            return answer
        headers = answer.headers
        if answer.body:
            for name, _ in headers:
                if name.lower() == "content-type":
                    break
            else:
                headers += (_DEFAULT_CONTENT_TYPE,)
        return HttpReply(answer.status, answer.body, headers)
