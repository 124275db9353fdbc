"""http11_listen: out of file descriptors, the server backs off with one warning line and
serves again once descriptors are free (issue 8: 300 slow clients, then 44,895 tracebacks).

The server runs in a child process whose RLIMIT_NOFILE is lowered to a few descriptors above
what it has open, so this test process keeps its own limit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import lambdarig

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE is POSIX")

CHILD = """
import asyncio, logging, os, resource, sys
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
logging.getLogger("lambdarig.rie_server.http.listen").setLevel(logging.DEBUG)
from lambdarig.rie_server.http.server import HttpReply, HttpServer

async def main():
    loop = asyncio.get_running_loop()
    server = HttpServer(lambda request: HttpReply(200, b"ok"), "127.0.0.1", 0, keep_bytes=10,
                        accept_retry_delay=0.05)
    port = await server.start()
    stdin_closed = loop.create_future()
    loop.add_reader(0, lambda: stdin_closed.done() or stdin_closed.set_result(None))
    room = len(os.listdir("/proc/self/fd")) + 3  # listdir's own descriptor counts once
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (room, hard))
    print(port, flush=True)
    await stdin_closed  # the parent closes stdin: stop
    await server.close()

asyncio.run(main())
"""

WITHIN = 20.0  # seconds any wait on the child may take; never what decides the outcome
WARNING = "WARNING lambdarig.rie_server.http.listen: out of file descriptors"


def lines(log: Path, prefix: str) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith(prefix)]


def wait_for(log: Path, prefix: str, count: int) -> None:
    deadline = time.monotonic() + WITHIN
    while len(lines(log, prefix)) < count:
        assert time.monotonic() < deadline, f"no {count} lines {prefix!r}:\n{log.read_text()}"
        time.sleep(0.02)  # probe interval while polling the log


def get(port: int) -> bytes:
    """One GET on a new connection, read until the server's answer is complete."""
    with socket.create_connection(("127.0.0.1", port), timeout=WITHIN) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        chunks: list[bytes] = []
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to count fds")
def test_out_of_descriptors_warns_once_backs_off_and_recovers(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    env = {**os.environ, "PYTHONPATH": str(Path(lambdarig.__file__).parent.parent)}
    with log.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
        )
    held: list[socket.socket] = []
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        for _ in range(30):  # 3 get a descriptor, the rest wait in the listen backlog
            held.append(socket.create_connection(("127.0.0.1", port), timeout=WITHIN))
        wait_for(log, "DEBUG lambdarig.rie_server.http.listen: accept() on", 10)
        assert len(lines(log, WARNING)) == 1  # ten failed accepts, one warning
        for sock in held:
            sock.close()
        held.clear()
        assert get(port).startswith(b"HTTP/1.1 200 OK\r\n")  # descriptors free: served again
    finally:
        for sock in held:
            sock.close()
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(WITHIN)
        finally:
            child.kill()
            child.wait()
            child.stdout.close()  # type: ignore[union-attr]
    assert child.returncode == 0, log.read_text()
    text = log.read_text()
    assert "Traceback" not in text and "socket.accept() out of system resource" not in text
    assert len(lines(log, "WARNING")) == 1, text
    assert len(lines(log, "INFO")) == 1, text  # "accepting connections on ... again"
