"""aiohttp server for one environment's Runtime API: HTTP <-> ``protocol`` values, nothing more.

Lambda decisions (is this post allowed, which invocation does it finish) belong to the
``RuntimeApiBackend`` given to the server; this module only reads requests, routes them with
``protocol.route``, bounds body sizes and renders ``protocol.Reply`` values. A long-poll ``/next``
is a suspended coroutine, never a thread; if the runtime hangs up while polling, the handler is
cancelled (``handler_cancellation``) so the backend can withdraw the poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Protocol

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError

from lambdarig import runtime_api as api
from lambdarig.rie_server import protocol
from lambdarig.rie_server.errors import InvalidTransition
from lambdarig.rie_server.protocol import Reply, Route

_log = logging.getLogger(__name__)


class RuntimeApiBackend(Protocol):
    """What the server needs from the environment behind it."""

    async def next_invocation(self) -> api.Invocation:
        """Long-poll for the next event; raises ``InvalidTransition`` when polling is illegal."""
        ...

    def post_result(
        self, route: Route, request_id: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        """Take a ``/response`` or ``/error`` post that passed the size checks."""
        ...

    def post_too_large(self, route: Route, request_id: str, headers: Mapping[str, str]) -> Reply:
        """A ``/response`` or ``/error`` body exceeded ``MAX_PAYLOAD_SIZE``."""
        ...

    def post_init_error(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        """Take a ``/init/error`` post."""
        ...


async def _read_bounded(request: web.Request) -> bytes:
    """Read the body, keeping at most ``MAX_PAYLOAD_SIZE + 1`` bytes (the rest is drained)."""
    chunks: list[bytes] = []
    kept = 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            return b"".join(chunks)
        if kept <= api.MAX_PAYLOAD_SIZE:
            chunks.append(chunk)
            kept += len(chunk)


def _render(reply: Reply) -> web.Response:
    return web.Response(status=reply.status, body=reply.body, headers=dict(reply.headers))


class RuntimeApiServer:
    """One listener. ``start()`` binds (port 0 = ephemeral) and returns ``"host:port"``;
    ``close()`` stops listening and drops open polls. Neither raises for runtime behaviour."""

    def __init__(self, backend: RuntimeApiBackend, address: str = "127.0.0.1:0") -> None:
        self._backend = backend
        host, _, port = address.rpartition(":")
        self._host, self._port = host or "127.0.0.1", int(port or 0)
        self._runner: web.AppRunner | None = None
        self.address = ""

    async def start(self) -> str:
        """Bind and serve; returns the bound ``host:port``. Raises ``OSError`` if binding fails."""
        app = web.Application(client_max_size=api.MAX_PAYLOAD_SIZE + 1)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        self.address = f"{self._host}:{port}"
        return self.address

    async def close(self) -> None:
        """Stop listening and close connections (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._dispatch(request)
        except (asyncio.CancelledError, web.HTTPException):
            raise
        except Exception:
            # An emulator bug must reach the runtime as RAPID's 500 (it should exit), not as
            # aiohttp's plain-text page; the traceback goes to the emulator's log.
            _log.exception("Runtime API handler failed for %s %s", request.method, request.path)
            return _render(protocol.internal_error())

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        match = protocol.route(request.method, request.path)
        if match.route is Route.NEXT:
            return await self._next()
        if match.route in (Route.RESPONSE, Route.ERROR) and match.request_id is not None:
            return await self._post(request, match.route, match.request_id)
        if match.route is Route.INIT_ERROR:
            body = await _read_bounded(request)
            if len(body) > api.MAX_PAYLOAD_SIZE:
                return _render(protocol.payload_too_large())
            return _render(self._backend.post_init_error(body, request.headers))
        return _render(_static_reply(match.route))

    async def _next(self) -> web.Response:
        try:
            invocation = await self._backend.next_invocation()
        except InvalidTransition as exc:
            return _render(protocol.invalid_transition(exc.from_state, exc.to_state))
        return web.Response(
            status=200, body=invocation.body, headers=protocol.next_headers(invocation)
        )

    async def _post(self, request: web.Request, route: Route, request_id: str) -> web.Response:
        try:
            body = await _read_bounded(request)
        except (ConnectionError, HttpProcessingError, ClientPayloadError):
            # The runtime hung up mid-body: the post never happened (the reply is best effort).
            return _render(protocol.truncated())
        problem = protocol.check_post(
            request.content_length,
            len(body),
            request.headers.get(api.HEADER_RESPONSE_MODE),
            route,
        )
        if problem is not None and problem.status == 413:
            return _render(self._backend.post_too_large(route, request_id, request.headers))
        if problem is not None:
            return _render(problem)
        return _render(self._backend.post_result(route, request_id, body, request.headers))


def _static_reply(route: Route) -> Reply:
    if route is Route.PING:
        return protocol.pong()
    if route in (Route.LOGS, Route.TELEMETRY):
        return protocol.not_supported(route)
    if route is Route.METHOD_NOT_ALLOWED:
        return protocol.method_not_allowed()
    return protocol.not_found()
