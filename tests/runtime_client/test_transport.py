"""SocketTransport against real servers: the fake Runtime API, http.server, and raw sockets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from lambdarig.runtime_client import framing
from lambdarig.runtime_client.errors import RuntimeAPIUnreachable
from lambdarig.runtime_client.framing import (
    HttpResponse,
    KnownHeads,
    MalformedResponse,
    Reader,
    read_response,
)
from lambdarig.runtime_client.transport import SocketTransport
from tests.runtime_client.fake_runtime_api import FakeRuntimeAPI, Reply

RawScript = Callable[[socket.socket, int], None]


class RawServer:
    """Accepts connections on 127.0.0.1:0 and runs ``script(conn, index)`` for each, in order."""

    def __init__(self, script: RawScript) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.script = script
        self.accepted = 0
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                self.accepted += 1
                try:
                    self.script(conn, self.accepted)
                except BaseException as exc:
                    self.errors.append(exc)

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass  # some platforms refuse shutdown() on a listener; close() below still runs
        self.listener.close()
        self.thread.join(5)
        assert not self.thread.is_alive(), "the raw server thread did not stop"


@pytest.fixture
def raw_server() -> Iterator[Callable[[RawScript], RawServer]]:
    servers: list[RawServer] = []

    def make(script: RawScript) -> RawServer:
        servers.append(RawServer(script))
        return servers[-1]

    yield make
    for server in servers:
        server.close()
        assert not server.errors, server.errors


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return data
        data += chunk
    return data


def test_get_and_post_over_one_keep_alive_connection(fake_api: FakeRuntimeAPI) -> None:
    fake_api.script("GET", "/hello", Reply(200, b"hi", {"X-Thing": "a"}))
    transport = SocketTransport(fake_api.address)
    try:
        first = transport.request("GET", "/hello", {"User-Agent": "t"})
        sock = transport._sock
        second = transport.request("POST", "/post", {"Content-Type": "text/plain"}, b"payload")
    finally:
        transport.close()
    assert (first.status, first.body, first.headers["x-thing"]) == (200, b"hi", "a")
    assert second.status == 202
    assert sock is not None and transport._sock is None
    get, post = fake_api.requests
    assert get.headers["host"] == fake_api.address
    assert get.headers["user-agent"] == "t"
    assert "content-length" not in get.headers
    assert (post.body, post.headers["content-length"]) == (b"payload", "7")


def test_reuses_the_connection_between_requests(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    def serve_two(conn: socket.socket, index: int) -> None:
        for _ in range(2):
            read_request(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    server = raw_server(serve_two)
    transport = SocketTransport(server.address)
    try:
        assert transport.request("GET", "/a", {}).body == b"ok"
        assert transport.request("GET", "/b", {}).body == b"ok"
    finally:
        transport.close()
    assert server.accepted == 1


def test_decodes_a_chunked_body(fake_api: FakeRuntimeAPI) -> None:
    fake_api.script("GET", "/chunked", Reply(200, b"0123456789" * 1000, chunked=True))
    transport = SocketTransport(fake_api.address)
    try:
        response = transport.request("GET", "/chunked", {})
        # The connection stays usable after a chunked body.
        again = transport.request("POST", "/x", {}, b"")
    finally:
        transport.close()
    assert response.body == b"0123456789" * 1000
    assert again.status == 202


def test_chunk_extensions_and_trailers(raw_server: Callable[[RawScript], RawServer]) -> None:
    def serve(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
        )

    transport = SocketTransport(raw_server(serve).address)
    try:
        assert transport.request("GET", "/", {}).body == b"abcde"
    finally:
        transport.close()


def test_body_delimited_by_close_then_reconnects(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    def serve(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nuntil close #%d" % index)

    server = raw_server(serve)
    transport = SocketTransport(server.address)
    try:
        assert transport.request("GET", "/", {}).body == b"until close #1"
        assert transport.request("GET", "/", {}).body == b"until close #2"
    finally:
        transport.close()
    assert server.accepted == 2


def test_connection_close_header_is_honoured(fake_api: FakeRuntimeAPI) -> None:
    fake_api.script("GET", "/bye", Reply(200, b"bye", close=True))
    transport = SocketTransport(fake_api.address)
    try:
        assert transport.request("GET", "/bye", {}).body == b"bye"
        assert transport._sock is None
        assert transport.request("POST", "/x", {}).status == 202
    finally:
        transport.close()


def test_stale_keep_alive_connection_is_reopened_once(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    # The server answers one request per connection but claims keep-alive, then closes: the
    # second request meets a dead connection and must be resent on a fresh one.
    def serve(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 4\r\n\r\n#%d.." % index)

    server = raw_server(serve)
    transport = SocketTransport(server.address)
    try:
        assert transport.request("POST", "/a", {}, b"1").body == b"#1.."
        assert transport.request("POST", "/b", {}, b"2").body == b"#2.."
    finally:
        transport.close()
    assert server.accepted == 2


def test_connection_closed_on_a_fresh_connection_is_unreachable(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    server = raw_server(lambda conn, index: read_request(conn) and None)
    transport = SocketTransport(server.address)
    with pytest.raises(RuntimeAPIUnreachable) as info:
        transport.request("GET", "/2018-06-01/runtime/invocation/next", {})
    assert str(info.value) == (
        f"the Runtime API at {server.address} closed the connection before answering "
        "GET /2018-06-01/runtime/invocation/next: expected an HTTP response, got end of stream"
    )
    assert server.accepted == 1


def test_refused_connection_is_unreachable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    transport = SocketTransport(address)
    with pytest.raises(RuntimeAPIUnreachable) as info:
        transport.request("GET", "/x", {})
    assert str(info.value).startswith(
        f"could not exchange GET /x with the Runtime API at {address}: ConnectionRefusedError"
    )
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


@pytest.mark.parametrize(
    "response, message",
    [
        (b"SMTP ready\r\n\r\n", "expected a status line like 'HTTP/1.1 200 OK', got b'SMTP ready'"),
        (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "expected a 'Name: value' header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "expected 10 body bytes, got 5"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "expected a decimal Content-Length"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "expected a hexadecimal chunk size, got b'zz'",
        ),
    ],
)
def test_malformed_responses_are_unreachable(
    raw_server: Callable[[RawScript], RawServer], response: bytes, message: str
) -> None:
    def serve(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(response)

    server = raw_server(serve)
    transport = SocketTransport(server.address)
    with pytest.raises(RuntimeAPIUnreachable) as info:
        transport.request("GET", "/", {})
    assert f"the Runtime API at {server.address} broke HTTP/1.1 answering GET /: " in str(
        info.value
    )
    assert message in str(info.value)
    assert transport._sock is None


def test_interim_1xx_responses_are_skipped(raw_server: Callable[[RawScript], RawServer]) -> None:
    def serve(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
        )

    transport = SocketTransport(raw_server(serve).address)
    try:
        assert transport.request("POST", "/", {}, b"x").status == 202
    finally:
        transport.close()


def test_works_against_stdlib_http_server() -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(202)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "a=1")
            self.send_header("Set-Cookie", "b=2")
            self.end_headers()
            self.wfile.write(body.upper())

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    transport = SocketTransport(f"127.0.0.1:{server.server_address[1]}")
    try:
        response = transport.request("POST", "/echo", {"X-A": "1"}, b"abc")
    finally:
        transport.close()
        server.shutdown()
        server.server_close()
        thread.join()
    assert response.status == 202
    assert response.body == b"ABC"
    assert response.headers["set-cookie"] == "a=1, b=2"


@pytest.mark.parametrize("address", ["nohost", "host:", ":9001", "host:port"])
def test_rejects_malformed_addresses(address: str) -> None:
    with pytest.raises(ValueError, match="expected a Runtime API address like 127.0.0.1:9001"):
        SocketTransport(address)


def test_accepts_bracketed_ipv6_addresses() -> None:
    transport = SocketTransport("[::1]:9001")
    assert (transport._host, transport._port) == ("::1", 9001)


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/a\r\nX: y", {}),
        ("/a b", {}),
        ("/a", {"X-Evil": "v\r\nInjected: 1"}),
        ("/a", {"X-Evil": "v\rw"}),
        ("/a", {"X-Evil": "v\nw"}),
        ("/a", {"X-Fine": "1", "X-Evil\n": "v"}),
        ("/a", {"X-Evil": "\n\r"}),
    ],
)
def test_refuses_to_send_header_injection(path: str, headers: dict[str, str]) -> None:
    transport = SocketTransport("127.0.0.1:9")
    with pytest.raises(ValueError, match="expected a request"):
        transport.request("GET", path, headers)


def test_header_values_are_utf8_with_a_latin1_fallback(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    def serve(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
            + 'Lambda-Runtime-Client-Context: {"name": "J\u00fcrgen \u2603"}\r\n'.encode()
            + b"X-Legacy: caf\xe9\r\n\r\n"
        )

    transport = SocketTransport(raw_server(serve).address)
    try:
        headers = transport.request("GET", "/", {}).headers
    finally:
        transport.close()
    assert headers["lambda-runtime-client-context"] == '{"name": "J\u00fcrgen \u2603"}'
    assert headers["x-legacy"] == "caf\u00e9"


def test_a_repeated_head_means_the_same_and_each_caller_gets_its_own_headers(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    # A runtime's posts are answered by the same 202 head, and its /next answers all differ: the
    # 202 is remembered across them, and what one caller does to its headers is not seen again.
    accepted_head = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2"
    accepted = accepted_head + b"\r\n\r\n{}"

    def serve(conn: socket.socket, index: int) -> None:
        for n in range(3):
            read_request(conn)
            conn.sendall(f"HTTP/1.1 200 OK\r\nX-N: {n}\r\nContent-Length: 1\r\n\r\n{n}".encode())
            read_request(conn)
            conn.sendall(accepted)

    transport = SocketTransport(raw_server(serve).address)
    try:
        seen = []
        for n in range(3):
            answer = transport.request("GET", "/next", {})
            assert (answer.status, answer.headers["x-n"]) == (200, str(n))
            assert answer.body == str(n).encode()
            assert n == 0 or accepted_head in transport._known_heads  # kept across a /next
            posted = transport.request("POST", "/response", {}, b"x")
            seen.append((posted.status, dict(posted.headers), posted.body))
            posted.headers["content-type"] = "changed by a caller"
    finally:
        transport.close()
    assert seen == [(202, {"content-type": "application/json", "content-length": "2"}, b"{}")] * 3


def _responses(data: bytes, count: int, known: KnownHeads) -> list[HttpResponse]:
    """``count`` responses read from ``data`` over a real socket pair, sharing ``known``."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(data)
        theirs.shutdown(socket.SHUT_WR)
        reader = Reader(ours)
        return [read_response(reader, known)[0] for _ in range(count)]


def _ok(n: int) -> bytes:
    return f"HTTP/1.1 200 OK\r\nX-N: {n}\r\nContent-Length: 0\r\n\r\n".encode()


def test_remembered_heads_are_parsed_once_and_the_least_recently_used_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[int] = []
    parse = framing._parse_headers
    monkeypatch.setattr(framing, "_parse_headers", lambda lines: parsed.append(1) or parse(lines))
    known: KnownHeads = {}
    # A, B, A (a hit: A is now the most recent), C (B goes), A (a hit), B (parsed again)
    answers = _responses(_ok(1) + _ok(2) + _ok(1) + _ok(3) + _ok(1) + _ok(2), 6, known)
    assert [a.headers["x-n"] for a in answers] == ["1", "2", "1", "3", "1", "2"]
    assert len(parsed) == 4
    long_head = _ok(4).replace(b"X-N", b"X-Pad: " + b"p" * 1100 + b"\r\nX-N")
    assert _responses(long_head * 2, 2, known)[1].headers["x-n"] == "4"
    assert len(parsed) == 6  # a head over 1 KiB is never remembered
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    assert [a.status for a in _responses((interim + _ok(5)) * 2, 2, known)] == [200, 200]


@pytest.mark.parametrize(
    "data, headers, body",
    [
        # The head ends at the first blank line, whichever line ending it has; what follows in
        # the body (a blank line of the other kind) does not move it.
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n\n\nab\n\n",
            {"content-length": "6"},
            b"\n\nab\n\n",
        ),
        (
            b"HTTP/1.1 200 OK\nContent-Length: 6\n\n\r\n\r\nab",
            {"content-length": "6"},
            b"\r\n\r\nab",
        ),
    ],
)
def test_the_head_ends_at_its_own_blank_line_not_one_in_the_body(
    data: bytes, headers: dict[str, str], body: bytes
) -> None:
    (answer,) = _responses(data, 1, {})
    assert (answer.status, answer.headers, answer.body) == (200, headers, body)


def test_a_remembered_head_is_not_taken_for_the_same_bytes_ended_by_a_bare_lf() -> None:
    # A stray LF inside a CRLF head is part of a value; the same bytes ended by LF LF are split on
    # it, and that head is malformed: the memory of the first must not answer for the second.
    head = b"HTTP/1.1 200 OK\r\nA: x\ny\r\nContent-Length: 0"
    known: KnownHeads = {}
    assert _responses(head + b"\r\n\r\n", 1, known)[0].headers["a"] == "x\ny"
    with pytest.raises(MalformedResponse, match="expected a 'Name: value' header line"):
        _responses(head + b"\n\n", 1, known)


@pytest.mark.parametrize("ending", [b"\r\n", b"\n"])
def test_a_head_split_byte_by_byte_is_read_whole(
    raw_server: Callable[[RawScript], RawServer], ending: bytes
) -> None:
    head = ending.join([b"HTTP/1.1 200 OK", b"X-A: 1", b"x-a: 2", b"Content-Length: 3", b"", b""])

    def serve(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in head + b"abc":
            conn.sendall(bytes([byte]))

    transport = SocketTransport(raw_server(serve).address)
    try:
        response = transport.request("GET", "/", {})
    finally:
        transport.close()
    assert (response.status, response.headers["x-a"], response.body) == (200, "1, 2", b"abc")


@pytest.mark.parametrize(
    "response, message",
    [
        (b"HTTP/1.1 200 OK\r\nX: 1\r\n", "expected a blank line ending the headers"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"v" * 70_000 + b"\r\n\r\n", "expected a line under"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"v" * 1_100_000, "expected headers under"),
    ],
)
def test_unfinished_or_oversized_heads_are_unreachable(
    raw_server: Callable[[RawScript], RawServer], response: bytes, message: str
) -> None:
    def serve(conn: socket.socket, index: int) -> None:
        read_request(conn)
        try:
            conn.sendall(response)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up reading an oversized head: what this test wants

    transport = SocketTransport(raw_server(serve).address)
    with pytest.raises(RuntimeAPIUnreachable, match=message):
        transport.request("GET", "/", {})
    assert transport._sock is None


# --- streamed request bodies ---------------------------------------------------------------------

CHUNKED = {"Transfer-Encoding": "chunked"}


def read_chunked_request(conn: socket.socket) -> bytes:
    """Everything up to and including the last chunk's blank line."""
    data = b""
    while not data.endswith(b"0\r\n\r\n"):
        chunk = conn.recv(4096)
        if not chunk:
            return data
        data += chunk
    return data


def test_stream_writes_pieces_verbatim_without_content_length(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    seen: list[bytes] = []

    def serve(conn: socket.socket, index: int) -> None:
        seen.append(read_chunked_request(conn))
        conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok")

    server = raw_server(serve)
    transport = SocketTransport(server.address)
    try:
        response = transport.stream("POST", "/r", CHUNKED, iter([b"1\r\na\r\n", b"", b"0\r\n\r\n"]))
    finally:
        transport.close()
    assert (response.status, response.body) == (202, b"ok")
    head, _, body = seen[0].partition(b"\r\n\r\n")
    assert b"Content-Length" not in head
    assert b"Transfer-Encoding: chunked" in head
    assert body == b"1\r\na\r\n0\r\n\r\n"


def test_stream_reopens_a_keep_alive_connection_the_peer_closed_while_idle(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    # A streamed body cannot be resent, so a dead idle connection must be noticed before the
    # request starts (the first request's connection is closed by the server after answering).
    closed = threading.Event()

    def serve(conn: socket.socket, index: int) -> None:
        if index == 1:
            read_request(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n#1")
            conn.shutdown(socket.SHUT_RDWR)
            closed.set()
            return
        read_chunked_request(conn)
        conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n#2")

    server = raw_server(serve)
    transport = SocketTransport(server.address)
    try:
        assert transport.request("GET", "/next", {}).body == b"#1"
        assert closed.wait(5)
        assert transport.stream("POST", "/r", CHUNKED, iter([b"0\r\n\r\n"])).body == b"#2"
    finally:
        transport.close()
    assert server.accepted == 2


def test_stream_keeps_a_live_connection(fake_api: FakeRuntimeAPI) -> None:
    transport = SocketTransport(fake_api.address)
    try:
        transport.request("POST", "/a", {}, b"1")
        before = transport._sock
        transport.stream("POST", "/b", CHUNKED, iter([b"1\r\nx\r\n", b"0\r\n\r\n"]))
        assert transport._sock is before
    finally:
        transport.close()
    assert fake_api.requests[1].chunks == [b"x"]


def test_an_exception_from_the_body_closes_the_half_sent_connection(
    fake_api: FakeRuntimeAPI,
) -> None:
    def body() -> Iterator[bytes]:
        yield b"1\r\nx\r\n"
        raise KeyboardInterrupt

    transport = SocketTransport(fake_api.address)
    try:
        with pytest.raises(KeyboardInterrupt):
            transport.stream("POST", "/b", CHUNKED, body())
        assert transport._sock is None
    finally:
        transport.close()


def test_stream_without_an_answer_is_unreachable(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    server = raw_server(lambda conn, index: read_chunked_request(conn) and None)
    transport = SocketTransport(server.address)
    with pytest.raises(RuntimeAPIUnreachable, match="closed the connection before answering"):
        transport.stream("POST", "/r", CHUNKED, iter([b"0\r\n\r\n"]))
    assert transport._sock is None


def test_while_waiting_runs_once_the_request_is_sent_and_before_the_answer_is_read(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    # The server answers only once it has the whole request and the client's work in between
    # has run: a client that ran it before sending, or after reading, would not get its answer.
    received, worked = threading.Event(), threading.Event()

    def serve(conn: socket.socket, index: int) -> None:
        read_request(conn)
        received.set()
        assert worked.wait(10), "while_waiting did not run before the answer was read"
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    def work() -> None:
        assert received.wait(10), "while_waiting ran before the request was sent"
        worked.set()

    server = raw_server(serve)
    transport = SocketTransport(server.address)
    try:
        response = transport.request("GET", "/next", {}, while_waiting=work)
        assert (response.status, response.body) == (200, b"ok")
        assert transport.request("GET", "/next", {}).body == b"ok"  # same connection, no work
    finally:
        transport.close()
    assert server.accepted == 1


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError, ValueError])
def test_an_exception_while_waiting_closes_the_connection_and_propagates(
    fake_api: FakeRuntimeAPI, error: type[BaseException]
) -> None:
    def work() -> None:
        raise error("its own")

    transport = SocketTransport(fake_api.address)
    try:
        with pytest.raises(error, match="its own"):  # never taken for the Runtime API's failure
            transport.request("POST", "/b", {}, b"x", while_waiting=work)
        assert transport._sock is None  # its answer is left unread: not reusable
    finally:
        transport.close()


def test_while_waiting_runs_once_when_a_stale_connection_is_reopened(
    raw_server: Callable[[RawScript], RawServer],
) -> None:
    # As in test_stale_keep_alive_connection_is_reopened_once: the second request meets a
    # connection the server closed, and is sent again on a new one.
    def serve(conn: socket.socket, index: int) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    calls: list[int] = []
    server = raw_server(serve)
    transport = SocketTransport(server.address)
    try:
        transport.request("GET", "/next", {})
        response = transport.request("GET", "/next", {}, while_waiting=lambda: calls.append(1))
        assert response.body == b"ok"
    finally:
        transport.close()
    assert server.accepted == 2
    assert calls == [1]
