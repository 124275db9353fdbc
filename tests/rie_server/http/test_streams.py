"""http.streams: request bodies taken piece by piece, replies written chunk by chunk."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Callable, Union

from lambdarig.rie_server.http.server import (
    BodySink,
    Headers,
    HttpReply,
    HttpRequest,
    HttpServer,
    ReplyStream,
    RequestParser,
)
from tests.probes import eventually

CHUNKED_HEAD = b"POST /s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"


class Recorder(BodySink):
    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[bytes] = []
        self.trailers: Headers | None = None
        self.aborted = False

    def data(self, chunk: bytes) -> None:
        self.pieces.append(chunk)

    def end(self, trailers: Headers) -> None:
        self.trailers = trailers

    def abort(self) -> None:
        self.aborted = True


def test_parser_gives_a_sink_the_pieces_and_the_trailers_byte_by_byte() -> None:
    data = CHUNKED_HEAD + b"3\r\nabc\r\n2\r\nde\r\n0\r\nX-Error-Type: Boom\r\n\r\n"
    parser = RequestParser(1000)
    sinks: list[Recorder] = []

    def on_head(request: HttpRequest) -> BodySink | None:
        sinks.append(Recorder())
        return sinks[-1]

    parser.on_head = on_head
    found = []
    for byte in range(len(data)):
        parser.feed(data[byte : byte + 1])
        request = parser.next_request()
        if request is not None:
            found.append(request)
    (request,) = found
    (sink,) = sinks
    assert b"".join(sink.pieces) == b"abcde" and len(sink.pieces) == 5  # as the bytes came
    assert sink.trailers is not None and sink.trailers["x-error-type"] == "Boom"
    assert request.sink is sink and request.body == b"" and request.received == 5


def test_parser_without_a_sink_keeps_the_body() -> None:
    parser = RequestParser(1000)
    parser.on_head = lambda request: None
    parser.feed(CHUNKED_HEAD + b"3\r\nabc\r\n0\r\n\r\n")
    request = parser.next_request()
    assert request is not None and request.body == b"abc" and request.sink is None


Answer = Union[HttpReply, Awaitable[Union[HttpReply, ReplyStream]]]


def serve(
    handler: Callable[[HttpRequest], Answer],
    scenario: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    on_head: Callable[[HttpRequest], BodySink | None] | None = None,
) -> None:
    async def main() -> None:
        server = HttpServer(handler, "127.0.0.1", 0, keep_bytes=100, on_head=on_head)
        port = await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                await scenario(reader, writer)
            finally:
                writer.close()
        finally:
            await server.close()

    asyncio.run(main())


def test_a_streamed_body_reaches_the_sink_before_it_ends() -> None:
    sinks: list[Recorder] = []

    def on_head(request: HttpRequest) -> BodySink | None:
        if request.path != "/s":
            return None
        sinks.append(Recorder())
        return sinks[-1]

    def handler(request: HttpRequest) -> HttpReply:
        assert isinstance(request.sink, Recorder)
        return HttpReply(202, b"got " + b"".join(request.sink.pieces))

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_HEAD + b"5\r\nfirst\r\n")
        await eventually(lambda: bool(sinks) and sinks[0].pieces == [b"first"], "first piece")
        writer.write(b"4\r\nnext\r\n0\r\nA: 1\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 202")
        assert await reader.readexactly(13) == b"got firstnext"
        # the next request on the connection is buffered as always
        writer.write(b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 202") and await reader.readexactly(6) == b"got ok"

    def handler_both(request: HttpRequest) -> HttpReply:
        if request.sink is None:
            return HttpReply(202, b"got " + request.body)
        return handler(request)

    serve(handler_both, scenario, on_head)
    assert sinks[0].trailers is not None and sinks[0].trailers["A"] == "1"


def test_a_client_leaving_mid_body_aborts_the_sink() -> None:
    sinks: list[Recorder] = []

    def on_head(request: HttpRequest) -> BodySink | None:
        sinks.append(Recorder())
        return sinks[-1]

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_HEAD + b"5\r\nfirst\r\n")
        await eventually(lambda: bool(sinks) and bool(sinks[0].pieces), "first piece")
        writer.close()
        await eventually(lambda: sinks[0].aborted, "abort")

    serve(lambda request: HttpReply(200), scenario, on_head)


def test_a_malformed_streamed_body_aborts_the_sink_and_answers_400() -> None:
    sinks: list[Recorder] = []

    def on_head(request: HttpRequest) -> BodySink | None:
        sinks.append(Recorder())
        return sinks[-1]

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_HEAD + b"5\r\nfirstXX")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400")
        assert sinks[0].aborted

    serve(lambda request: HttpReply(200), scenario, on_head)


def test_a_streamed_reply_is_written_chunk_by_chunk_then_keep_alive_goes_on() -> None:
    streams: list[ReplyStream] = []

    async def handler(request: HttpRequest) -> HttpReply | ReplyStream:
        if request.path == "/plain":
            return HttpReply(200, b"plain")
        stream = ReplyStream(200, (("Content-Type", "text/x-test"),))
        streams.append(stream)
        return stream

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"GET /s HTTP/1.1\r\nHost: h\r\n\r\nGET /plain HTTP/1.1\r\nHost: h\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"Transfer-Encoding: chunked" in head and b"Content-Type: text/x-test" in head
        await eventually(lambda: bool(streams), "the stream")
        streams[0].write(b"one")
        assert await reader.readexactly(8) == b"3\r\none\r\n"  # before the reply ends
        streams[0].write(b"")  # not the last chunk
        streams[0].write(b"two!")
        streams[0].end()
        assert await reader.readexactly(9 + 5) == b"4\r\ntwo!\r\n0\r\n\r\n"
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and await reader.readexactly(5) == b"plain"

    serve(handler, scenario)


def test_a_client_hanging_up_on_a_streamed_reply_does_not_stop_its_producer() -> None:
    streams: list[ReplyStream] = []
    hung_up: list[bool] = []

    async def handler(request: HttpRequest) -> ReplyStream:
        stream = ReplyStream(200)
        stream.on_hangup = lambda: hung_up.append(True)
        streams.append(stream)
        return stream

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"GET /s HTTP/1.1\r\nHost: h\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        writer.close()
        await eventually(lambda: hung_up == [True], "the hang-up")
        streams[0].write(b"nobody reads this")  # a no-op, no error
        await streams[0].drain()
        streams[0].end()
        assert streams[0].hung_up

    serve(handler, scenario)


def test_an_aborted_reply_closes_without_its_last_chunk() -> None:
    streams: list[ReplyStream] = []

    async def handler(request: HttpRequest) -> ReplyStream:
        stream = ReplyStream(200)
        streams.append(stream)
        if request.path == "/early":
            stream.write(b"early")
            stream.abort()  # before the connection took the stream
        return stream

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"GET /s HTTP/1.1\r\nHost: h\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        await eventually(lambda: bool(streams), "the stream")
        streams[0].write(b"part")
        streams[0].abort()
        streams[0].end()  # nothing after an abort
        assert await reader.read() == b"4\r\npart\r\n"  # then EOF: no 0\r\n\r\n

    serve(handler, scenario)

    async def early(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"GET /early HTTP/1.1\r\nHost: h\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        assert await reader.read() == b"5\r\nearly\r\n"

    streams.clear()
    serve(handler, early)


def test_a_head_request_gets_a_streamed_replys_head_alone() -> None:
    """RFC 9110 §9.3.2: a HEAD answer has no body. As for a buffered reply (its head keeps the
    ``Content-Length`` a GET would get), the head keeps ``Transfer-Encoding: chunked``; the
    exchange ends at the head and the producer sees a hang-up: its writes go nowhere."""
    streams: list[ReplyStream] = []
    hung_up: list[str] = []

    async def handler(request: HttpRequest) -> HttpReply | ReplyStream:
        if request.path == "/plain":
            return HttpReply(200, b"plain")
        stream = ReplyStream(201, (("Content-Type", "text/x-test"),))
        stream.write(b"written before the connection took it")
        stream.on_hangup = lambda: hung_up.append(request.path)
        streams.append(stream)
        return stream

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HEAD /s HTTP/1.1\r\nHost: h\r\n\r\n"
            b"HEAD /plain HTTP/1.1\r\nHost: h\r\n\r\n"
            b"GET /plain HTTP/1.1\r\nHost: h\r\n\r\n"
            b"HEAD /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 201 Created\r\n")
        assert b"Transfer-Encoding: chunked" in head and b"Content-Type: text/x-test" in head
        await eventually(lambda: "/s" in hung_up, "the first stream's hang-up")
        streams[0].write(b"nobody reads this")  # a no-op, no error
        await streams[0].drain()
        streams[0].end()
        head = await reader.readuntil(b"\r\n\r\n")  # the next answer follows the head at once
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Length: 5" in head
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and await reader.readexactly(5) == b"plain"
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 201") and b"Connection: close" in head
        assert await reader.read() == b""  # no body, then EOF
        assert hung_up == ["/s", "/last"] and streams[1].hung_up

    serve(handler, scenario)


def test_a_failing_handler_answers_a_head_request_with_a_head() -> None:
    async def handler(request: HttpRequest) -> HttpReply:
        raise RuntimeError("a bug")

    async def scenario(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 500 ") and b"Connection: close" in head
        assert await reader.read() == b""

    serve(handler, scenario)
