"""http11's server against slow, silent and malformed clients (issue 8), over real sockets.

Timeouts are set short here (the defaults: 10 s for a head, 60 s idle); each test reads until
the server closes, bounded by ``WITHIN``, rather than sleeping and then looking.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, Callable

import pytest

from lambdarig.rie_server.http.parser import RequestParser
from lambdarig.rie_server.http.server import Deferred, HttpReply, HttpRequest, HttpServer
from lambdarig.rie_server.runtime.server import RuntimeApiServer
from tests.rie_server.http.test_server import echo, read_reply, serve

SHORT = 0.2  # header_timeout and idle_timeout in these tests
WITHIN = 10.0  # bound on any wait for the server: far above SHORT, so never what decides
GET = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"


Client = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Connect = Callable[[], Awaitable[Client]]


def serve_clients(
    handler: Callable[[HttpRequest], Any],
    scenario: Callable[[Connect], Awaitable[None]],
    **options: Any,
) -> None:
    """``serve`` with ``connect()`` for the scenario's clients, all closed after it."""

    async def on_port(port: int) -> None:
        writers: list[asyncio.StreamWriter] = []

        async def connect() -> Client:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writers.append(writer)
            return reader, writer

        try:
            await scenario(connect)
        finally:
            for writer in writers:
                writer.close()
            await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)

    serve(handler, on_port, **options)


async def until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes (fails if it does not within ``WITHIN``)."""
    return await asyncio.wait_for(reader.read(), WITHIN)


def test_the_defaults_never_cut_a_long_poll_and_bound_the_client() -> None:
    server = HttpServer(echo, "127.0.0.1", 0, keep_bytes=1)
    assert (server.header_timeout, server.idle_timeout) == (10.0, 60.0)


def test_slowloris_connections_get_408_and_are_closed() -> None:
    async def scenario(connect: Connect) -> None:
        clients = [await connect() for _ in range(20)]
        for _, writer in clients:
            writer.write(b"GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ")  # ... and never the rest
        for reader, _ in clients:
            answer = await until_closed(reader)
            assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
            assert b"Connection: close\r\n" in answer

    serve_clients(echo, scenario, header_timeout=SHORT, idle_timeout=60)


def test_a_trickling_head_does_not_move_its_deadline() -> None:
    async def scenario(connect: Connect) -> None:
        reader, writer = await connect()
        writer.write(b"GET / HTTP/1.1\r\n")
        closed = asyncio.ensure_future(until_closed(reader))
        while not closed.done():  # a byte every SHORT / 4: the head never completes
            writer.write(b"X")
            await asyncio.sleep(SHORT / 4)
        assert (await closed).startswith(b"HTTP/1.1 408 ")

    serve_clients(echo, scenario, header_timeout=SHORT)


def test_a_stalled_body_gets_408() -> None:
    async def scenario(connect: Connect) -> None:
        reader, writer = await connect()
        writer.write(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
        assert (await until_closed(reader)).startswith(b"HTTP/1.1 408 ")

    serve_clients(echo, scenario, header_timeout=SHORT)


def test_a_silent_connection_is_closed_without_a_word() -> None:
    async def scenario(connect: Connect) -> None:
        reader, _ = await connect()
        assert await until_closed(reader) == b""

    serve_clients(echo, scenario, header_timeout=SHORT, idle_timeout=60)


def test_an_idle_keep_alive_connection_is_closed_after_idle_timeout() -> None:
    async def scenario(connect: Connect) -> None:
        reader, writer = await connect()
        for _ in range(2):  # keep-alive holds between quick requests
            writer.write(GET)
            assert (await read_reply(reader))[0] == b"HTTP/1.1 200 OK"
        assert await until_closed(reader) == b""

    serve_clients(echo, scenario, header_timeout=60, idle_timeout=SHORT)


def test_a_handler_slower_than_every_timeout_is_never_cut() -> None:
    polls: list[Deferred] = []

    async def slow(request: HttpRequest) -> HttpReply:
        await asyncio.sleep(SHORT * 5)  # an invocation: runs as long as it runs
        return HttpReply(200, b"slow")

    def handler(request: HttpRequest) -> Deferred | asyncio.Future[HttpReply]:
        if request.path == "/next":  # a long poll, answered from elsewhere
            polls.append(Deferred())
            asyncio.get_running_loop().call_later(
                SHORT * 5, polls[-1].resolve, HttpReply(200, b"event")
            )
            return polls[-1]
        return asyncio.ensure_future(slow(request))

    async def scenario(connect: Connect) -> None:
        (invoke, invoke_w), (poll, poll_w) = await connect(), await connect()
        invoke_w.write(GET)
        poll_w.write(b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        assert (await asyncio.wait_for(read_reply(invoke), WITHIN))[2] == b"slow"
        assert (await asyncio.wait_for(read_reply(poll), WITHIN))[2] == b"event"
        invoke_w.write(GET)  # still open, and the idle wait starts only now
        assert (await asyncio.wait_for(read_reply(invoke), WITHIN))[2] == b"slow"

    serve_clients(handler, scenario, header_timeout=SHORT, idle_timeout=SHORT)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 4400 + b"\r\n\r\n", 400),
        (b"GET / HTTP/1.1\nHost: x\n\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\nContent-Length: 5\r\n\r\nhelloGET /s HTTP/1.1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: \x00\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
        (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 505),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nX: " + b"v" * 70_000, 431),
    ],
)
def test_a_malformed_request_gets_its_4xx_and_the_connection_closes(
    data: bytes, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def handler(request: HttpRequest) -> HttpReply:
        seen.append(request.path)
        return HttpReply(200)

    async def scenario(connect: Connect) -> None:
        reader, writer = await connect()
        writer.write(data)
        answer = await until_closed(reader)
        assert answer.startswith(b"HTTP/1.1 %d " % status), answer[:80]
        assert b"\r\nConnection: close\r\n" in answer

    serve_clients(handler, scenario)  # and nothing escaped to the loop's exception handler
    assert seen == [] and "Traceback" not in caplog.text


def test_a_parser_bug_is_500_not_a_traceback_from_asyncio(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: RequestParser) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(RequestParser, "next_request", broken)

    async def scenario(connect: Connect) -> None:
        reader, writer = await connect()
        writer.write(GET)
        assert (await until_closed(reader)).startswith(b"HTTP/1.1 500 Internal Server Error\r\n")

    with caplog.at_level(logging.ERROR, "lambdarig.rie_server.http.server"):
        serve_clients(echo, scenario)
    assert "HTTP request parser failed (a bug in lambdarig)" in caplog.text


def test_a_reply_header_with_crlf_is_never_written(caplog: pytest.LogCaptureFixture) -> None:
    def injecting(request: HttpRequest) -> HttpReply:
        return HttpReply(200, b"ok", (("X-Error", "a\r\nSet-Cookie: stolen=1"),))

    async def scenario(connect: Connect) -> None:
        reader, writer = await connect()
        writer.write(GET)
        answer = await until_closed(reader)
        assert answer.startswith(b"HTTP/1.1 500 ") and b"stolen" not in answer

    serve_clients(injecting, scenario)
    assert "refused to write an HTTP 200 reply" in caplog.text


def test_idle_timeout_none_keeps_a_quiet_keep_alive_connection() -> None:
    async def scenario(connect: Connect) -> None:
        reader, writer = await connect()
        writer.write(GET)
        assert (await read_reply(reader))[0] == b"HTTP/1.1 200 OK"
        with pytest.raises(asyncio.TimeoutError):  # quiet for 5 header timeouts: still open
            await asyncio.wait_for(reader.read(), SHORT * 5)
        writer.write(GET)
        assert (await asyncio.wait_for(read_reply(reader), WITHIN))[0] == b"HTTP/1.1 200 OK"

    serve_clients(echo, scenario, header_timeout=SHORT, idle_timeout=None)


def test_the_runtime_api_keeps_a_runtime_connection_while_its_function_runs() -> None:
    # Between the event (/next) and /response a runtime's connection sits idle as long as the
    # function runs; aws-lambda-rie never closes it either.
    async def main() -> HttpServer | None:
        api = RuntimeApiServer(backend=None)  # type: ignore[arg-type]  # no request is made
        await api.start()
        server = api._server
        await api.close()
        return server

    server = asyncio.run(main())
    assert server is not None and server.idle_timeout is None and server.header_timeout == 10
