"""aiohttp server for the Invoke API: HTTP <-> ``invoke_protocol`` values, nothing more.

Every request, whatever its method or path, is read into an ``invoke_protocol.RawRequest`` (the body
bounded: at most one byte more than the largest payload any mode accepts is kept, the rest drained)
and handed to the ``Dispatcher``, whose ``HttpResponse`` is written back. Routing, validation and
status codes are the protocol's and the dispatcher's decisions, not this module's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from lambdarig import invoke_api as api
from lambdarig.rie_server.invoke_protocol import HttpResponse, RawRequest
from lambdarig.runtime_api import MAX_PAYLOAD_SIZE

Dispatcher = Callable[[RawRequest], Awaitable[HttpResponse]]

# One byte past the largest body any mode keeps, so "too large" stays detectable.
BODY_KEEP_BYTES = max(MAX_PAYLOAD_SIZE, api.MAX_SYNC_REQUEST_SIZE) + 1


async def _read_bounded(request: web.Request, keep: int) -> bytes:
    chunks: list[bytes] = []
    kept = 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            return b"".join(chunks)[:keep]
        if kept < keep:
            chunks.append(chunk)
            kept += len(chunk)


class InvokeApiServer:
    """Listens on ``host:port`` (0 = ephemeral); ``start()`` returns once bound. ``stop()`` closes
    the listener and open connections; idempotent."""

    def __init__(self, dispatch: Dispatcher, host: str, port: int) -> None:
        self._dispatch = dispatch
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
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
        """Bind and serve; raises ``OSError`` when the address cannot be bound."""
        app = web.Application(client_max_size=BODY_KEEP_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._bound_port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = RawRequest(
            method=request.method,
            path=request.raw_path.partition("?")[0],
            query={key: value for key, value in request.query.items()},
            headers={key: value for key, value in request.headers.items()},
            body=await _read_bounded(request, BODY_KEEP_BYTES),
        )
        answer = await self._dispatch(raw)
        response = web.Response(status=answer.status, body=answer.body)
        for name, value in answer.headers:
            response.headers[name] = value
        return response
