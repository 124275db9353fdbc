"""HTTP/1.1 framing for ``transport``: a request encoded to bytes (CR/LF refused), a response read
from a blocking socket (status line, headers, a body framed by ``Content-Length``,
``Transfer-Encoding: chunked`` or connection close), every size bounded.

Raises ``StaleConnection`` (no response byte before the end of stream) and ``MalformedResponse``
(not HTTP/1.x); ``transport`` turns them, and every ``OSError``, into ``RuntimeAPIUnreachable``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (cold start)
if TYPE_CHECKING:
    import _socket
    from collections.abc import Mapping

_MAX_LINE = 64 * 1024
_MAX_HEADER_BYTES = 1024 * 1024
_RECV_SIZE = 64 * 1024
_NO_BODY_STATUSES = (204, 304)
_KNOWN_HEAD_MAX = 1024  # a longer head is never remembered (``read_response``)
_KNOWN_HEADS = 2

# ``read_response``'s memory of the heads it parsed: {head block: (status, version, headers)}.
KnownHeads = dict[bytes, tuple[int, str, dict[str, str]]]


class HttpResponse:
    """A complete HTTP response. Header names are lower-cased; repeats are joined by ``, ``."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"HttpResponse(status={self.status}, headers={self.headers!r}, body={self.body!r})"


class StaleConnection(Exception):
    """The connection ended before the first response byte (a closed keep-alive connection)."""


class MalformedResponse(Exception):
    """The peer sent bytes that are not an HTTP/1.x response."""


class Reader:
    """Buffered reads from a blocking socket."""

    __slots__ = ("_sock", "_buf", "received")

    def __init__(self, sock: _socket.socket) -> None:
        self._sock = sock
        self._buf = bytearray()
        self.received = 0

    def _fill(self) -> bool:
        try:
            chunk = self._sock.recv(_RECV_SIZE)
        except ConnectionResetError:
            if self.received == 0:
                raise StaleConnection() from None
            raise
        if not chunk:
            if self.received == 0:
                raise StaleConnection()
            return False
        self.received += len(chunk)
        self._buf += chunk
        return True

    def head_block(self) -> tuple[bytes, bool]:
        """A status line and header block as received (its blank line consumed), and whether
        its lines end in a bare LF. One search per received chunk, not one buffer operation per
        line (``/next`` answers carry ~8)."""
        checked = 0
        if not self._buf:
            self._fill_or_fail()
        while True:
            end = self._buf.find(b"\r\n\r\n", checked)
            # A bare LF LF counts only before a CRLF CRLF (never searched for in the body after).
            bare = self._buf.find(b"\n\n", checked, end if end >= 0 else len(self._buf))
            if end >= 0 and bare < 0:
                block = bytes(self._buf[:end])
                del self._buf[: end + 4]
                return block, False
            if bare >= 0:  # bare LF line endings (tolerated, as by line())
                block = bytes(self._buf[:bare])
                del self._buf[: bare + 2]
                return block, True
            if len(self._buf) > _MAX_HEADER_BYTES:
                raise MalformedResponse(
                    f"expected headers under {_MAX_HEADER_BYTES} bytes, got more"
                )
            checked = max(0, len(self._buf) - 3)
            self._fill_or_fail()

    def _fill_or_fail(self) -> None:
        if not self._fill():
            raise MalformedResponse("expected a blank line ending the headers, got end of stream")

    def line(self) -> bytes:
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[: end + 1])
                del self._buf[: end + 1]
                return line.rstrip(b"\r\n")
            if len(self._buf) > _MAX_LINE:
                raise MalformedResponse(f"expected a line under {_MAX_LINE} bytes, got more")
            if not self._fill():
                raise MalformedResponse("expected a CRLF-terminated line, got end of stream")

    def exactly(self, size: int) -> bytes:
        while len(self._buf) < size:
            if not self._fill():
                raise MalformedResponse(
                    f"expected {size} body bytes, got {len(self._buf)} before end of stream"
                )
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    def rest(self) -> bytes:
        while self._fill():
            pass
        data = bytes(self._buf)
        self._buf.clear()
        return data


def encode_request(
    method: str, path: str, host: str, headers: Mapping[str, str], body: bytes
) -> bytes:
    length = len(body) if body or method not in ("GET", "HEAD") else None
    return encode_head(method, path, host, headers, length) + body


def encode_head(
    method: str, path: str, host: str, headers: Mapping[str, str], length: int | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    text = "\r\n".join(lines)
    # A CR or LF inside any line shows as one more than the separators (one check, not one per
    # line: a request is encoded per invoke).
    if text.count("\r") >= len(lines) or text.count("\n") >= len(lines):
        line = next(line for line in lines if "\r" in line or "\n" in line)
        raise ValueError(f"expected a request line or header without CR/LF, got {line!r}")
    if " " in path:
        raise ValueError(f"expected a request path without spaces, got {path!r}")
    return text.encode("utf-8") + b"\r\n\r\n"


def _lines(block: bytes, bare: bool) -> list[bytes]:
    lines = [line.rstrip(b"\r") for line in block.split(b"\n")] if bare else block.split(b"\r\n")
    if max(map(len, lines)) > _MAX_LINE:
        raise MalformedResponse(f"expected a line under {_MAX_LINE} bytes, got more")
    return lines


def read_response(reader: Reader, known: KnownHeads) -> tuple[HttpResponse, bool]:
    """The next response. ``known`` remembers the last two heads used: a peer repeating one byte
    for byte (the ``202 Accepted`` of each post, within one second's ``Date``) gets the same
    meaning without parsing it again, and each caller its own copy of the headers. Two, the
    least recently used dropped: ``/next`` answers, all different, alternate with the 202s."""
    while True:
        block, bare = reader.head_block()
        # Only CRLF heads are remembered: the same bytes ended by a bare LF split differently.
        found = None if bare else known.pop(block, None)
        if found is None:
            status_line, *lines = _lines(block, bare)
            status, version = _parse_status_line(status_line)
            headers = _parse_headers(lines)
            if not bare and len(block) <= _KNOWN_HEAD_MAX:
                if len(known) >= _KNOWN_HEADS:
                    del known[next(iter(known))]
                known[block] = (status, version, dict(headers))
        else:
            known[block] = found  # now the most recently used
            status, version, headers = found[0], found[1], dict(found[2])
        if not 100 <= status < 200:
            break
    body, delimited = _read_body(reader, status, headers)
    connection = headers.get("connection", "").lower()
    keep_alive = delimited and (
        "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    )
    return HttpResponse(status, headers, body), keep_alive


def _parse_status_line(line: bytes) -> tuple[int, str]:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise MalformedResponse(f"expected a status line like 'HTTP/1.1 200 OK', got {line!r}")
    return int(parts[1]), parts[0].decode("ascii")


def _parse_headers(lines: list[bytes]) -> dict[str, str]:
    """Values as UTF-8 (the platform passes client-context JSON through raw), else latin-1
    (HTTP's historical charset, which decodes any byte). Inline, without a call per line: this
    runs twice per invoke."""
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(b":")
        name = name.strip()
        if not sep or not name:
            raise MalformedResponse(f"expected a 'Name: value' header line, got {line!r}")
        key = name.decode("latin-1").lower()
        value = value.strip()
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _read_body(reader: Reader, status: int, headers: dict[str, str]) -> tuple[bytes, bool]:
    """The body and whether its end was framed (so the connection may be reused)."""
    if status in _NO_BODY_STATUSES:
        return b"", True
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _read_chunked(reader), True
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise MalformedResponse(f"expected a decimal Content-Length, got {length!r}")
        return reader.exactly(int(length)), True
    return reader.rest(), False


def _read_chunked(reader: Reader) -> bytes:
    parts = []
    while True:
        size_line = reader.line().split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise MalformedResponse(
                f"expected a hexadecimal chunk size, got {size_line!r}"
            ) from None
        if size == 0:
            break
        parts.append(reader.exactly(size))
        if reader.line():
            raise MalformedResponse("expected CRLF after a chunk, got more data")
    while reader.line():  # trailers: read and dropped
        pass
    return b"".join(parts)
