"""Sans-IO HTTP/1.1 request parsing for ``http.server``: bytes in, ``HttpRequest`` values out.

``RequestParser`` frames requests by ``Content-Length`` or ``Transfer-Encoding: chunked`` (trailers
read and dropped), keeps at most ``keep_bytes`` of a body (the rest counted, not held), refuses
ambiguous or malformed framing with ``BadRequest`` (carrying the status to answer) and flags
``Expect: 100-continue``. With ``on_head`` set, a request's head is offered as soon as it is
parsed, and a ``BodySink`` returned for it gets the body's pieces instead of the request (see
``http.streams``). It finds lines and blocks (CRLF only: a bare LF is refused as soon as
it arrives); ``http.grammar`` says whether they are acceptable. No sockets, no clock.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping
from typing import TYPE_CHECKING, Callable

from lambdarig.rie_server.http.grammar import (
    CHUNK_LINE_MAX,
    MAX_HEADER_BYTES,
    MAX_LINE,
    BadRequest,
    body_length,
    check_trailers,
    chunk_size,
    header_items,
    request_line,
)

if TYPE_CHECKING:
    from lambdarig.rie_server.http.streams import BodySink

_REMEMBERED_HEAD_MAX = 4096  # a longer head is parsed each time (not kept per connection)
_REMEMBERED_HEADS = 2  # per connection: a runtime alternates /next with its answer

__all__ = ["MAX_HEADER_BYTES", "MAX_LINE", "BadRequest", "Headers", "HttpRequest", "RequestParser"]


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only request headers; repeated fields are joined by ``", "``."""

    __slots__ = ("_items",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            _add(items, name, value)
        self._items = items

    @classmethod
    def _of(cls, items: dict[str, tuple[str, str]]) -> Headers:
        """Wrap ``{lower-case name: (name, value)}`` as built by the parser (no copy)."""
        headers = cls.__new__(cls)
        headers._items = items
        return headers

    def _raw(self, key: str) -> str | None:
        """The value for an already lower-case ``key`` (the parser's own lookups)."""
        found = self._items.get(key)
        return None if found is None else found[1]

    def items(self) -> ItemsView[str, str]:
        """``(name as received, value)`` pairs: a plain dict's view, built in one pass (the
        generic ``Mapping.items`` looks every name up again)."""
        return {name: value for name, value in self._items.values()}.items()

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        found = self._items.get(name.lower())
        return default if found is None else found[1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)


class HttpRequest:
    """One complete request. ``body`` holds at most the server's ``keep_bytes``; ``received`` is
    how many body bytes arrived in all; ``content_length`` is ``None`` for chunked or no body."""

    __slots__ = (
        "method",
        "target",
        "version",
        "headers",
        "body",
        "content_length",
        "received",
        "sink",
    )

    def __init__(
        self,
        method: str,
        target: str,
        version: str,
        headers: Headers,
        body: bytes,
        content_length: int | None,
        received: int,
        sink: BodySink | None = None,
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.content_length = content_length
        self.received = received
        self.sink = sink  # the body went there piece by piece (``on_head``)

    @property
    def path(self) -> str:
        """The target without its query string (still percent-encoded)."""
        return self.target.partition("?")[0]

    @property
    def query(self) -> dict[str, str]:
        """The query string's parameters (a repeated one: the last value; ``+``/``%XX`` decoded)."""
        query = self.target.partition("?")[2]
        if not query:
            return {}
        # Imported here: urllib.parse loads ipaddress, and the Invoke and Runtime APIs never
        # read a query string (only the HTTP front and the control plane do).
        from urllib.parse import parse_qsl

        return dict(parse_qsl(query, keep_blank_values=True))

    @property
    def keep_alive(self) -> bool:
        connection = (self.headers._raw("connection") or "").lower()  # lower-case key: no .lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


class RequestParser:
    """Sans-IO: ``feed`` bytes, then take requests with ``next_request`` until it returns ``None``.

    ``expects_continue`` turns true once a request's head asked for ``100-continue`` and its body
    is still to come; the caller answers and calls ``continue_sent``. ``in_request`` and
    ``in_body`` tell the server which wait (and so which timeout) it is in.
    """

    def __init__(self, keep_bytes: int) -> None:
        self._keep = keep_bytes
        self._buf = bytearray()
        self._scanned = 0  # bytes of an incomplete head (or trailers) already searched
        self._head: tuple[str, str, str, Headers] | None = None
        self._length: int | None = None  # Content-Length of the pending body; None = chunked
        self._chunks: list[bytes] = []
        self._kept = 0
        self._received = 0
        self._chunk_left = -1  # chunked: bytes left in the current chunk (-1 = size line next)
        self._in_trailers = False
        self._trailers: dict[str, tuple[str, str]] = {}
        # Heads accepted and what they meant: a client repeating one byte for byte (a runtime's
        # ``/next``, a caller's invoke) gets the same meaning, and its requests the same read-only
        # ``Headers``, without parsing it again. The first ones are kept; a new one takes the last
        # place (a runtime's answers differ each time).
        self._known: dict[bytes, tuple[tuple[str, str, str, Headers], int | None]] = {}
        self.expects_continue = False
        # Offered each head as soon as it is parsed; a sink it returns takes that body.
        self.on_head: Callable[[HttpRequest], BodySink | None] | None = None
        self.sink: BodySink | None = None

    @property
    def buffered(self) -> int:
        return len(self._buf)

    @property
    def in_request(self) -> bool:
        """Part of a request has arrived (its head, or some of it) and not all of it."""
        return self._head is not None or bool(self._buf)

    @property
    def in_body(self) -> bool:
        """A request's head has arrived and its body has not, all of it."""
        return self._head is not None

    def feed(self, data: bytes | memoryview) -> None:
        self._buf += data

    def continue_sent(self) -> None:
        self.expects_continue = False

    def next_request(self) -> HttpRequest | None:
        """The next complete request, or ``None`` until more bytes arrive; raises ``BadRequest``."""
        if self._head is None and (not self._buf or not self._read_head()):
            return None
        assert self._head is not None
        length, buf = self._length, self._buf
        if (  # the usual request: its whole body arrived with its head, and is kept
            length is not None
            and not self._received
            and self.sink is None
            and len(buf) >= length
            and length <= self._keep
        ):
            body = bytes(buf[:length])
            del buf[:length]
            method, target, version, headers = self._head
            self._head, self.expects_continue = None, False  # nothing else was set for it
            return HttpRequest(method, target, version, headers, body, length, length)
        done = self._read_chunked() if length is None else self._read_length()
        if not done:
            return None
        method, target, version, headers = self._head
        body = b"".join(self._chunks)
        request = HttpRequest(method, target, version, headers, body, self._length, self._received)
        if self.sink is not None:
            request.sink, self.sink = self.sink, None
            trailers, self._trailers = Headers._of(self._trailers), {}
            request.sink.end(trailers)
        self._head, self._chunks, self._kept, self._received = None, [], 0, 0
        self._chunk_left, self._in_trailers, self.expects_continue = -1, False, False
        return request

    def _read_head(self) -> bool:
        buf = self._buf
        if buf.startswith(b"\r\n"):  # RFC 9112 §2.2: ignore empty lines before a request
            while buf.startswith(b"\r\n"):
                del buf[:2]
            self._scanned = 0
        end = self._blank_line()
        if end < 0:
            if buf and buf[0] < 0x21 and buf[0] != 0x0D:  # as h11: not a request line (TLS?)
                raise BadRequest(f"expected a request line, got {bytes(buf[:16])!r}")
            return False
        block = bytes(buf[:end])
        del buf[: end + 4]
        self._scanned = 0
        known = self._known.get(block)
        if known is not None:
            self._head, self._length = known
            method, target, version, headers = known[0]
            items = headers._items
        else:
            first, _, rest = block.partition(b"\r\n")
            method, target, version = request_line(first)
            items = header_items(rest)
            self._length = body_length(items, version)  # may store a field back: before Headers
            self._head = (method, target, version, Headers._of(items))
            if len(block) <= _REMEMBERED_HEAD_MAX:  # only a head that was accepted
                if len(self._known) >= _REMEMBERED_HEADS:
                    self._known.popitem()  # the newest
                self._known[block] = (self._head, self._length)
        if "expect" in items:
            expect = items["expect"][1].lower()
            has_body = self._length is None or self._length > 0
            self.expects_continue = expect == "100-continue" and has_body and not buf
        if self.on_head is not None:
            head = HttpRequest(method, target, version, self._head[3], b"", self._length, 0)
            self.sink = self.on_head(head)
        return True

    def _blank_line(self) -> int:
        """Where the header (or trailer) block ends, or -1 until it has arrived. Refuses a bare LF
        at once (a request with LF line endings is answered 400, not left waiting) and a block
        over ``MAX_HEADER_BYTES`` (431)."""
        buf = self._buf
        end = buf.find(b"\r\n\r\n", max(0, self._scanned - 3))  # bytes searched before: not again
        if end < 0:
            if len(buf) > MAX_HEADER_BYTES:
                raise BadRequest("request header section too large", 431)
            newline = buf.find(b"\n", max(0, self._scanned - 1))
            while newline >= 0:
                if newline == 0 or buf[newline - 1] != 0x0D:
                    raise BadRequest(f"expected CRLF line endings, got a bare LF: {_around(buf)}")
                newline = buf.find(b"\n", newline + 1)
            self._scanned = len(buf)
        elif end > MAX_HEADER_BYTES:
            raise BadRequest("request header section too large", 431)
        return end

    def _take(self, size: int) -> None:
        data = bytes(self._buf[:size])
        del self._buf[:size]
        self._received += size
        if self.sink is not None:
            if data:
                self.sink.data(data)
            return
        room = self._keep - self._kept
        if room > 0:
            kept = data[:room]
            self._chunks.append(kept)
            self._kept += len(kept)

    def _read_length(self) -> bool:
        assert self._length is not None
        self._take(min(self._length - self._received, len(self._buf)))
        return self._received == self._length

    def _read_chunked(self) -> bool:
        while True:
            if self._in_trailers:
                return self._read_trailers()
            if self._chunk_left > 0:
                step = min(self._chunk_left, len(self._buf))
                self._take(step)
                self._chunk_left -= step
                if self._chunk_left > 0:
                    return False
            if self._chunk_left == 0:  # the CRLF closing a chunk's data
                if not self._chunk_end():
                    return False
                self._chunk_left = -1
            line = self._size_line()
            if line is None:
                return False
            self._chunk_left = chunk_size(line)
            if self._chunk_left == 0:
                self._in_trailers = True

    def _chunk_end(self) -> bool:
        """Consume the CRLF after a chunk's data; refuse anything else as soon as it arrives."""
        head = bytes(self._buf[:2])
        if head != b"\r\n"[: len(head)]:
            raise BadRequest(f"expected CRLF after a chunk's data, got {head!r}")
        if len(head) < 2:
            return False
        del self._buf[:2]
        return True

    def _size_line(self) -> bytes | None:
        buf = self._buf
        end = buf.find(b"\n", 0, CHUNK_LINE_MAX + 2)
        if end < 0:
            if len(buf) > CHUNK_LINE_MAX + 1:
                raise BadRequest(f"expected a chunk-size line of at most {CHUNK_LINE_MAX} bytes")
            return None
        if end == 0 or buf[end - 1] != 0x0D:
            raise BadRequest(f"expected CRLF after a chunk size, got a bare LF: {_around(buf)}")
        line = bytes(buf[: end - 1])
        del buf[: end + 1]
        return line

    def _read_trailers(self) -> bool:
        if self._buf.startswith(b"\r\n"):
            del self._buf[:2]
            return True
        end = self._blank_line()
        if end < 0:
            return False
        items = check_trailers(bytes(self._buf[:end]))
        if self.sink is not None:
            self._trailers = items
        del self._buf[: end + 4]
        self._scanned = 0
        return True


def _add(items: dict[str, tuple[str, str]], name: str, value: str) -> None:
    key = name.lower()
    found = items.get(key)
    items[key] = (name, value) if found is None else (found[0], f"{found[1]}, {value}")


def _around(buf: bytearray) -> str:
    return repr(bytes(buf[:80]))
