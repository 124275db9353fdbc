"""Response streaming: a handler result sent to the Runtime API chunk by chunk, as it is produced.

A handler streams its response by returning (or being) one of:

- a generator of ``bytes``/``str`` chunks (``str`` is sent UTF-8 encoded);
- an async generator of the same, driven on the event loop ``async def`` handlers run on;
- a file-like object (its class has a ``read`` method), read in 64 KiB blocks, closed at the end;
- a :class:`StreamingResponse` wrapping any of those (or ``bytes``/``str``, or an iterable of
  chunks), to choose the content type; :func:`http_response_stream` builds one for a Function URL
  (status, headers and cookies first, then the body).

The default content type is ``application/octet-stream``. Empty chunks are skipped. Any other
result is sent buffered, as before. A failure before the first byte is reported on ``/error``
as usual; after it, the stream ends with the error trailers. awslambdaric cannot stream: there a
generator is a ``Runtime.MarshalError``.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming

No I/O here: :mod:`lambdarig.runtime_client.client` posts a :class:`ResponseStream`.
"""

from __future__ import annotations

from lambdarig import runtime_api as wire
from lambdarig.runtime_client.errors import FaultError

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
    from typing import Any, Callable

    RunAsync = Callable[[Any], Any]
    OnError = Callable[[Exception], tuple[str, bytes]]

READ_SIZE = 64 * 1024


def _generator() -> Iterator[None]:
    yield None


async def _async_generator() -> AsyncIterator[None]:
    yield None


# Named without importing ``types`` (cold start), as invoke.py names the coroutine type.
GeneratorType = type(_generator())
AsyncGeneratorType = type(_async_generator())


class StreamingResponse:
    """A response to stream with an explicit content type.

    ``body``: a generator or async generator of ``bytes``/``str`` chunks, a file-like object,
    ``bytes``/``str``, or any iterable or async iterable of chunks. ``TypeError`` for anything
    else. ``prelude`` is sent before the body (used by :func:`http_response_stream`).
    """

    __slots__ = ("body", "content_type", "prelude")

    def __init__(
        self,
        body: Any,
        content_type: str = wire.CONTENT_TYPE_OCTET_STREAM,
        prelude: bytes = b"",
    ) -> None:
        if not _is_body(body):
            raise TypeError(
                "expected a StreamingResponse body of bytes, str, a file-like object or an "
                f"(async) iterable of bytes/str chunks, got {type(body).__name__}"
            )
        if not _is_header_safe(content_type):
            raise ValueError(
                f"expected a content type without control characters, got {content_type!r}"
            )
        self.body = body
        self.content_type = content_type
        self.prelude = prelude

    def __repr__(self) -> str:
        return f"StreamingResponse(content_type={self.content_type!r}, body={self.body!r})"


def http_response_stream(
    body: Any,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    cookies: Iterable[str] | None = None,
) -> StreamingResponse:
    """A streamed HTTP response for a Lambda Function URL (``InvokeMode: RESPONSE_STREAM``).

    The stream starts with the JSON prelude ``{"statusCode": ..., "headers": {...},
    "cookies": [...]}`` and 8 NUL bytes, then ``body`` (as for :class:`StreamingResponse`),
    under the content type ``application/vnd.awslambda.http-integration-response``. The prelude
    is sent as soon as the handler returns, before the body's first chunk.

    Raises ``ValueError`` for a status outside 100-599 and for a header name, header value or
    cookie that is not a string or holds a control character (it would become an HTTP header).
    """
    import json  # only for Function URL responses

    if type(status_code) is not int or not 100 <= status_code <= 599:
        raise ValueError(f"expected an HTTP status code from 100 to 599, got {status_code!r}")
    header_map = dict(headers or {})
    cookie_list = list(cookies or [])
    for text in [*header_map, *header_map.values(), *cookie_list]:
        if not isinstance(text, str) or not _is_header_safe(text):
            raise ValueError(
                f"expected header names, values and cookies as text without control characters, "
                f"got {text!r}"
            )
    prelude = {"statusCode": status_code, "headers": header_map, "cookies": cookie_list}
    encoded = json.dumps(prelude, separators=(",", ":")).encode("utf-8")
    return StreamingResponse(
        body, wire.CONTENT_TYPE_HTTP_INTEGRATION, encoded + wire.HTTP_INTEGRATION_DELIMITER
    )


def is_streamed(result: Any) -> bool:
    """Whether a handler result is streamed rather than buffered. Cheap for plain results."""
    kind = type(result)
    if kind is GeneratorType or kind is AsyncGeneratorType or kind is StreamingResponse:
        return True
    return callable(getattr(kind, "read", None))


class ResponseStream:
    """A streamed response, as the client posts it: ``content_type``, then iterate the chunks
    (non-empty ``bytes``, each yielded as soon as the handler produced it).

    If producing a chunk raises, the iteration ends and ``error`` holds ``(error_type,
    error_json)`` from ``on_error``. ``close()`` releases the handler's generator or file.
    """

    __slots__ = ("content_type", "error", "_first", "_rest", "_on_error")

    def __init__(
        self, content_type: str, first: bytes, rest: Iterator[bytes], on_error: OnError
    ) -> None:
        self.content_type = content_type
        self.error: tuple[str, bytes] | None = None
        self._first = first
        self._rest = rest
        self._on_error = on_error

    def __iter__(self) -> Iterator[bytes]:
        if self._first:
            first, self._first = self._first, b""
            yield first
        try:
            yield from self._rest
        except Exception as exc:  # the function failed mid-stream: reported in the trailers
            self.error = self._on_error(exc)

    def close(self) -> None:
        close = getattr(self._rest, "close", None)
        if close is not None:
            close()

    def __repr__(self) -> str:
        return f"ResponseStream(content_type={self.content_type!r}, error={self.error!r})"


def open_stream(result: Any, run_async: RunAsync, on_error: OnError) -> ResponseStream | None:
    """The stream for a handler result, or ``None`` if it is not streamed.

    The first chunk is produced here, so a failure before the first byte raises (and is reported
    on ``/error``); so does a chunk that is not ``bytes``/``str`` (``Runtime.MarshalError``).
    """
    if not is_streamed(result):
        return None
    if isinstance(result, StreamingResponse):
        content_type, prelude, body = result.content_type, result.prelude, result.body
    else:
        content_type, prelude, body = wire.CONTENT_TYPE_OCTET_STREAM, b"", result
    chunks = _chunks(prelude, body, run_async)
    first = next(chunks, b"")
    return ResponseStream(content_type, first, chunks, on_error)


def _chunks(prelude: bytes, body: Any, run_async: RunAsync) -> Iterator[bytes]:
    """Non-empty ``bytes`` chunks: ``prelude``, then ``body``'s; ``body`` is closed at the end."""
    if prelude:
        yield prelude
    if isinstance(body, (bytes, str, bytearray, memoryview)):
        chunk = _as_bytes(body)
        if chunk:
            yield chunk
    elif callable(getattr(type(body), "read", None)):
        yield from _read_blocks(body)
    elif hasattr(type(body), "__aiter__"):
        yield from _async_chunks(body, run_async)
    else:
        iterator = iter(body)
        try:
            for item in iterator:
                chunk = _as_bytes(item)
                if chunk:
                    yield chunk
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()


def _read_blocks(file: Any) -> Iterator[bytes]:
    try:
        while True:
            block = _as_bytes(file.read(READ_SIZE))
            if not block:
                return
            yield block
    finally:
        close = getattr(file, "close", None)
        if close is not None:
            close()


def _async_chunks(body: Any, run_async: RunAsync) -> Iterator[bytes]:
    iterator = body.__aiter__()
    try:
        while True:
            more, item = run_async(_anext(iterator))
            if not more:
                return
            chunk = _as_bytes(item)
            if chunk:
                yield chunk
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            run_async(aclose())


async def _anext(iterator: Any) -> tuple[bool, Any]:
    try:
        return True, await iterator.__anext__()
    except StopAsyncIteration:
        return False, None


def _as_bytes(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, (bytearray, memoryview)):
        return bytes(item)
    raise FaultError(
        f"Unable to marshal response: expected bytes or str chunks in a streamed response, "
        f"got {type(item).__name__}",
        wire.RUNTIME_MARSHAL_ERROR,
    )


def _is_body(body: Any) -> bool:
    kind = type(body)
    if isinstance(body, dict):
        return False  # iterating it would send its keys: surely a mistake
    return (
        isinstance(body, (bytes, str, bytearray, memoryview))
        or callable(getattr(kind, "read", None))
        or hasattr(kind, "__aiter__")
        or hasattr(kind, "__iter__")
    )


def _is_header_safe(text: str) -> bool:
    return all(c >= " " and c != "\x7f" for c in text)
