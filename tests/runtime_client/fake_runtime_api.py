"""A real, scripted Runtime API on 127.0.0.1:<ephemeral> for runtime-client tests.

The test thread scripts what ``GET /next`` answers (:meth:`FakeRuntimeAPI.queue_invocation`,
:meth:`FakeRuntimeAPI.queue_next`) and what other routes answer (:meth:`FakeRuntimeAPI.script`),
then waits for what the runtime sent (:meth:`FakeRuntimeAPI.wait_for`). ``/next`` blocks while
nothing is queued, like the platform. Every request is recorded. Exceptions raised in server
threads are kept and re-raised in the test thread by :meth:`FakeRuntimeAPI.check` (the fixture
calls it at teardown). Ideas from aws-lambda-go's ``runtimeAPIServer`` and pytest-httpserver.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lambdarig import runtime_api as wire

DEFAULT_TIMEOUT = 10.0
_MAX_LINE = 4 * 1024 * 1024  # trailers carry base64 error JSON


class Reply:
    """A scripted HTTP answer. ``chunked`` sends the body chunked; ``close`` ends the connection."""

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        chunked: bool = False,
        close: bool = False,
    ) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.chunked = chunked
        self.close = close


class Recorded:
    """One request the runtime sent. ``headers`` keys are lower-cased.

    A chunked request is recorded as soon as its head arrives (``complete`` False): ``chunks``
    and ``chunk_times`` (``time.monotonic()`` at arrival) grow as chunks arrive, then
    ``trailers`` (lower-cased names) and ``body`` (the chunks joined) are set and ``complete``
    becomes True. Other requests are recorded complete, with ``chunks`` None.
    """

    def __init__(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        chunks: list[bytes] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.chunks = chunks
        self.chunk_times: list[float] = []
        self.trailers: dict[str, str] = {}
        self.complete = chunks is None

    def __repr__(self) -> str:
        return f"Recorded({self.method} {self.path}, body={self.body[:80]!r})"


ACCEPTED = Reply(202, wire.STATUS_OK_BODY, {"Content-Type": "application/json"})


class FakeRuntimeAPI:
    """Start with :meth:`start` (or as a context manager); :meth:`stop` always releases the port,
    unblocks pending ``/next`` calls (their connections are closed unanswered) and closes every
    client connection."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next: deque[Reply] = deque()
        self._scripted: dict[tuple[str, str], deque[Reply]] = {}
        self._closed = False
        self.requests: list[Recorded] = []
        self.errors: list[BaseException] = []
        self.waiting_next = 0
        self._connections: set[socket.socket] = set()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> FakeRuntimeAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        with self._cond:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler thread

    def __enter__(self) -> FakeRuntimeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def check(self) -> None:
        """Re-raise the first exception a server thread hit."""
        if self.errors:
            raise AssertionError("the fake Runtime API failed in a server thread") from self.errors[
                0
            ]

    # --- scripting -------------------------------------------------------------------------------
    def queue_invocation(self, inv: wire.Invocation) -> None:
        self.queue_next(Reply(200, inv.body, inv.to_headers()))

    def queue_next(self, reply: Reply) -> None:
        with self._cond:
            self._next.append(reply)
            self._cond.notify_all()

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """Answer the next requests to ``method path`` with ``replies`` in order, then defaults."""
        with self._cond:
            self._scripted.setdefault((method, path), deque()).extend(replies)

    # --- observing -------------------------------------------------------------------------------
    def wait_for(
        self,
        predicate: Callable[[FakeRuntimeAPI], bool],
        what: str,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Block until ``predicate(self)`` holds; ``AssertionError`` naming ``what`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {what}; got {self.requests!r}"
                    )
                self._cond.wait(min(remaining, 0.1))
        self.check()

    def posts(self, path: str | None = None) -> list[Recorded]:
        with self._cond:
            return [
                r for r in self.requests if r.method == "POST" and (path is None or r.path == path)
            ]

    def wait_for_posts(self, count: int, timeout: float = DEFAULT_TIMEOUT) -> list[Recorded]:
        self.wait_for(lambda f: len(f.posts()) >= count, f"{count} POST(s)", timeout)
        return self.posts()

    def wait_for_chunks(self, path: str, count: int, timeout: float = DEFAULT_TIMEOUT) -> Recorded:
        """Block until the chunked POST to ``path`` has delivered ``count`` chunks."""
        self.wait_for(
            lambda f: any(len(r.chunks or ()) >= count for r in f.posts(path)),
            f"{count} chunk(s) POSTed to {path}",
            timeout,
        )
        return self.posts(path)[-1]

    def wait_for_complete(self, path: str, timeout: float = DEFAULT_TIMEOUT) -> Recorded:
        """Block until a POST to ``path`` has been read in full (trailers included)."""
        self.wait_for(
            lambda f: any(r.complete for r in f.posts(path)), f"a complete POST to {path}", timeout
        )
        return next(r for r in self.posts(path) if r.complete)

    # --- server side -----------------------------------------------------------------------------
    def _record(self, request: Recorded) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    def _reply_for(self, method: str, path: str) -> Reply | None:
        """The answer to send, or None to close the connection unanswered (fake stopped)."""
        with self._cond:
            if method == "GET" and path == wire.PATH_NEXT:
                self.waiting_next += 1
                self._cond.notify_all()
                try:
                    while not self._next and not self._closed:
                        self._cond.wait()
                    return None if self._closed else self._next.popleft()
                finally:
                    self.waiting_next -= 1
                    self._cond.notify_all()
            scripted = self._scripted.get((method, path))
            if scripted:
                return scripted.popleft()
        if method == "GET" and path == wire.PATH_RESTORE_NEXT:
            return Reply(200)
        if method == "POST":
            return ACCEPTED
        return Reply(404, b"404 page not found\n")

    def _add_chunk(self, request: Recorded, chunk: bytes) -> None:
        with self._cond:
            assert request.chunks is not None
            request.chunks.append(chunk)
            request.chunk_times.append(time.monotonic())
            self._cond.notify_all()

    def _finish(self, request: Recorded, trailers: dict[str, str]) -> None:
        with self._cond:
            request.trailers = trailers
            request.body = b"".join(request.chunks or ())
            request.complete = True
            self._cond.notify_all()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._cond:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeRuntimeAPI) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.fake._track(request, True)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.fake._track(request, False)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, (ConnectionError, TimeoutError)):
            self.fake.errors.append(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.server.fake
        try:
            headers = {k.lower(): v for k, v in self.headers.items()}
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._read_chunked(Recorded(self.command, self.path, headers, b"", []))
            else:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake._record(Recorded(self.command, self.path, headers, body))
            reply = fake._reply_for(self.command, self.path)
            if reply is None:
                self.close_connection = True
                return
            self._send(reply)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except BaseException as exc:
            fake.errors.append(exc)
            self.close_connection = True

    def _read_chunked(self, request: Recorded) -> None:
        """Record ``request`` now, then each chunk as it arrives, then its trailers."""
        fake = self.server.fake
        fake._record(request)
        while True:
            size_line = self.rfile.readline(_MAX_LINE)
            if not size_line:  # the runtime went away mid-body: left incomplete, not a fake bug
                raise ConnectionAbortedError("the chunked body ended before its last chunk")
            if not size_line.endswith(b"\n"):
                raise ValueError(f"expected a chunk-size line, got {size_line!r}")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.read(2) != b"\r\n":
                raise ValueError(f"expected {size} chunk bytes and CRLF, got {chunk[:80]!r}")
            fake._add_chunk(request, chunk)
        trailers: dict[str, str] = {}
        while True:
            line = self.rfile.readline(_MAX_LINE)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            trailers[name.strip().lower()] = value.strip()
        fake._finish(request, trailers)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        if reply.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(reply.body) // 2
            for part in (reply.body[:half], reply.body[half:]):
                if part:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        self.wfile.flush()
