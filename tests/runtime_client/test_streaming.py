"""Response streaming end to end: the real loop and Invoker against the fake Runtime API.

Wire format from https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming
(headers ``Lambda-Runtime-Function-Response-Mode: streaming``, ``Transfer-Encoding: chunked``,
``Trailer``; mid-stream errors as the ``Lambda-Runtime-Function-Error-Type``/``-Body`` trailers)
and https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html (Function
URL responses: JSON prelude, 8 NUL bytes, body).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from lambdarig import runtime_api as wire
from lambdarig.runtime_client import StreamingResponse, http_response_stream
from lambdarig.runtime_client.client import RuntimeAPIClient
from lambdarig.runtime_client.concurrency import MultiConcurrentClient
from lambdarig.runtime_client.transport import SocketTransport
from tests.runtime_client.fake_runtime_api import FakeRuntimeAPI, Recorded, Reply
from tests.runtime_client.test_loop import RecordingSink, end_of_script, invocation, run_loop

WAIT = 10.0
RESPONSE = wire.response_path("r1")
ERROR = wire.error_path("r1")


class LoopThread:
    """loop.run in a background thread (the test thread plays the platform)."""

    def __init__(
        self, fake: FakeRuntimeAPI, client: RuntimeAPIClient, handler: Callable[..., Any]
    ) -> None:
        self.sink = RecordingSink()
        self.status: list[int] = []
        self.thread = threading.Thread(
            target=lambda: self.status.append(run_loop(fake, client, handler, self.sink)),
            daemon=True,
        )
        self.thread.start()

    def join(self) -> int:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the runtime loop did not end"
        return self.status[0]


def serve_one(
    fake: FakeRuntimeAPI, client: RuntimeAPIClient, handler: Callable[..., Any], **inv: Any
) -> LoopThread:
    """Queue invocation r1 (then the end of the script) and run the loop on it to completion."""
    fake.queue_invocation(invocation("r1", **inv))
    end_of_script(fake)
    loop = LoopThread(fake, client, handler)
    assert loop.join() == 1
    return loop


def assert_streamed(post: Recorded, content_type: str = wire.CONTENT_TYPE_OCTET_STREAM) -> None:
    assert post.headers[wire.HEADER_RESPONSE_MODE.lower()] == "streaming"
    assert post.headers["transfer-encoding"] == "chunked"
    assert post.headers["trailer"] == (
        "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"
    )
    assert post.headers["content-type"] == content_type
    assert "content-length" not in post.headers


def error_trailer(post: Recorded) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.b64decode(post.trailers[TRAILER_BODY]))
    return decoded


TRAILER_TYPE = wire.HEADER_FUNCTION_ERROR_TYPE.lower()
TRAILER_BODY = wire.HEADER_FUNCTION_ERROR_BODY.lower()


# --- chunks go out as they are produced -------------------------------------------------------


def test_each_chunk_reaches_the_api_before_the_next_is_produced(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    first_seen = threading.Event()

    def handler(event: Any, context: Any) -> Iterator[Any]:
        yield b"one"
        # Blocks until the test saw chunk 1 at the fake: a buffering client would never send it.
        if not first_seen.wait(WAIT):
            raise AssertionError("chunk 1 never reached the Runtime API")
        yield "twö ✓"  # str chunks go out UTF-8 encoded

    fake_api.queue_invocation(invocation("r1", invocation_id="nonce-1"))
    end_of_script(fake_api)
    loop = LoopThread(fake_api, client, handler)

    in_flight = fake_api.wait_for_chunks(RESPONSE, 1)
    assert in_flight.chunks == [b"one"]
    assert not in_flight.complete
    first_seen.set()
    post = fake_api.wait_for_complete(RESPONSE)
    assert loop.join() == 1

    assert post.chunks == [b"one", "twö ✓".encode()]
    assert post.body == "onetwö ✓".encode()
    assert post.trailers == {}
    assert_streamed(post)
    assert post.headers[wire.HEADER_INVOCATION_ID.lower()] == "nonce-1"
    assert not fake_api.posts(ERROR)


def test_the_connection_is_reused_after_a_stream(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    def handler(event: Any, context: Any) -> Any:
        if event.get("stream"):
            return (part for part in (b"a", b"b"))
        return {"buffered": True}

    fake_api.queue_invocation(invocation("r1", b'{"stream": true}'))
    fake_api.queue_invocation(invocation("r2"))
    end_of_script(fake_api)
    LoopThread(fake_api, client, handler).join()

    assert fake_api.wait_for_complete(RESPONSE).chunks == [b"a", b"b"]
    buffered = fake_api.posts(wire.response_path("r2"))[0]
    assert buffered.chunks is None
    assert buffered.body == b'{"buffered": true}'
    assert wire.HEADER_RESPONSE_MODE.lower() not in buffered.headers


def test_an_empty_stream_is_a_streamed_empty_body(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    def handler(event: Any, context: Any) -> Iterator[bytes]:
        yield from ()

    serve_one(fake_api, client, handler)
    post = fake_api.wait_for_complete(RESPONSE)
    assert_streamed(post)
    assert (post.chunks, post.body, post.trailers) == ([], b"", {})


def test_empty_chunks_are_skipped(fake_api: FakeRuntimeAPI, client: RuntimeAPIClient) -> None:
    def handler(event: Any, context: Any) -> Iterator[Any]:
        yield from (b"", "x", "", bytearray(b"y"), memoryview(b"z"))

    serve_one(fake_api, client, handler)
    assert fake_api.wait_for_complete(RESPONSE).chunks == [b"x", b"y", b"z"]


# --- failures ---------------------------------------------------------------------------------


def test_an_error_after_the_first_byte_ends_the_stream_with_trailers(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    def handler(event: Any, context: Any) -> Iterator[bytes]:
        yield b"partial"
        raise ValueError("broke mid-stream")

    loop = serve_one(fake_api, client, handler)
    post = fake_api.wait_for_complete(RESPONSE)
    assert post.chunks == [b"partial"]
    assert post.trailers[TRAILER_TYPE] == "ValueError"
    error = error_trailer(post)
    assert error["errorMessage"] == "broke mid-stream"
    assert error["errorType"] == "ValueError"
    assert error["requestId"] == "r1"
    assert "in handler" in error["stackTrace"][0]  # starts at the user's frame
    assert not fake_api.posts(ERROR)
    assert loop.sink.errors, "the mid-stream error is logged like any function error"


def test_an_error_before_the_first_byte_is_posted_to_error(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    def handler(event: Any, context: Any) -> Iterator[bytes]:
        yield b""  # empty chunks are not bytes on the wire
        raise KeyError("early")

    serve_one(fake_api, client, handler)
    (post,) = fake_api.wait_for_posts(1)
    assert post.path == ERROR
    body = json.loads(post.body)
    assert (body["errorType"], body["errorMessage"]) == ("KeyError", "'early'")
    assert not fake_api.posts(RESPONSE)


def test_a_chunk_that_is_not_bytes_or_str_is_a_marshal_error(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    def handler(event: Any, context: Any) -> Iterator[Any]:
        if event.get("late"):
            yield b"ok"
        yield {"not": "bytes"}

    serve_one(fake_api, client, handler)
    early = json.loads(fake_api.wait_for_posts(1)[0].body)
    assert early["errorType"] == wire.RUNTIME_MARSHAL_ERROR
    assert early["errorMessage"] == (
        "Unable to marshal response: expected bytes or str chunks in a streamed response, got dict"
    )

    fake_api.requests.clear()
    serve_one(fake_api, client, handler, body=b'{"late": true}')
    post = fake_api.wait_for_complete(RESPONSE)
    assert post.trailers[TRAILER_TYPE] == wire.RUNTIME_MARSHAL_ERROR
    assert error_trailer(post)["errorType"] == wire.RUNTIME_MARSHAL_ERROR


def test_control_characters_never_reach_the_error_type_trailer(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    forged = type("Bad\r\nX-Injected: 1", (Exception,), {})

    def handler(event: Any, context: Any) -> Iterator[bytes]:
        yield b"x"
        raise forged("m")

    serve_one(fake_api, client, handler)
    post = fake_api.wait_for_complete(RESPONSE)
    assert post.trailers[TRAILER_TYPE] == "BadX-Injected: 1"
    assert "x-injected" not in post.trailers
    assert error_trailer(post)["errorType"] == "Bad\r\nX-Injected: 1"  # safe inside base64 JSON


def test_the_handlers_generator_is_closed_when_the_post_fails(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    closed = threading.Event()

    def handler(event: Any, context: Any) -> Iterator[bytes]:
        try:
            yield b"a"
            yield b"b"
        finally:
            closed.set()

    fake_api.script("POST", RESPONSE, Reply(500, b'{"errorType":"InternalServerError"}'))
    fake_api.queue_invocation(invocation("r1"))
    loop = LoopThread(fake_api, client, handler)
    assert loop.join() == 1  # a failed post ends the single-concurrency loop
    assert closed.is_set()
    assert any("Reason: '500'" in line for line in loop.sink.lines)


# --- kinds of streamed results ----------------------------------------------------------------


def test_file_like_objects_are_read_in_blocks_and_closed(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    data = bytes(range(256)) * 800  # 204800 bytes: three 64 KiB blocks and a tail
    files: list[io.IOBase] = []

    def handler(event: Any, context: Any) -> Any:
        files.append(io.BytesIO(data) if event.get("binary") else io.StringIO("héllo"))
        return files[-1]

    serve_one(fake_api, client, handler, body=b'{"binary": true}')
    post = fake_api.wait_for_complete(RESPONSE)
    assert [len(c) for c in post.chunks or ()] == [65536, 65536, 65536, 8192]
    assert post.body == data
    fake_api.requests.clear()
    serve_one(fake_api, client, handler)
    assert fake_api.wait_for_complete(RESPONSE).body == "héllo".encode()
    assert all(f.closed for f in files)


def test_async_generators_run_on_the_clients_event_loop(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    import asyncio

    loops: list[asyncio.AbstractEventLoop] = []

    async def chunks(fail: bool) -> AsyncIterator[Any]:
        loops.append(asyncio.get_running_loop())
        yield b"a"
        await asyncio.sleep(0)
        yield "b"
        if fail:
            raise RuntimeError("async broke")

    async def handler(event: Any, context: Any) -> Any:  # a coroutine returning a stream
        return chunks(bool(event.get("fail")))

    serve_one(fake_api, client, handler)
    assert fake_api.wait_for_complete(RESPONSE).chunks == [b"a", b"b"]
    fake_api.requests.clear()
    serve_one(fake_api, client, handler, body=b'{"fail": true}')
    post = fake_api.wait_for_complete(RESPONSE)
    assert post.chunks == [b"a", b"b"]
    assert post.trailers[TRAILER_TYPE] == "RuntimeError"
    assert error_trailer(post)["errorMessage"] == "async broke"


def test_an_async_generator_handler_streams(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    async def handler(event: Any, context: Any) -> AsyncIterator[bytes]:
        yield b"from an async generator handler"

    serve_one(fake_api, client, handler)
    assert fake_api.wait_for_complete(RESPONSE).chunks == [b"from an async generator handler"]


def test_streaming_response_sets_the_content_type(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    def handler(event: Any, context: Any) -> Any:
        return StreamingResponse(iter(["data: 1\n\n", "data: 2\n\n"]), "text/event-stream")

    serve_one(fake_api, client, handler)
    post = fake_api.wait_for_complete(RESPONSE)
    assert_streamed(post, "text/event-stream")
    assert post.chunks == [b"data: 1\n\n", b"data: 2\n\n"]


def test_http_response_stream_sends_the_prelude_then_the_body(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    def body() -> Iterator[str]:
        yield "<h1>"
        yield "hi</h1>"

    def handler(event: Any, context: Any) -> Any:
        return http_response_stream(
            body(), 201, {"Content-Type": "text/html", "X-Ünï": "ö"}, ["a=1; Secure", "b=2"]
        )

    serve_one(fake_api, client, handler)
    post = fake_api.wait_for_complete(RESPONSE)
    assert_streamed(post, "application/vnd.awslambda.http-integration-response")
    assert post.chunks == [
        b'{"statusCode":201,"headers":{"Content-Type":"text/html","X-\\u00dcn\\u00ef":"\\u00f6"},'
        b'"cookies":["a=1; Secure","b=2"]}\x00\x00\x00\x00\x00\x00\x00\x00',
        b"<h1>",
        b"hi</h1>",
    ]


def test_http_response_stream_defaults() -> None:
    response = http_response_stream(b"body")
    assert response.content_type == wire.CONTENT_TYPE_HTTP_INTEGRATION
    assert response.prelude == b'{"statusCode":200,"headers":{},"cookies":[]}' + b"\x00" * 8


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status_code": 99},
        {"status_code": 600},
        {"status_code": "200"},
        {"headers": {"X-A": "1\r\nX-B: 2"}},
        {"headers": {"X-A\n": "1"}},
        {"headers": {"X-A": 1}},
        {"cookies": ["a=1\nb"]},
    ],
)
def test_http_response_stream_rejects_what_would_break_http(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="expected"):
        http_response_stream(b"", **kwargs)


@pytest.mark.parametrize("body", [42, None, {"a": 1}, object()])
def test_streaming_response_rejects_a_body_that_cannot_stream(body: Any) -> None:
    with pytest.raises(TypeError, match="expected a StreamingResponse body"):
        StreamingResponse(body)


def test_streaming_response_rejects_a_content_type_with_control_characters() -> None:
    with pytest.raises(ValueError, match="control characters"):
        StreamingResponse(b"", "text/plain\r\nX-A: 1")


# --- multi-concurrency ------------------------------------------------------------------------


def test_multi_concurrent_client_logs_a_failed_stream_and_goes_on(
    fake_api: FakeRuntimeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(event: Any, context: Any) -> Iterator[bytes]:
        yield b"lost"

    mc = MultiConcurrentClient(SocketTransport(fake_api.address), sleep=lambda s: None)
    fake_api.script("POST", RESPONSE, Reply(500, b"oops"))
    fake_api.queue_invocation(invocation("r1"))
    fake_api.queue_invocation(invocation("r2"))
    for _ in range(5):  # the client retries /next five times before it gives up
        end_of_script(fake_api)
    try:
        with caplog.at_level(logging.WARNING):
            assert run_loop(fake_api, mc, handler, RecordingSink()) == 1
    finally:
        mc.transport.close()
    assert fake_api.wait_for_complete(wire.response_path("r2")).chunks == [b"lost"]
    assert any(
        "Reason: '500'. Response body: 'oops': This won't kill the Runtime loop" in r.getMessage()
        for r in caplog.records
    )
