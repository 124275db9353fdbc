"""A minimal keep-alive HTTP/1.1 client over a raw socket: the runtime client's only network I/O.

Why not ``http.client``: it imports the ``email`` package, ~15 ms of cold start. Why ``_socket``
rather than ``socket``: ``socket`` imports ``enum`` and ``selectors`` (~7 ms); the C module is all
we need for one blocking TCP connection.

Scope: exactly what the Runtime API needs. One request at a time on one connection; responses
framed by ``Content-Length``, ``Transfer-Encoding: chunked`` or connection close; no TLS, no
proxies, no redirects, no timeouts (``GET /next`` blocks until the platform has an invocation,
possibly across a freeze). A reused keep-alive connection that turns out to be closed before any
response byte arrives is re-opened once and the request resent. A streamed request
(:meth:`SocketTransport.stream`, for response streaming) cannot be resent: its connection is
checked for a close by the peer before the request starts instead.

Every ``OSError`` (and any malformed response) becomes :class:`RuntimeAPIUnreachable` here, and
only here.
"""

from __future__ import annotations

import _socket

from lambdarig.runtime_client.errors import RuntimeAPIUnreachable

TYPE_CHECKING = False  # typing is not imported at run time (cold start)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

_MAX_LINE = 64 * 1024
_MAX_HEADER_BYTES = 1024 * 1024
_RECV_SIZE = 64 * 1024
_NO_BODY_STATUSES = (204, 304)


class HttpResponse:
    """A complete HTTP response. Header names are lower-cased; repeats are joined by ``, ``."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"HttpResponse(status={self.status}, headers={self.headers!r}, body={self.body!r})"


class Transport:
    """The one-method seam between the Runtime API client and the network.

    ``request`` sends one request and returns the whole response. It blocks without a timeout and
    raises :class:`RuntimeAPIUnreachable` when the peer cannot be reached or breaks HTTP. Status
    codes are not interpreted here. Tests may subclass it with an in-memory fake.
    """

    def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes = b""
    ) -> HttpResponse:
        raise NotImplementedError

    def stream(
        self, method: str, path: str, headers: Mapping[str, str], body: Iterable[bytes]
    ) -> HttpResponse:
        """Send a request whose body is written piece by piece, each piece as soon as ``body``
        yields it, then return the whole response.

        Pieces are written verbatim: ``headers`` must declare the framing (e.g.
        ``Transfer-Encoding: chunked``, with pieces framed by the caller); no ``Content-Length``
        is added. If the peer stops reading mid-body, the rest of ``body`` is not consumed and its
        answer, if any, is returned. Raises as :meth:`request`; whatever ``body`` raises
        propagates (the connection is then closed).
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release any connection; the next request opens a new one."""


class SocketTransport(Transport):
    """Keep-alive HTTP/1.1 over TCP to ``address`` (``host:port``, IPv6 as ``[::1]:port``).

    Not thread-safe: one transport per thread or process. Connects lazily on the first request.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self._host, self._port = _split_address(address)
        self._sock: _socket.socket | None = None

    def close(self) -> None:
        if self._sock is not None:
            sock, self._sock = self._sock, None
            try:
                sock.close()
            except OSError:
                pass  # closing a broken socket cannot fail in a way the caller can act on

    def _unreachable(
        self, exc: Exception, method: str, path: str, doing: str
    ) -> RuntimeAPIUnreachable:
        """The error for a failed exchange of ``method path``; ``doing`` says how the request was
        to go (``"exchange ... with"``, ``"stream ... to"``)."""
        what = f"{method} {path}"
        if isinstance(exc, _StaleConnection):
            return RuntimeAPIUnreachable(
                f"the Runtime API at {self.address} closed the connection before answering "
                f"{what}: expected an HTTP response, got end of stream"
            )
        if isinstance(exc, _MalformedResponse):
            return RuntimeAPIUnreachable(
                f"the Runtime API at {self.address} broke HTTP/1.1 answering {what}: {exc}"
            )
        verb, preposition = doing.split(" ... ")
        return RuntimeAPIUnreachable(
            f"could not {verb} {what} {preposition} the Runtime API at {self.address}: "
            f"{exc.__class__.__name__}: {exc}"
        )

    def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes = b""
    ) -> HttpResponse:
        data = _encode_request(method, path, self.address, headers, body)
        try:
            reused = self._sock is not None
            try:
                return self._exchange(data)
            except _StaleConnection:
                if not reused:
                    raise
                self.close()
                return self._exchange(data)
        except (_StaleConnection, _MalformedResponse, OSError) as exc:
            self.close()
            raise self._unreachable(exc, method, path, "exchange ... with") from exc

    def stream(
        self, method: str, path: str, headers: Mapping[str, str], body: Iterable[bytes]
    ) -> HttpResponse:
        head = _encode_head(method, path, self.address, headers)
        try:
            if self._sock is not None and _peer_closed(self._sock):
                self.close()
            return self._stream_exchange(head, body)
        except (_StaleConnection, _MalformedResponse, OSError) as exc:
            self.close()
            raise self._unreachable(exc, method, path, "stream ... to") from exc
        except BaseException:
            self.close()  # a half-sent request: the connection cannot be reused
            raise

    def _stream_exchange(self, head: bytes, body: Iterable[bytes]) -> HttpResponse:
        if self._sock is None:
            self._sock = self._connect()
        sock = self._sock
        sock.sendall(head)
        cut_short = False
        try:
            for piece in body:
                if piece:
                    sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            cut_short = True  # the peer stopped reading; it may have answered (e.g. 413)
        response, keep_alive = _read_response(_Reader(sock))
        if cut_short or not keep_alive:
            self.close()
        return response

    def _connect(self) -> _socket.socket:
        family, kind, proto, _, sockaddr = _socket.getaddrinfo(
            _host_bytes(self._host), self._port, 0, _socket.SOCK_STREAM
        )[0]
        sock = _socket.socket(family, kind, proto)
        try:
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            sock.connect(sockaddr)
        except OSError:
            sock.close()
            raise
        return sock

    def _exchange(self, data: bytes) -> HttpResponse:
        if self._sock is None:
            self._sock = self._connect()
        sock = self._sock
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _StaleConnection() from exc
        reader = _Reader(sock)
        response, keep_alive = _read_response(reader)
        if not keep_alive:
            self.close()
        return response


class _StaleConnection(Exception):
    """The connection ended before the first response byte (a closed keep-alive connection)."""


class _MalformedResponse(Exception):
    """The peer sent bytes that are not an HTTP/1.x response."""


class _Reader:
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
                raise _StaleConnection() from None
            raise
        if not chunk:
            if self.received == 0:
                raise _StaleConnection()
            return False
        self.received += len(chunk)
        self._buf += chunk
        return True

    def head(self) -> list[bytes]:
        """The lines of a status line and header block; its blank line is consumed. One search
        per received chunk, not one buffer operation per line (``/next`` answers carry ~8)."""
        checked = 0
        while True:
            end = self._buf.find(b"\r\n\r\n", checked)
            bare = self._buf.find(b"\n\n", checked)
            if end >= 0 and (bare < 0 or end < bare):
                block = bytes(self._buf[:end])
                del self._buf[: end + 4]
                lines = block.split(b"\r\n")
                break
            if bare >= 0:  # bare LF line endings (tolerated, as by line())
                block = bytes(self._buf[:bare])
                del self._buf[: bare + 2]
                lines = [line.rstrip(b"\r") for line in block.split(b"\n")]
                break
            if len(self._buf) > _MAX_HEADER_BYTES:
                raise _MalformedResponse(
                    f"expected headers under {_MAX_HEADER_BYTES} bytes, got more"
                )
            checked = max(0, len(self._buf) - 3)
            if not self._fill():
                raise _MalformedResponse(
                    "expected a blank line ending the headers, got end of stream"
                )
        if max(map(len, lines)) > _MAX_LINE:
            raise _MalformedResponse(f"expected a line under {_MAX_LINE} bytes, got more")
        return lines

    def line(self) -> bytes:
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[: end + 1])
                del self._buf[: end + 1]
                return line.rstrip(b"\r\n")
            if len(self._buf) > _MAX_LINE:
                raise _MalformedResponse(f"expected a line under {_MAX_LINE} bytes, got more")
            if not self._fill():
                raise _MalformedResponse("expected a CRLF-terminated line, got end of stream")

    def exactly(self, size: int) -> bytes:
        while len(self._buf) < size:
            if not self._fill():
                raise _MalformedResponse(
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


def _split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"expected a Runtime API address like 127.0.0.1:9001, got {address!r}")
    return host.strip("[]"), int(port)


def _host_bytes(host: str) -> bytes:
    """``getaddrinfo`` encodes a ``str`` host with the ``idna`` codec, which imports ``re`` and
    ``stringprep`` (~8 ms of cold start); ASCII hosts are passed as bytes to skip that."""
    try:
        return host.encode("ascii")
    except UnicodeEncodeError:
        return host.encode("idna")


def _peer_closed(sock: _socket.socket) -> bool:
    """Whether the peer closed (or wrote unasked-for bytes on) an idle keep-alive connection;
    checked without blocking and without consuming anything. ``False`` where the platform has no
    non-blocking peek."""
    dontwait = getattr(_socket, "MSG_DONTWAIT", 0)
    if not dontwait:
        return False
    try:
        sock.recv(1, _socket.MSG_PEEK | dontwait)
    except BlockingIOError:
        return False  # nothing to read: the connection is idle and open
    except OSError:
        return True
    return True  # end of stream, or bytes nobody asked for: either way, not reusable


def _encode_request(
    method: str, path: str, host: str, headers: Mapping[str, str], body: bytes
) -> bytes:
    length = len(body) if body or method not in ("GET", "HEAD") else None
    return _encode_head(method, path, host, headers, length) + body


def _encode_head(
    method: str, path: str, host: str, headers: Mapping[str, str], length: int | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if length is not None:
        lines.append(f"Content-Length: {length}")
    for line in lines:
        if "\r" in line or "\n" in line:
            raise ValueError(f"expected a request line or header without CR/LF, got {line!r}")
    if " " in path:
        raise ValueError(f"expected a request path without spaces, got {path!r}")
    return "\r\n".join(lines).encode("utf-8") + b"\r\n\r\n"


def _read_response(reader: _Reader) -> tuple[HttpResponse, bool]:
    while True:
        status_line, *lines = reader.head()
        status, version = _parse_status_line(status_line)
        headers = _parse_headers(lines)
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
        raise _MalformedResponse(f"expected a status line like 'HTTP/1.1 200 OK', got {line!r}")
    return int(parts[1]), parts[0].decode("ascii")


def _parse_headers(lines: list[bytes]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise _MalformedResponse(f"expected a 'Name: value' header line, got {line!r}")
        key = name.strip().decode("latin-1").lower()
        text = _header_text(value.strip())
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _header_text(value: bytes) -> str:
    """Header values as UTF-8 (the platform passes client-context JSON through raw), else
    latin-1 (HTTP's historical charset, which decodes any byte)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _read_body(reader: _Reader, status: int, headers: dict[str, str]) -> tuple[bytes, bool]:
    """The body and whether its end was framed (so the connection may be reused)."""
    if status in _NO_BODY_STATUSES:
        return b"", True
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _read_chunked(reader), True
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise _MalformedResponse(f"expected a decimal Content-Length, got {length!r}")
        return reader.exactly(int(length)), True
    return reader.rest(), False


def _read_chunked(reader: _Reader) -> bytes:
    parts = []
    while True:
        size_line = reader.line().split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise _MalformedResponse(
                f"expected a hexadecimal chunk size, got {size_line!r}"
            ) from None
        if size == 0:
            break
        parts.append(reader.exactly(size))
        if reader.line():
            raise _MalformedResponse("expected CRLF after a chunk, got more data")
    while reader.line():  # trailers: read and dropped
        pass
    return b"".join(parts)
