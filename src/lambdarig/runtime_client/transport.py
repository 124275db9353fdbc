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
only here. Requests are encoded and responses read by ``framing``; this module holds the
connection.
"""

from __future__ import annotations

import _socket

from lambdarig.runtime_client.errors import RuntimeAPIUnreachable
from lambdarig.runtime_client.framing import (
    HttpResponse,
    KnownHeads,
    MalformedResponse,
    Reader,
    StaleConnection,
    encode_head,
    encode_request,
    read_response,
)

__all__ = ["HttpResponse", "SocketTransport", "Transport"]

TYPE_CHECKING = False  # typing is not imported at run time (cold start)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping


class Transport:
    """The one-method seam between the Runtime API client and the network.

    ``request`` sends one request and returns the whole response. It blocks without a timeout and
    raises :class:`RuntimeAPIUnreachable` when the peer cannot be reached or breaks HTTP. Status
    codes are not interpreted here. Tests may subclass it with an in-memory fake.
    """

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes = b"",
        while_waiting: Callable[[], object] | None = None,
    ) -> HttpResponse:
        """``while_waiting``, if given, is called at most once, after the request has been sent and
        before its answer is read: work that can overlap the peer's (the first ``/next`` waits for
        the platform's first event). What it raises propagates, and the connection is closed."""
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
        self._known_heads: KnownHeads = {}  # for read_response, over every exchange

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
        if isinstance(exc, StaleConnection):
            return RuntimeAPIUnreachable(
                f"the Runtime API at {self.address} closed the connection before answering "
                f"{what}: expected an HTTP response, got end of stream"
            )
        if isinstance(exc, MalformedResponse):
            return RuntimeAPIUnreachable(
                f"the Runtime API at {self.address} broke HTTP/1.1 answering {what}: {exc}"
            )
        verb, preposition = doing.split(" ... ")
        return RuntimeAPIUnreachable(
            f"could not {verb} {what} {preposition} the Runtime API at {self.address}: "
            f"{exc.__class__.__name__}: {exc}"
        )

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes = b"",
        while_waiting: Callable[[], object] | None = None,
    ) -> HttpResponse:
        data = encode_request(method, path, self.address, headers, body)
        waiting = None if while_waiting is None else _Once(while_waiting)
        try:
            reused = self._sock is not None
            try:
                return self._exchange(data, waiting)
            except StaleConnection:
                if not reused:
                    raise
                self.close()
                return self._exchange(data, waiting)  # runs it only if it has not run yet
        except (StaleConnection, MalformedResponse, OSError) as exc:
            self.close()
            if waiting is not None and waiting.failed:
                raise  # its own error, not the Runtime API's
            raise self._unreachable(exc, method, path, "exchange ... with") from exc
        except BaseException:
            self.close()  # anything else: where the exchange stopped is unknown
            raise

    def stream(
        self, method: str, path: str, headers: Mapping[str, str], body: Iterable[bytes]
    ) -> HttpResponse:
        head = encode_head(method, path, self.address, headers)
        try:
            if self._sock is not None and _peer_closed(self._sock):
                self.close()
            return self._stream_exchange(head, body)
        except (StaleConnection, MalformedResponse, OSError) as exc:
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
        response, keep_alive = read_response(Reader(sock), self._known_heads)
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

    def _exchange(self, data: bytes, while_waiting: _Once | None) -> HttpResponse:
        if self._sock is None:
            self._sock = self._connect()
        sock = self._sock
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise StaleConnection() from exc
        if while_waiting is not None:
            while_waiting()
        response, keep_alive = read_response(Reader(sock), self._known_heads)
        if not keep_alive:
            self.close()
        return response


class _Once:
    """A request's ``while_waiting``: runs at most once, and remembers whether it raised."""

    __slots__ = ("_call", "failed")

    def __init__(self, call: Callable[[], object]) -> None:
        self._call: Callable[[], object] | None = call
        self.failed = False

    def __call__(self) -> None:
        call, self._call = self._call, None
        if call is not None:
            try:
                call()
            except BaseException:
                self.failed = True
                raise


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
