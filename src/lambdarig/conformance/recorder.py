"""A recording Runtime API for the streaming cases: the runtime under test talks to it directly.

A caller of lambdarig's emulator sees a streamed ``/response`` as event-stream payload events, not
the chunk boundaries, arrival times and trailers the runtime wrote. So for these cases the kit
starts the runtime against this small Runtime API, hands it one invocation at a time and records
what comes back: the ``/response`` or ``/error`` POST with its headers, each chunk of a chunked body
with its arrival time, and the trailers.

Everything the runtime sends is bounded (line and body sizes) and every wait has a deadline; a
runtime that breaks HTTP is recorded as a problem, never raised.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lambdarig import invoke_api
from lambdarig import runtime_api as wire

MAX_LINE = 2 * 1024 * 1024  # a trailer carries base64 error JSON
MAX_BODY = 32 * 1024 * 1024
STOP_GRACE_S = 3.0
READ_TIMEOUT_S = 5.0  # the longest silence accepted inside a request (the kit's gaps are 300 ms)


@dataclass
class Posted:
    """What the runtime posted for one invocation. ``chunks`` is None unless the body was chunked;
    ``chunk_times`` and ``finished`` are ``time.monotonic()`` values; header and trailer names are
    lower-cased."""

    kind: str  # "response" or "error"
    headers: dict[str, str]
    body: bytes = b""
    chunks: list[bytes] | None = None
    chunk_times: list[float] = field(default_factory=list)
    trailers: dict[str, str] = field(default_factory=dict)
    finished: float = 0.0
    problem: str | None = None  # the runtime broke HTTP framing


class RecordingRuntimeAPI:
    """A Runtime API on 127.0.0.1:<ephemeral> serving one invocation at a time, plus the runtime
    process it started. Use as a context manager; :meth:`stop` ends both."""

    def __init__(self, env: Mapping[str, str], function_name: str, timeout: float) -> None:
        self._cond = threading.Condition()
        self._next: deque[tuple[str, bytes]] = deque()
        self._posted: dict[str, Posted] = {}
        self._closed = False
        self._env = dict(env)
        self._arn = invoke_api.function_arn(function_name)
        self._timeout = timeout
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        port = self._server.server_address[1]
        return f"127.0.0.1:{port}"

    def start(self, command: Sequence[str], cwd: Path) -> RecordingRuntimeAPI:
        """Serve, then start ``command`` in its own session with ``AWS_LAMBDA_RUNTIME_API`` set."""
        self._thread.start()
        env = {**self._env, wire.ENV_RUNTIME_API: self.address}
        self.process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self.process is not None and self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(STOP_GRACE_S)

    def __enter__(self) -> RecordingRuntimeAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def invoke(self, event: Any, wait: float) -> Posted | str:
        """Deliver ``event`` (JSON) and wait up to ``wait`` seconds for the runtime's complete
        answer; returns it, or a sentence saying what happened instead."""
        import json

        request_id = str(uuid.uuid4())
        with self._cond:
            self._next.append((request_id, json.dumps(event).encode()))
            self._cond.notify_all()
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                posted = self._posted.get(request_id)
                if posted is not None and posted.finished:
                    return posted
                if self.process is not None and self.process.poll() is not None:
                    return f"the runtime exited with status {self.process.returncode}"
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return f"expected a /response or /error within {wait:g} s, got none"
                self._cond.wait(min(remaining, 0.1))

    # --- server side (handler threads) -----------------------------------------------------------
    def _take_next(self) -> tuple[str, bytes] | None:
        with self._cond:
            while not self._next and not self._closed:
                self._cond.wait()
            return None if self._closed else self._next.popleft()

    def _next_headers(self, request_id: str) -> dict[str, str]:
        deadline_ms = int((time.time() + self._timeout) * 1000)
        return wire.Invocation(request_id, deadline_ms, self._arn, b"").to_headers()

    def _begin(self, request_id: str, posted: Posted) -> None:
        with self._cond:
            self._posted.setdefault(request_id, posted)
            self._cond.notify_all()

    def _update(self, posted: Posted, **changes: Any) -> None:
        with self._cond:
            for name, value in changes.items():
                setattr(posted, name, value)
            self._cond.notify_all()


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # already gone


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: RecordingRuntimeAPI) -> None:
        self.api = api
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A runtime that drops its connection is not the kit's failure: nothing printed."""


class _BrokenFraming(Exception):
    """The runtime's request body does not follow HTTP/1.1 framing."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_S  # per socket read; also ends idle keep-alive connections
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging."""

    def do_GET(self) -> None:
        if self.path != wire.PATH_NEXT:
            self._reply(404, b"")
            return
        taken = self.server.api._take_next()
        if taken is None:
            self.close_connection = True
            return
        request_id, body = taken
        self._reply(200, body, self.server.api._next_headers(request_id))

    def do_POST(self) -> None:
        parts = self.path.split("/")
        # /2018-06-01/runtime/invocation/{id}/{response|error}
        if len(parts) != 6 or parts[3] != "invocation" or parts[5] not in ("response", "error"):
            self._reply(202, wire.STATUS_OK_BODY)  # init/error and the like: not recorded
            return
        api = self.server.api
        headers = {k.lower(): v for k, v in self.headers.items()}
        posted = Posted(parts[5], headers)
        api._begin(parts[4], posted)
        try:
            if "chunked" in headers.get("transfer-encoding", "").lower():
                api._update(posted, chunks=[])
                self._read_chunked(posted)
            else:
                length = int(headers.get("content-length") or 0)
                if not 0 <= length <= MAX_BODY:
                    raise _BrokenFraming(
                        f"expected a Content-Length up to {MAX_BODY}, got {length}"
                    )
                api._update(posted, body=self.rfile.read(length))
        except (TimeoutError, socket.timeout):  # one class from 3.10; 3.9 raises socket.timeout
            problem = f"stalled: nothing arrived for {READ_TIMEOUT_S:g} s mid-body"
            api._update(posted, problem=problem, finished=time.monotonic())
            self.close_connection = True
            return
        except (_BrokenFraming, ValueError) as exc:
            api._update(posted, problem=str(exc), finished=time.monotonic())
            self.close_connection = True
            return
        api._update(posted, finished=time.monotonic())
        self._reply(202, wire.STATUS_OK_BODY)

    def _read_chunked(self, posted: Posted) -> None:
        api, total = self.server.api, 0
        while True:
            size = int(self._line().split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise _BrokenFraming(f"expected a streamed body up to {MAX_BODY} bytes, got more")
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.read(2) != b"\r\n":
                raise _BrokenFraming(f"expected a {size}-byte chunk and CRLF, got end of stream")
            assert posted.chunks is not None
            api._update(
                posted,
                chunks=[*posted.chunks, chunk],
                chunk_times=[*posted.chunk_times, time.monotonic()],
            )
        trailers: dict[str, str] = {}
        while line := self._line():
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise _BrokenFraming(f"expected a 'Name: value' trailer, got {line[:80]!r}")
            trailers[name.strip().lower()] = value.strip()
        api._update(posted, trailers=trailers, body=b"".join(posted.chunks or ()))

    def _line(self) -> bytes:
        line = self.rfile.readline(MAX_LINE)
        if not line.endswith(b"\n"):
            raise _BrokenFraming(f"expected a CRLF-terminated line, got {line[:80]!r}")
        return line.rstrip(b"\r\n")

    def _reply(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
