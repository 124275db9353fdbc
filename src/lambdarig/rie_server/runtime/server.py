"""The server for one environment's Runtime API: HTTP <-> ``protocol`` values, nothing more.

Lambda decisions (is this post allowed, which invocation does it finish) belong to the
``RuntimeApiBackend`` given to the server; this module only routes requests with ``protocol.route``,
checks body sizes and renders ``protocol.Reply`` values. HTTP itself is ``http.server`` (bodies
bounded to ``MAX_PAYLOAD_SIZE + 1`` kept bytes; a header with a control character is refused there
with 400, so an error type holding a line break is never recorded). Posts are answered without a
task; a long-poll ``/next`` is a ``Deferred`` the backend resolves from the invoke that submits an
event (no task, never a thread), and if the runtime hangs up while polling the poll is withdrawn. A
body cut short by a hang-up is never posted."""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Callable, Protocol

from lambdarig import runtime_api
from lambdarig.rie_server.errors import InvalidTransition, ListenError
from lambdarig.rie_server.http.server import (
    BodySink,
    Deferred,
    HttpReply,
    HttpRequest,
    HttpServer,
)
from lambdarig.rie_server.runtime import protocol
from lambdarig.rie_server.runtime.protocol import Reply, Route
from lambdarig.rie_server.untrusted import printable

if TYPE_CHECKING:
    from lambdarig.rie_server.runtime.credentials import Credentials

_log = logging.getLogger(__name__)

# Enum members read on every invoke, bound once: a member read off its class goes through the
# metaclass's attribute hook (``EnumType.__getattr__``), about five times a module global.
_NEXT, _RESPONSE, _ERROR, _NOT_FOUND = Route.NEXT, Route.RESPONSE, Route.ERROR, Route.NOT_FOUND


class RuntimeApiBackend(Protocol):
    """What the server needs from the environment behind it."""

    def poll(self, deliver: Callable[[runtime_api.Invocation], None]) -> Callable[[], None] | None:
        """A ``/next``: call ``deliver`` with the next event, now (returning ``None``) or later
        (returning a function that withdraws the poll); raises ``InvalidTransition`` when polling
        is illegal."""
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

    def post_stream(self, request_id: str, headers: Mapping[str, str]) -> Reply | BodySink:
        """A streamed ``/response`` begins: the sink for its body, or the refusal."""
        ...

    @property
    def restores(self) -> bool:
        """SnapStart: ``/restore/next`` and ``/restore/error`` are served (else 404)."""
        ...

    def restore_poll(self, answer: Callable[[], None]) -> Callable[[], None]:
        """A ``/restore/next``: ``answer`` is called once the snapshot is restored; returns the
        function that withdraws the poll. Raises ``InvalidTransition`` outside init."""
        ...

    def post_restore_error(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        """Take a ``/restore/error`` post."""
        ...


class ExtensionsBackend(Protocol):
    """The Extensions API served on the same socket (``extensions.backend.ExtensionsApi``)."""

    def handle(self, request: HttpRequest) -> HttpReply | Deferred:
        """Answer a request under ``/2020-01-01/extension/``."""
        ...

    def close_registration(self) -> None:
        """The runtime polled ``/next``: no extension may register any more."""
        ...


_EXTENSION_PREFIX = runtime_api.PATH_EXTENSION_PREFIX + "/"


class SubscriptionEndpoint(Protocol):
    """Answers ``PUT /2022-07-01/telemetry`` and ``PUT /2020-08-15/logs`` (``telemetry.hub``)."""

    def subscribe(self, route: Route, headers: Mapping[str, str], body: bytes) -> Reply: ...


def _render(reply: Reply) -> HttpReply:
    return HttpReply(reply.status, reply.body, tuple(reply.headers.items()))


class RuntimeApiServer:
    """One listener. ``start()`` binds (port 0 = ephemeral) and returns ``"host:port"``;
    ``close()`` stops listening and drops open polls. Neither raises for runtime behaviour."""

    def __init__(
        self,
        backend: RuntimeApiBackend,
        address: str = "127.0.0.1:0",
        sock: socket.socket | None = None,
    ) -> None:
        self.backend = backend  # the environment swaps it for each new runtime process
        self.extensions: ExtensionsBackend | None = None  # ... and this one with it
        self._sock = sock  # bound to ``address`` already (``fast_start``)
        host, _, port = address.rpartition(":")
        self._host, self._port = host or "127.0.0.1", int(port or 0)
        self._server: HttpServer | None = None
        self.address = ""
        # The Telemetry and Logs APIs; without one both answer 202 ``*.NotSupported``.
        self.subscriptions: SubscriptionEndpoint | None = None
        # --enable-init-caching: ``GET /2021-04-23/credentials`` (else 404, as any unknown path)
        self.credentials: Credentials | None = None

    async def start(self) -> str:
        """Bind and serve; returns the bound ``host:port``. Raises ``ListenError`` (an
        ``OSError``) if binding fails."""
        server = HttpServer(
            self._handle,
            self._host,
            self._port,
            keep_bytes=runtime_api.MAX_PAYLOAD_SIZE + 1,
            cancel_on_hangup=True,
            sock=self._sock,
            idle_timeout=None,  # idle while its function runs, however long: never closed
            on_head=self._on_head,  # a streamed /response is taken as it arrives
        )
        self._sock = None
        try:
            port = await server.start()
        except OSError as exc:
            raise ListenError("runtime", self._host, self._port, exc) from exc
        self._server = server
        self.address = f"{self._host}:{port}"
        return self.address

    async def close(self) -> None:
        """Stop listening and close connections (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            await server.close()

    def _handle(self, request: HttpRequest) -> HttpReply | Deferred | Awaitable[HttpReply]:
        """Posts are answered at once; ``/next`` is answered when the backend delivers."""
        try:
            extensions = self.extensions
            if extensions is not None and request.path.startswith(_EXTENSION_PREFIX):
                return extensions.handle(request)
            if request.sink is not None:
                refused = getattr(request.sink, "refusal", None)
                return _render(refused if isinstance(refused, Reply) else protocol.accepted())
            match = protocol.route(request.method, request.path)
            route = match.route
            if route is _NOT_FOUND and self.credentials is not None:
                if request.path == runtime_api.PATH_CREDENTIALS:
                    return self._credentials(request, self.credentials)
            if route is _NEXT:
                return self._next()
            if (route is _RESPONSE or route is _ERROR) and match.request_id is not None:
                return self._post(request, route, match.request_id)
            if match.route is Route.INIT_ERROR:
                if request.received > runtime_api.MAX_PAYLOAD_SIZE:
                    return _render(protocol.payload_too_large())
                return _render(self.backend.post_init_error(request.body, request.headers))
            if match.route in (Route.RESTORE_NEXT, Route.RESTORE_ERROR) and self.backend.restores:
                return self._restore(request, match.route)
            if match.route in (Route.LOGS, Route.TELEMETRY) and self.subscriptions is not None:
                headers, body = request.headers, request.body
                return _render(self.subscriptions.subscribe(match.route, headers, body))
            return _render(_static_reply(match.route))
        except Exception:
            # An emulator bug must reach the runtime as RAPID's 500 (it should exit), not as a
            # bare HTTP error page; the traceback goes to the emulator's log.
            path = printable(request.path)
            _log.exception("Runtime API handler failed for %s %s", printable(request.method), path)
            return _render(protocol.internal_error())

    def _credentials(self, request: HttpRequest, credentials: Credentials) -> HttpReply:
        import datetime

        now = datetime.datetime.now(datetime.timezone.utc)
        authorization = request.headers.get("Authorization")
        return _render(credentials.answer(request.method, authorization, now))

    def _on_head(self, request: HttpRequest) -> BodySink | None:
        """A ``/response`` in response mode ``streaming`` goes to the backend as it arrives."""
        mode = request.headers.get(runtime_api.HEADER_RESPONSE_MODE)
        if mode != runtime_api.RESPONSE_MODE_STREAMING or request.method != "POST":
            return None
        match = protocol.route(request.method, request.path)
        if match.route is not Route.RESPONSE or match.request_id is None:
            return None
        taken = self.backend.post_stream(match.request_id, request.headers)
        return _Refused(taken) if isinstance(taken, Reply) else taken

    def _next(self) -> HttpReply | Deferred:
        answer = Deferred()

        def deliver(invocation: runtime_api.Invocation) -> None:
            try:
                headers = tuple(protocol.next_headers(invocation).items())
                answer.resolve(HttpReply(200, invocation.body, headers))
            except Exception:
                _log.exception("Runtime API handler failed for GET %s", runtime_api.PATH_NEXT)
                answer.resolve(_render(protocol.internal_error()))

        if self.extensions is not None:
            self.extensions.close_registration()
        try:
            answer.on_hangup = self.backend.poll(deliver)
        except InvalidTransition as exc:
            return _render(protocol.invalid_transition(exc.from_state, exc.to_state))
        return answer

    def _restore(self, request: HttpRequest, route: Route) -> HttpReply | Deferred:
        """SnapStart's two routes: ``/restore/next`` waits for the restore; ``/restore/error``."""
        if route is Route.RESTORE_ERROR:
            if request.received > runtime_api.MAX_PAYLOAD_SIZE:
                return _render(protocol.payload_too_large())
            return _render(self.backend.post_restore_error(request.body, request.headers))
        answer = Deferred()
        try:
            answer.on_hangup = self.backend.restore_poll(
                lambda: answer.resolve(_render(protocol.restored()))
            )
        except InvalidTransition as exc:
            return _render(protocol.invalid_transition(exc.from_state, exc.to_state))
        return answer

    def _post(self, request: HttpRequest, route: Route, request_id: str) -> HttpReply:
        problem = protocol.check_post(
            request.content_length,
            request.received,
            request.headers.get(runtime_api.HEADER_RESPONSE_MODE),
            route,
        )
        if problem is not None and problem.status == 413:
            return _render(self.backend.post_too_large(route, request_id, request.headers))
        if problem is not None:
            return _render(problem)
        return _render(self.backend.post_result(route, request_id, request.body, request.headers))


class _Refused(BodySink):
    """The body of a streamed post that was refused: read and dropped, then the refusal."""

    def __init__(self, refusal: Reply) -> None:
        super().__init__()
        self.refusal = refusal


def _static_reply(route: Route) -> Reply:
    if route is Route.PING:
        return protocol.pong()
    if route in (Route.LOGS, Route.TELEMETRY):
        return protocol.not_supported(route)
    if route is Route.METHOD_NOT_ALLOWED:
        return protocol.method_not_allowed()
    return protocol.not_found()
