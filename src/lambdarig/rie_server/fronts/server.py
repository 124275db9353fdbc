"""``HttpFront``: the HTTP server in front of the emulator (API Gateway, Function URL or ALB).

I/O only: each request is read by ``http.server`` (no thread, no task unless the handler waits),
turned into an event by ``fronts.events``, handed to the ``Invoker`` and its outcome answered by
``fronts.responses``; routing and CORS are ``fronts.routing`` / ``fronts.cors``. Lambda decisions
live there, not here. Concurrent requests run concurrently: the invoker decides where (the emulator
gives each concurrent invoke its own execution environment).

The integration timeout (REST 29 s, HTTP API 30 s; none for Function URLs and ALB) answers the
caller without cancelling the invocation: the function runs on, as in the service.
"""

from __future__ import annotations

import asyncio
import datetime
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lambdarig import invoke_api
from lambdarig.rie_server.environments.environment import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.errors import EmulatorError, Throttled
from lambdarig.rie_server.fronts import authorizers, cors
from lambdarig.rie_server.fronts.authorizer_cache import AuthorizerCache
from lambdarig.rie_server.fronts.authorizers import LambdaAuthorizer, Refusal, Verdict
from lambdarig.rie_server.fronts.events import FrontRequest, build_event, event_dict
from lambdarig.rie_server.fronts.responses import (
    INTEGRATION_TIMEOUT_S,
    Failure,
    Reply,
    from_result,
    gateway_error,
)
from lambdarig.rie_server.fronts.routing import RESPONSE_STREAM, Match, Route, RouteTable
from lambdarig.rie_server.http.server import HttpReply, HttpRequest, HttpServer, ReplyStream

if TYPE_CHECKING:
    from lambdarig.rie_server.fronts.streamed import StreamInvoker

#: ``invoke(function_name, event_bytes)``: the outcome of one synchronous invocation; raises
#: ``Throttled`` when no execution environment is free.
Invoker = Callable[[str, bytes], Awaitable[InvokeOutcome]]

#: API Gateway's payload quota (10 MB); a larger body is refused before anything runs.
MAX_BODY_BYTES = 10 * 1024 * 1024
#: The caller's address: ``http.server`` does not expose the peer, so a local caller is assumed.
LOCAL_SOURCE_IP = "127.0.0.1"
# Framing is ours: a function's own values for these would contradict the bytes we write.
_FRAMING = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "date"}
)
_REQUEST_ID_HEADER = {
    "rest": "x-amzn-RequestId",
    "http": "Apigw-Requestid",
    "url": "x-amzn-RequestId",
}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class HttpFront:
    """Serves ``routes`` on ``host:port`` (0 = ephemeral), invoking functions through ``invoke``.

    ``integration_timeout_s`` overrides the kind's integration timeout (tests shorten it; None
    keeps the service's); ``monotonic`` is the authorizer cache's clock. ``stream_invoke``
    serves the routes whose ``invoke_mode`` is ``RESPONSE_STREAM`` (``fronts.streamed``; without
    it they are answered buffered), at the service's bandwidth unless ``stream_throttle`` is off.
    ``start()`` returns the bound port and raises ``OSError`` when the address cannot be bound;
    ``stop()`` closes the listener and connections and cancels invocations whose caller already
    got a timeout answer; idempotent.
    """

    def __init__(
        self,
        routes: RouteTable,
        invoke: Invoker,
        host: str = "127.0.0.1",
        port: int = 3000,
        *,
        integration_timeout_s: float | None = None,
        clock: Callable[[], datetime.datetime] = _now,
        monotonic: Callable[[], float] = time.monotonic,
        stream_invoke: StreamInvoker | None = None,
        stream_throttle: bool = True,
    ) -> None:
        self.routes = routes
        self._invoke = invoke
        self._stream_invoke = stream_invoke
        self._stream_throttle = stream_throttle
        self._host = host
        self._port = port
        self._timeout = (
            integration_timeout_s
            if integration_timeout_s is not None
            else INTEGRATION_TIMEOUT_S[routes.kind]
        )
        self._clock = clock
        self._monotonic = monotonic
        self._authorizer_cache: AuthorizerCache[Verdict] = AuthorizerCache()
        self._server: HttpServer | None = None
        self._orphans: set[asyncio.Future[InvokeOutcome]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (after ``start``)."""
        return f"http://{self._host}:{self.port}"

    async def start(self) -> int:
        server = HttpServer(self._handle, self._host, self._port, keep_bytes=MAX_BODY_BYTES + 1)
        self.port = await server.start()
        self._server = server
        return self.port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.close()
        for task in list(self._orphans):
            task.cancel()
        if self._orphans:
            await asyncio.gather(*self._orphans, return_exceptions=True)

    async def _handle(self, request: HttpRequest) -> HttpReply | ReplyStream:
        kind = self.routes.kind
        pairs = list(request.headers.items())
        lower = {name.lower(): value for name, value in pairs}
        request_id = str(uuid.uuid4())
        if request.received > MAX_BODY_BYTES:
            return self._reply(gateway_error(kind, Failure.TOO_LARGE), request_id, lower)
        if cors.is_preflight(request.method, lower):
            config = self.routes.cors_for(request.path)
            if config is not None:
                status, headers = cors.preflight(config, lower)
                return HttpReply(status, b"", tuple(headers))
        match = self.routes.match(request.method, request.path)
        if match is None:
            return self._reply(gateway_error(kind, Failure.NO_ROUTE), request_id, lower)
        front_request = FrontRequest(
            method=request.method,
            target=request.target,
            headers=pairs,
            body=request.body,
            source_ip=LOCAL_SOURCE_IP,
            port=self.port,
            request_id=request_id,
            now=self._clock(),
            protocol=request.version,
        )
        authorizer_context = None
        if match.route.lambda_authorizer is not None:
            granted = await self._authorize(match.route.lambda_authorizer, match, front_request)
            if isinstance(granted, Reply):
                return self._reply(granted, request_id, lower, match.route)
            authorizer_context = granted
        event = build_event(match, front_request, authorizer_context)
        if len(event) > invoke_api.MAX_SYNC_REQUEST_SIZE:
            reply = gateway_error(kind, Failure.TOO_LARGE)
        elif match.route.invoke_mode == RESPONSE_STREAM and self._stream_invoke is not None:
            streamed = await self._streamed(match.route, event, request_id, lower)
            if isinstance(streamed, ReplyStream):
                return streamed
            reply = streamed
        else:
            reply = await self._run(match.route, event, lower.get("accept"))
        return self._reply(reply, request_id, lower, match.route)

    async def _authorize(
        self, authorizer: LambdaAuthorizer, match: Match, request: FrontRequest
    ) -> Reply | dict[str, Any]:
        """Run ``authorizer`` for ``request`` (or use its cached answer): the service's refusal,
        or the ``requestContext.authorizer`` of the route's event."""
        route = match.route
        kind = route.kind
        version = authorizer.payload_version if kind == "http" else None
        call = authorizers.prepare(
            authorizer, kind, event_dict(match, request, version=version), route.stage
        )
        if isinstance(call, Refusal):
            return authorizers.answer(kind, call)
        started = self._monotonic()
        key = None if call.cache_key is None else (route.api_id, *call.cache_key)
        verdict = None if key is None else self._authorizer_cache.get(key, started)
        if verdict is None:
            answered = await self._call_authorizer(authorizer, kind, call.event)
            if isinstance(answered, Refusal):
                return authorizers.answer(kind, answered)
            verdict = answered
            if key is not None:
                self._authorizer_cache.put(key, verdict, authorizer.ttl_s, started)
        refusal = authorizers.decide(verdict, call.arn)
        if refusal is not None:
            return authorizers.answer(kind, refusal)
        latency_ms = int((self._monotonic() - started) * 1000)
        return authorizers.event_context(verdict, kind, route.payload_version, latency_ms)

    async def _call_authorizer(
        self, authorizer: LambdaAuthorizer, kind: str, event: bytes
    ) -> Verdict | Refusal:
        outcome = await self._bounded(authorizer.function, event)
        if not isinstance(outcome, InvokeOutcome):
            return Refusal.FAILURE
        succeeded = outcome.kind is OutcomeKind.SUCCESS
        if not succeeded and outcome.kind is not OutcomeKind.FUNCTION_ERROR:
            return Refusal.FAILURE
        return authorizers.interpret(authorizer, kind, succeeded, outcome.body)

    async def _bounded(self, function: str, event: bytes) -> InvokeOutcome | Failure:
        """Invoke ``function`` within the integration timeout: its outcome, or why there is
        none (a timed-out invocation runs on, as an orphan ``stop()`` cancels)."""
        pending = asyncio.ensure_future(self._invoke(function, event))
        try:
            done, _ = await asyncio.wait({pending}, timeout=self._timeout)
        except asyncio.CancelledError:
            pending.cancel()
            raise
        if not done:
            self._orphans.add(pending)
            pending.add_done_callback(self._orphan_done)
            return Failure.TIMEOUT
        try:
            return pending.result()
        except Throttled:
            return Failure.THROTTLED
        except (EmulatorError, OSError):  # no environment could run it (e.g. a spawn failure)
            return Failure.FUNCTION_ERROR

    async def _run(self, route: Route, event: bytes, accept: str | None) -> Reply:
        """Invoke ``route.function`` with ``event``; the answer for its outcome."""
        outcome = await self._bounded(route.function, event)
        if isinstance(outcome, Failure):
            return gateway_error(route.kind, outcome)
        if outcome.kind is not OutcomeKind.SUCCESS:
            return gateway_error(route.kind, Failure.FUNCTION_ERROR)
        return from_result(route, outcome.body, accept)

    async def _streamed(
        self, route: Route, event: bytes, request_id: str, request_headers: dict[str, str]
    ) -> Reply | ReplyStream:
        """A ``RESPONSE_STREAM`` Function URL: the function's stream as it arrives."""
        from lambdarig.rie_server.fronts import streamed

        assert self._stream_invoke is not None
        try:
            start = await self._stream_invoke(route.function, event)
        except Throttled:
            return gateway_error(route.kind, Failure.THROTTLED)
        except (EmulatorError, OSError):
            return gateway_error(route.kind, Failure.FUNCTION_ERROR)
        extra = self._front_headers(request_id, request_headers, route)
        return await streamed.answer(start, extra, self._stream_throttle, _FRAMING)

    def _orphan_done(self, task: asyncio.Future[InvokeOutcome]) -> None:
        self._orphans.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: the caller already had its timeout answer

    def _reply(
        self,
        reply: Reply,
        request_id: str,
        request_headers: dict[str, str],
        route: Route | None = None,
    ) -> HttpReply:
        own = [(name, value) for name, value in reply.headers if name.lower() not in _FRAMING]
        headers = self._front_headers(request_id, request_headers, route, own)
        return HttpReply(reply.status, reply.body, tuple(headers))

    def _front_headers(
        self,
        request_id: str,
        request_headers: dict[str, str],
        route: Route | None,
        own: list[tuple[str, str]] | None = None,
    ) -> list[tuple[str, str]]:
        """The function's ``own`` headers (HTTP API drops their CORS ones), then what the front
        adds to every answer: CORS headers and the request id."""
        headers = own or []
        if route is not None and route.cors is not None:
            headers = cors.with_cors(route.cors, headers, request_headers)
        id_header = _REQUEST_ID_HEADER.get(self.routes.kind)
        if id_header is not None:
            headers.append((id_header, request_id))
        return headers
