"""The Runtime API listener over real sockets, with a recording backend we own."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Awaitable, Mapping
from typing import Callable

import httpx
import pytest

from lambdarig import runtime_api
from lambdarig.rie_server.errors import InvalidTransition
from lambdarig.rie_server.runtime import protocol
from lambdarig.rie_server.runtime.protocol import Reply, Route
from lambdarig.rie_server.runtime.server import RuntimeApiServer
from tests.probes import eventually


class RecordingBackend:
    """Hands out offered invocations to polls; records every post it is given."""

    def __init__(self) -> None:
        self.events: deque[runtime_api.Invocation] = deque()
        self.polls: deque[Callable[[runtime_api.Invocation], None]] = deque()
        self.posts: list[tuple[str, str, bytes]] = []
        self.too_large: list[tuple[str, str]] = []
        self.init_errors: list[bytes] = []
        self.refuse_next = False
        self.explode = False
        self.polls_cancelled = 0

    def offer(self, invocation: runtime_api.Invocation) -> None:
        if self.polls:
            self.polls.popleft()(invocation)
        else:
            self.events.append(invocation)

    def poll(self, deliver: Callable[[runtime_api.Invocation], None]) -> Callable[[], None] | None:
        if self.refuse_next:
            raise InvalidTransition("InitError", "Ready")
        if self.events:
            deliver(self.events.popleft())
            return None
        self.polls.append(deliver)

        def withdraw() -> None:
            self.polls.remove(deliver)
            self.polls_cancelled += 1

        return withdraw

    def post_result(
        self, route: Route, request_id: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        if self.explode:
            raise RuntimeError("emulator bug")
        self.posts.append((route.value, request_id, body))
        return protocol.accepted()

    def post_too_large(self, route: Route, request_id: str, headers: Mapping[str, str]) -> Reply:
        self.too_large.append((route.value, request_id))
        return protocol.payload_too_large()

    def post_init_error(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        self.init_errors.append(body)
        return protocol.accepted()

    restores = False  # not SnapStart: /restore/* are 404, as in aws-lambda-rie

    def restore_poll(self, answer: Callable[[], None]) -> Callable[[], None]:
        raise AssertionError("not SnapStart: /restore/next must not reach the backend")

    def post_restore_error(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        raise AssertionError("not SnapStart: /restore/error must not reach the backend")


Scenario = Callable[[RecordingBackend, str, httpx.AsyncClient], Awaitable[None]]


def serve(scenario: Scenario) -> RecordingBackend:
    async def main() -> RecordingBackend:
        backend = RecordingBackend()
        server = RuntimeApiServer(backend, "127.0.0.1:0")
        address = await server.start()
        try:
            async with httpx.AsyncClient(timeout=None) as session:
                await scenario(backend, f"http://{address}", session)
        finally:
            await server.close()
            await server.close()  # idempotent
        return backend

    return asyncio.run(main())


def test_next_delivers_headers_and_body() -> None:
    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        backend.offer(
            runtime_api.Invocation(
                "rid", 1234, "arn:x", b'{"a":1}', content_type=None, invocation_id="n"
            )
        )
        resp = await s.get(base + runtime_api.PATH_NEXT)
        assert resp.status_code == 200
        assert resp.content == b'{"a":1}'
        assert resp.headers["Lambda-Runtime-Aws-Request-Id"] == "rid"
        assert resp.headers["Lambda-Runtime-Deadline-Ms"] == "1234"
        assert resp.headers["Lambda-Runtime-Invoked-Function-Arn"] == "arn:x"
        assert resp.headers["Lambda-Runtime-Invocation-Id"] == "n"
        assert resp.headers["Content-Type"] == "application/json"

    serve(scenario)


def test_a_waiting_poll_is_answered_when_the_event_is_offered() -> None:
    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        poll = asyncio.ensure_future(s.get(base + runtime_api.PATH_NEXT))
        await eventually(lambda: bool(backend.polls), "the poll to be registered")
        backend.offer(runtime_api.Invocation("r2", 1, "arn:x", b"{}", invocation_id="i2"))
        resp = await poll
        assert resp.status_code == 200 and resp.headers["Lambda-Runtime-Aws-Request-Id"] == "r2"
        resp = await s.post(base + runtime_api.response_path("r2"), content=b"ok")
        assert resp.status_code == 202  # the connection serves the next request afterwards

    assert serve(scenario).posts == [("response", "r2", b"ok")]


def test_refused_next_is_403() -> None:
    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        backend.refuse_next = True
        resp = await s.get(base + runtime_api.PATH_NEXT)
        assert resp.status_code == 403
        assert b"State transition from InitError to Ready" in resp.content

    serve(scenario)


def test_posts_reach_the_backend() -> None:
    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        resp = await s.post(base + runtime_api.response_path("r1"), content=b"result")
        assert (resp.status_code, resp.content) == (202, b'{"status":"OK"}\n')
        resp = await s.post(base + runtime_api.error_path("r2"), content=b"{}")
        assert resp.status_code == 202
        resp = await s.post(base + runtime_api.PATH_INIT_ERROR, content=b"init")
        assert resp.status_code == 202

    backend = serve(scenario)
    assert backend.posts == [("response", "r1", b"result"), ("error", "r2", b"{}")]
    assert backend.init_errors == [b"init"]


def test_too_large_post_goes_to_the_backend_as_such() -> None:
    big = b"x" * (runtime_api.MAX_PAYLOAD_SIZE + 1)
    exact = b"y" * runtime_api.MAX_PAYLOAD_SIZE

    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        resp = await s.post(base + runtime_api.response_path("r1"), content=big)
        assert resp.status_code == 413
        assert b"RequestEntityTooLarge" in resp.content
        resp = await s.post(base + runtime_api.response_path("r2"), content=exact)
        assert resp.status_code == 202

    backend = serve(scenario)
    assert backend.too_large == [("response", "r1")]
    assert [(route, rid, len(body)) for route, rid, body in backend.posts] == [
        ("response", "r2", runtime_api.MAX_PAYLOAD_SIZE)
    ]


def test_invalid_response_mode_never_reaches_the_backend() -> None:
    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        headers = {runtime_api.HEADER_RESPONSE_MODE: "buffered"}
        resp = await s.post(base + runtime_api.response_path("r1"), content=b"x", headers=headers)
        assert resp.status_code == 400
        assert b"InvalidFunctionResponseMode" in resp.content

    assert serve(scenario).posts == []


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", runtime_api.PATH_PING, 200, b"pong"),
        ("PUT", runtime_api.PATH_LOGS, 202, b"Logs.NotSupported"),
        ("PUT", runtime_api.PATH_TELEMETRY, 202, b"Telemetry.NotSupported"),
        ("GET", "/nowhere", 404, b"404 page not found"),
        ("GET", runtime_api.PATH_RESTORE_NEXT, 404, b"404 page not found"),
        ("POST", runtime_api.PATH_RESTORE_ERROR, 404, b"404 page not found"),
        ("DELETE", runtime_api.PATH_NEXT, 405, b""),
    ],
)
def test_static_routes(method: str, path: str, status: int, body: bytes) -> None:
    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        resp = await s.request(method, base + path)
        assert resp.status_code == status
        assert body in resp.content

    serve(scenario)


def test_long_polls_hold_no_threads_and_hang_ups_withdraw_them() -> None:
    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        threads_before = threading.active_count()
        polls = [asyncio.ensure_future(s.get(base + runtime_api.PATH_NEXT)) for _ in range(50)]
        await eventually(lambda: len(backend.polls) == 50, "50 polls to reach the backend")
        assert threading.active_count() == threads_before
        for poll in polls:
            poll.cancel()
        await asyncio.gather(*polls, return_exceptions=True)
        await eventually(lambda: backend.polls_cancelled == 50, "50 polls to be withdrawn")

    assert serve(scenario).polls_cancelled == 50


def test_truncated_body_is_never_posted() -> None:
    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        host, port = base[len("http://") :].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST " + runtime_api.response_path("r1").encode() + b" HTTP/1.1\r\n"
            b"Host: x\r\nContent-Length: 100\r\n\r\n0123456789"
        )
        await writer.drain()
        writer.write_eof()  # the body ends 90 bytes short
        # The server is done with the connection once it hangs up: only then is "never" proven.
        await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        await writer.wait_closed()

    assert serve(scenario).posts == []


def test_backend_failure_is_rapids_500(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        backend.explode = True
        resp = await s.post(base + runtime_api.response_path("r1"), content=b"x")
        assert resp.status_code == 500
        assert resp.content == (
            b'{"errorMessage":"Internal Server Error","errorType":"InternalServerError"}\n'
        )

    serve(scenario)
    assert "emulator bug" in caplog.text


async def raw_exchange(base: str, request: bytes) -> bytes:
    """Send ``request`` as is (clients refuse control characters in headers); the whole answer."""
    host, port = base[len("http://") :].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), timeout=10)
    writer.close()
    await writer.wait_closed()
    return answer


@pytest.mark.parametrize(
    "header",
    [
        b"Lambda-Runtime-Function-Error-Type: Runtime.X\nlambdarig-rie: WARNING: forged",
        b'Lambda-Runtime-Function-XRay-Error-Cause: {"paths":["\x00"]}',
    ],
)
def test_a_post_with_a_control_character_in_a_header_is_refused_unrecorded(header: bytes) -> None:
    async def scenario(backend: RecordingBackend, base: str, s: httpx.AsyncClient) -> None:
        for path in (runtime_api.error_path("r1"), runtime_api.PATH_INIT_ERROR):
            answer = await raw_exchange(
                base,
                b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n"
                b"Connection: close\r\nContent-Length: 2\r\n\r\n{}",
            )
            assert answer.startswith(b"HTTP/1.1 400 ")  # by the HTTP layer (http.grammar)

    backend = serve(scenario)
    assert (backend.posts, backend.init_errors) == ([], [])
