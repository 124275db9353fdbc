"""Sans-IO HTTP/1.1 request parsing for ``http11``: bytes in, ``HttpRequest`` values out.

``RequestParser`` frames requests by ``Content-Length`` or ``Transfer-Encoding: chunked`` (trailers
read and dropped), keeps at most ``keep_bytes`` of a body (the rest counted, not held), refuses
ambiguous or malformed framing with ``BadRequest`` (carrying the status to answer) and flags
``Expect: 100-continue``. No sockets, no clock.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

MAX_LINE = 8190  # request line and each header line, as aiohttp's limits
MAX_HEADER_BYTES = 64 * 1024
_CHUNK_LINE_MAX = 1024


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


@dataclass
class HttpRequest:
    """One complete request. ``body`` holds at most the server's ``keep_bytes``; ``received`` is
    how many body bytes arrived in all; ``content_length`` is ``None`` for chunked or no body."""

    method: str
    target: str
    version: str
    headers: Headers
    body: bytes
    content_length: int | None
    received: int

    @property
    def path(self) -> str:
        """The target without its query string (still percent-encoded)."""
        return self.target.partition("?")[0]

    @property
    def query(self) -> dict[str, str]:
        """The query string's parameters (a repeated one: the last value; ``+``/``%XX`` decoded)."""
        query = self.target.partition("?")[2]
        return dict(parse_qsl(query, keep_blank_values=True)) if query else {}

    @property
    def keep_alive(self) -> bool:
        connection = (self.headers.get("Connection") or "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


class BadRequest(Exception):
    """The bytes received are not an acceptable HTTP/1.1 request (answered, then closed)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class RequestParser:
    """Sans-IO: ``feed`` bytes, then take requests with ``next_request`` until it returns ``None``.

    ``expects_continue`` turns true once a request's head asked for ``100-continue`` and its body
    is still to come; the caller answers and calls ``continue_sent``.
    """

    def __init__(self, keep_bytes: int) -> None:
        self._keep = keep_bytes
        self._buf = bytearray()
        self._head: tuple[str, str, str, Headers] | None = None
        self._length: int | None = None  # Content-Length of the pending body; None = chunked
        self._chunks: list[bytes] = []
        self._kept = 0
        self._received = 0
        self._chunk_left = -1  # chunked: bytes left in the current chunk (-1 = size line next)
        self._in_trailers = False
        self.expects_continue = False

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes | memoryview) -> None:
        self._buf += data

    def continue_sent(self) -> None:
        self.expects_continue = False

    def next_request(self) -> HttpRequest | None:
        """The next complete request, or ``None`` until more bytes arrive; raises ``BadRequest``."""
        if self._head is None and (not self._buf or not self._read_head()):
            return None
        assert self._head is not None
        done = self._read_chunked() if self._length is None else self._read_length()
        if not done:
            return None
        method, target, version, headers = self._head
        body = b"".join(self._chunks)
        request = HttpRequest(method, target, version, headers, body, self._length, self._received)
        self._head, self._chunks, self._kept, self._received = None, [], 0, 0
        self._chunk_left, self._in_trailers, self.expects_continue = -1, False, False
        return request

    def _read_head(self) -> bool:
        while self._buf.startswith(b"\r\n"):  # RFC 9112 §2.2: ignore empty lines before a request
            del self._buf[:2]
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > MAX_HEADER_BYTES:
                raise BadRequest("request header section too large", 431)
            return False
        if end > MAX_HEADER_BYTES:
            raise BadRequest("request header section too large", 431)
        first, _, rest = bytes(self._buf[:end]).partition(b"\r\n")
        del self._buf[: end + 4]
        method, target, version = _request_line(first)
        items = _header_items(rest)
        headers = Headers._of(items)
        self._length = _body_length(headers)
        self._head = (method, target, version, headers)
        if "expect" in items:
            expect = items["expect"][1].lower()
            has_body = self._length is None or self._length > 0
            self.expects_continue = expect == "100-continue" and has_body and not self._buf
        return True

    def _take(self, size: int) -> None:
        data = bytes(self._buf[:size])
        del self._buf[:size]
        self._received += size
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
                return self._skip_trailers()
            if self._chunk_left > 0:
                step = min(self._chunk_left, len(self._buf))
                self._take(step)
                self._chunk_left -= step
                if self._chunk_left > 0:
                    return False
            line = self._line()
            if line is None:
                return False
            if self._chunk_left == 0:  # the CRLF closing a chunk's data
                if line:
                    raise BadRequest("expected CRLF after a chunk's data")
                self._chunk_left = -1
                continue
            self._chunk_left = _chunk_size(line)
            if self._chunk_left == 0:
                self._in_trailers = True

    def _skip_trailers(self) -> bool:
        while True:
            line = self._line()
            if line is None:
                return False
            if not line:
                return True

    def _line(self) -> bytes | None:
        end = self._buf.find(b"\r\n")
        if end < 0:
            if len(self._buf) > _CHUNK_LINE_MAX:
                raise BadRequest("chunk size or trailer line too long")
            return None
        line = bytes(self._buf[:end])
        del self._buf[: end + 2]
        return line


def _request_line(line: bytes) -> tuple[str, str, str]:
    parts = line.split(b" ")
    if len(line) > MAX_LINE or len(parts) != 3 or not parts[0].isalpha():
        raise BadRequest(f"expected a request line like 'GET /path HTTP/1.1', got {line[:80]!r}")
    version = parts[2].decode("ascii", "replace")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(f"expected HTTP/1.1 or HTTP/1.0, got {version!r}", 505)
    target = parts[1].decode("ascii", "replace")
    if not target.startswith("/") and target != "*":
        target = "/" + target.partition("://")[2].partition("/")[2] if "://" in target else target
    return parts[0].decode("ascii"), target, version


def _add(items: dict[str, tuple[str, str]], name: str, value: str) -> None:
    key = name.lower()
    found = items.get(key)
    items[key] = (name, value) if found is None else (found[0], f"{found[1]}, {value}")


def _header_items(block: bytes) -> dict[str, tuple[str, str]]:
    """``{lower-case name: (name, value)}`` of a header block: decoded once, split once, each line
    checked and stored inline (this runs for every request of every invoke)."""
    items: dict[str, tuple[str, str]] = {}
    if not block:
        return items
    long_lines = len(block) > MAX_LINE  # else no line can be too long
    for line in block.decode("utf-8", "surrogateescape").split("\r\n"):
        name, sep, value = line.partition(":")
        if (
            not sep
            or not name
            or name != name.strip()
            or (long_lines and len(line.encode("utf-8", "surrogateescape")) > MAX_LINE)
        ):
            raw = line.encode("utf-8", "surrogateescape")
            raise BadRequest(f"expected a 'Name: value' header line, got {raw[:80]!r}")
        if not name.isascii():  # as an ASCII decode with "replace" would have read it
            name = name.encode("utf-8", "surrogateescape").decode("ascii", "replace")
        value = value.strip(" \t")
        key = name.lower()
        if key in items:
            first, earlier = items[key]
            items[key] = (first, f"{earlier}, {value}")
        else:
            items[key] = (name, value)
    return items


def _body_length(headers: Headers) -> int | None:
    """Declared body length; ``None`` = chunked. Refuses ambiguous framing (smuggling)."""
    encoding = headers._raw("transfer-encoding")
    length = headers._raw("content-length")
    if encoding is None and length is not None and length.isdigit() and length.isascii():
        return int(length)  # the usual case, at once
    if encoding is not None:
        if length is not None:
            raise BadRequest("expected Content-Length or Transfer-Encoding, got both")
        if encoding.lower().replace(" ", "") != "chunked":
            raise BadRequest(f"expected Transfer-Encoding: chunked, got {encoding!r}", 501)
        return None
    if length is None:
        return 0
    values = {value.strip() for value in length.split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit() or not length.isascii():
        raise BadRequest(f"expected a decimal Content-Length, got {length!r}")
    return int(values.pop())


def _chunk_size(line: bytes) -> int:
    size = line.split(b";", 1)[0].strip()
    try:
        return int(size, 16)
    except ValueError:
        raise BadRequest(f"expected a hexadecimal chunk size, got {size[:40]!r}") from None
