"""http11: the parser fed byte by byte (sans-IO), and the server over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any, Callable, Union

import pytest

from lambdarig.rie_server.http.handlers import Carried
from lambdarig.rie_server.http.server import (
    BadRequest,
    HttpReply,
    HttpRequest,
    HttpServer,
    RequestParser,
    http_date,
)
from tests.probes import eventually

Reply = Union[HttpReply, Awaitable[HttpReply]]


def parse_all(data: bytes, keep: int = 1000, step: int = 1) -> list[HttpRequest]:
    parser = RequestParser(keep)
    found: list[HttpRequest] = []
    for start in range(0, len(data), step):
        parser.feed(data[start : start + step])
        while (request := parser.next_request()) is not None:
            found.append(request)
    return found


def test_content_length_bodies_and_pipelining_byte_by_byte() -> None:
    data = (
        b"POST /a?x=1&x=2&y=%24L+1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-A: 1\r\n"
        b"x-a: 2\r\n\r\nhello"
        b"GET /b HTTP/1.0\r\n\r\n"
    )
    first, second = parse_all(data)
    assert (first.method, first.path, first.body, first.content_length) == (
        "POST",
        "/a",
        b"hello",
        5,
    )
    assert first.query == {"x": "2", "y": "$L 1"}
    assert first.headers["X-A"] == first.headers.get("x-a") == "1, 2"
    assert "host" in first.headers and len(first.headers) == 3 and first.keep_alive
    assert (second.method, second.path, second.body, second.keep_alive) == ("GET", "/b", b"", False)


def test_chunked_body_with_extensions_and_trailers() -> None:
    data = (
        b"POST /r HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n"
    )
    for step in (1, 7, len(data)):
        (request,) = parse_all(data, step=step)
        assert request.body == b"abc0123456789abcdef"
        assert (request.content_length, request.received) == (None, 19)


def test_bodies_are_bounded_but_counted() -> None:
    data = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"
    (request,) = parse_all(data, keep=4, step=3)
    assert (request.body, request.received, request.content_length) == (b"0123", 10, 10)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"NONSENSE\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: h\r\nNo colon\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nName : v\r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 70_000 + b"\r\n\r\n", 431),
    ],
)
def test_malformed_requests_are_refused(data: bytes, status: int) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_all(data, step=len(data))
    assert caught.value.status == status


def test_expect_continue_is_flagged_until_sent() -> None:
    parser = RequestParser(100)
    parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    assert parser.next_request() is None and parser.expects_continue
    parser.continue_sent()
    parser.feed(b"ok")
    request = parser.next_request()
    assert request is not None and request.body == b"ok" and not parser.expects_continue


@pytest.mark.parametrize("epoch", [0, 784111777, 951782400, 1767225599, 4102444800])
def test_date_header_is_imf_fixdate_as_email_utils_writes_it(epoch: int) -> None:
    from email.utils import formatdate  # the oracle; the server itself does not import email

    assert http_date(epoch) == formatdate(epoch, usegmt=True)


# --- the server over real sockets --------------------------------------------------------------


async def echo(request: HttpRequest) -> HttpReply:
    await asyncio.sleep(0)
    return HttpReply(
        200, request.method.encode() + b" " + request.body, (("X-Path", request.path),)
    )


def serve(
    handler: Callable[[HttpRequest], Reply],
    scenario: Callable[[int], Awaitable[None]],
    **options: Any,
) -> None:
    """Run ``scenario(port)`` against a server; nothing may reach the loop's exception handler
    (where asyncio logs what escapes ``data_received``)."""
    escaped: list[dict[str, Any]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, context: escaped.append(context))
        server = HttpServer(handler, "127.0.0.1", 0, keep_bytes=100, **options)
        port = await server.start()
        try:
            await scenario(port)
        finally:
            await server.close()
            await server.close()  # idempotent

    asyncio.run(main())
    assert escaped == []


def run(
    handler: Callable[[HttpRequest], Reply],
    scenario: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    **options: Any,
) -> None:
    """Run ``scenario`` on one connection to a server."""

    async def on_port(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            await scenario(reader, writer)
        finally:
            writer.close()

    serve(handler, on_port, **options)


async def read_reply(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")[:-2]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    body = await reader.readexactly(int(headers["content-length"]))
    return status.encode(), headers, body


def test_pipelined_requests_are_answered_in_order_on_one_connection() -> None:
    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\na"
            b"POST /2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n"
        )
        status, headers, body = await read_reply(reader)
        assert (status, headers["x-path"], body) == (b"HTTP/1.1 200 OK", "/1", b"POST a")
        assert "date" in headers and "connection" not in headers
        assert (await read_reply(reader))[2] == b"POST b"
        writer.write(b"HEAD /3 HTTP/1.1\r\nHost: h\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"Content-Length: 5" in head  # "HEAD " announced, not sent
        writer.write(b"GET /4 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        status, headers, body = await read_reply(reader)
        assert (body, headers["connection"]) == (b"GET ", "close")
        assert await reader.read() == b""

    run(echo, scenario)


def test_expect_continue_gets_100_before_the_body() -> None:
    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
        )
        assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"ok")
        assert (await read_reply(reader))[2] == b"POST ok"

    run(echo, scenario)


def test_bad_request_is_400_and_closes() -> None:
    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"BROKEN\r\n\r\n")
        status, headers, _ = await read_reply(reader)
        assert status == b"HTTP/1.1 400 Bad Request" and headers["connection"] == "close"
        assert await reader.read() == b""

    run(echo, scenario)


def test_handler_failures_are_500(caplog: pytest.LogCaptureFixture) -> None:
    def sync_bug(request: HttpRequest) -> Reply:
        if request.path == "/async":
            return failing()
        raise RuntimeError("sync bug")

    async def failing() -> HttpReply:
        raise RuntimeError("async bug")

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"GET /async HTTP/1.1\r\nHost: h\r\n\r\n")
        assert (await read_reply(reader))[0] == b"HTTP/1.1 500 Internal Server Error"

    run(sync_bug, scenario)
    assert "async bug" in caplog.text


@pytest.mark.parametrize("cancel", [True, False])
def test_hang_up_cancels_a_waiting_handler_only_when_asked(cancel: bool) -> None:
    outcome: list[str] = []
    started: list[str] = []  # not an asyncio.Event: on 3.9 one binds to the loop it is made on

    async def wait_long(request: HttpRequest) -> HttpReply:
        started.append(request.path)
        try:
            # Simulated work: long enough that only a cancellation ends it early.
            await asyncio.sleep(10.0 if cancel else 0.2)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append("finished")
        return HttpReply(200)

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        await writer.drain()
        await eventually(lambda: bool(started), "the handler to start")  # it waits: hang up
        writer.close()
        await eventually(lambda: bool(outcome), "the handler to end")

    run(wait_long, scenario, cancel_on_hangup=cancel)
    assert outcome == (["cancelled"] if cancel else ["finished"])


def test_headers_keep_names_as_received_and_values_as_utf8() -> None:
    data = "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\u00e9 \t\r\nContent-Length: 0\r\n\r\n".encode()
    (request,) = parse_all(data, step=len(data))
    assert dict(request.headers.items()) == {
        "Host": "h",
        "X-Name": "caf\u00e9",
        "Content-Length": "0",
    }
    assert request.headers["x-name"] == "caf\u00e9"
    with pytest.raises(BadRequest, match="not a token"):  # RFC 9110 §5.1: a name is a token
        parse_all(b"GET / HTTP/1.1\r\nHost: h\r\nX-\xc3\xa9: 1\r\n\r\n")


def test_long_header_lines_are_refused_even_among_short_ones() -> None:
    long_line = b"X-Long: " + b"v" * 8200 + b"\r\n"
    data = b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n" + long_line + b"B: 2\r\n\r\n"
    with pytest.raises(BadRequest) as caught:
        parse_all(data, step=len(data))
    assert caught.value.status == 400
    fine = b"GET / HTTP/1.1\r\nHost: h\r\n"
    fine += b"".join(b"X-%d: %s\r\n" % (i, b"v" * 8000) for i in range(3))
    (request,) = parse_all(fine + b"\r\n", step=len(fine) + 2)
    assert len(request.headers) == 4


def test_a_handler_runs_at_once_up_to_its_first_wait_then_is_carried_on_without_a_task() -> None:
    seen: list[str] = []

    async def handler(request: HttpRequest) -> HttpReply:
        seen.append(f"{request.path} starts in a task: {asyncio.current_task() is not None}")
        if request.path == "/wait":
            await asyncio.sleep(0)  # a bare yield
            await asyncio.sleep(0.001)  # a future
            tasks = asyncio.all_tasks() - current
            seen.append(f"resumes in a task: {asyncio.current_task() is not None}, others: {tasks}")
        return HttpReply(200, request.path.encode())

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"GET /now HTTP/1.1\r\nHost: h\r\n\r\nGET /wait HTTP/1.1\r\nHost: h\r\n\r\n"
            b"GET /now2 HTTP/1.1\r\nHost: h\r\n\r\n"
        )
        bodies = [(await read_reply(reader))[2] for _ in range(3)]
        assert bodies == [b"/now", b"/wait", b"/now2"]  # in order, none lost

    current: set[asyncio.Task[Any]] = set()

    async def recorded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        current.add(asyncio.current_task())  # type: ignore[arg-type]
        await scenario(reader, writer)

    run(handler, recorded)
    assert seen == [
        "/now starts in a task: False",
        "/wait starts in a task: False",
        "resumes in a task: False, others: set()",  # no task was made for the request
        "/now2 starts in a task: False",  # answered from the resumed handler's _advance
    ]


def carry(coroutine: Coroutine[Any, Any, None]) -> Carried:
    """``coroutine`` run up to its first wait, then carried on (as ``Connection._start`` does)."""
    return Carried(coroutine, coroutine.send(None), asyncio.get_running_loop())


async def _sleeps_until_cancelled(outcome: list[str]) -> None:
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        outcome.append("cancelled")
        raise
    outcome.append("finished")


def test_carried_cancel_reaches_the_coroutine_waiting_on_a_future() -> None:
    outcome: list[str] = []

    async def main() -> None:
        coroutine = _sleeps_until_cancelled(outcome)
        carried = carry(coroutine)
        carried.cancel()
        await eventually(lambda: bool(outcome), "the coroutine to end")

    asyncio.run(main())
    assert outcome == ["cancelled"]


def test_carried_cancel_after_the_future_is_done_still_cancels_the_next_step() -> None:
    """As a task's: the future waited on finished, its callback has not run yet: the
    coroutine gets ``CancelledError`` at its next step instead of the result."""
    outcome: list[str] = []

    async def waits(future: asyncio.Future[int]) -> None:
        try:
            outcome.append(f"got {await future}")
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    async def main() -> None:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        coroutine = waits(future)
        carried = carry(coroutine)
        future.set_result(1)  # the resumption is scheduled, not run
        carried.cancel()
        await eventually(lambda: bool(outcome), "the coroutine to end")

    asyncio.run(main())
    assert outcome == ["cancelled"]


def test_carried_cancelled_during_a_step_cancels_the_next_future_it_waits_on() -> None:
    outcome: list[str] = []
    carried: list[Carried] = []

    async def cancels_itself(first: asyncio.Future[None]) -> None:
        await first
        carried[0].cancel()  # e.g. the connection closed by something this step called
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    async def main() -> None:
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        coroutine = cancels_itself(first)
        carried.append(carry(coroutine))
        first.set_result(None)
        await asyncio.wait_for(carried[0].finished(), 5)

    asyncio.run(main())
    assert outcome == ["cancelled"]


def test_closing_the_server_lets_a_cancelled_handler_finish_its_cleanup() -> None:
    """As ``asyncio.run`` lets a cancelled task run its ``finally`` (awaits included)."""
    outcome: list[str] = []
    started: list[str] = []

    async def slow(request: HttpRequest) -> HttpReply:
        started.append(request.path)
        try:
            await asyncio.sleep(10)
        finally:
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            outcome.append("cleaned up")
        return HttpReply(200)

    async def main() -> None:
        server = HttpServer(slow, "127.0.0.1", 0, keep_bytes=100)
        port = await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
        await writer.drain()
        await eventually(lambda: bool(started), "the handler to start")
        await server.close()
        assert outcome == ["cleaned up"]  # before close returned
        writer.close()

    asyncio.run(main())


def test_carried_resumes_after_a_bare_yield_and_refuses_what_is_not_a_future() -> None:
    outcome: list[str] = []

    class NotAFuture:
        def __await__(self) -> Generator[Any, None, None]:
            yield "not a future"

    async def odd() -> None:
        await asyncio.sleep(0)
        outcome.append("after a bare yield")
        try:
            await NotAFuture()
        except RuntimeError as exc:
            outcome.append(str(exc))

    async def main() -> None:
        coroutine = odd()
        carry(coroutine)
        await eventually(lambda: len(outcome) == 2, "the coroutine to end")

    asyncio.run(main())
    assert outcome == [
        "after a bare yield",
        "expected a future or a bare yield from the coroutine, got 'not a future'",
    ]
