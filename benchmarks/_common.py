"""Shared pieces of the benchmarks: machine info, a tiny Runtime API listener that timestamps the
first ``GET /next``, RSS probing, and launching AWS's emulator in front of a runtime client.

Nothing here is timed test code; it only measures. Every process started is killed before the
function that started it returns.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import platform
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

NEXT_REQUEST_LINE = b"GET /2018-06-01/runtime/invocation/next "
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
HANDLER_SOURCE = "def handler(event, context):\n    return event\n"


def machine_info() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def write_handler(directory: Path) -> str:
    """Write the trivial handler module into ``directory``; returns the handler string."""
    (directory / "bench_app.py").write_text(HANDLER_SOURCE)
    return "bench_app.handler"


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` from /proc (KiB)."""
    with open(f"/proc/{pid}/status", encoding="utf-8", errors="surrogateescape") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ColdStart:
    seconds: float  # process spawn -> first GET /next received
    rss_kib: int  # VmRSS of the runtime when that request arrived


class NextListener:
    """A loopback socket; :meth:`spawn_and_wait` times one runtime up to its first ``/next``."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._server.getsockname()[1]}"

    def close(self) -> None:
        self._server.close()

    def spawn_and_wait(self, argv: Sequence[str], env: dict[str, str], cwd: Path) -> ColdStart:
        """Spawn ``argv``, wait (≤ 30 s) for its ``GET /next``, read its RSS, then kill it."""
        self._server.settimeout(30)
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        connection: socket.socket | None = None
        try:
            connection, _ = self._server.accept()
            received = b""
            while NEXT_REQUEST_LINE not in received:
                chunk = connection.recv(4096)
                if not chunk:
                    raise RuntimeError(f"{argv} closed the connection before GET /next")
                received += chunk
            arrived = time.perf_counter()
            rss = rss_kib(process.pid)
        finally:
            process.kill()  # before closing the socket, so the runtime logs no "failed /next"
            process.wait()
            if connection is not None:
                connection.close()
        return ColdStart(arrived - started, rss)


@contextlib.contextmanager
def emulator(
    rie: Path, runtime_argv: Sequence[str], env: dict[str, str], cwd: Path
) -> Iterator[int]:
    """AWS's aws-lambda-rie in front of ``runtime_argv``; yields the invoke port; always killed."""
    port, api_port = free_port(), free_port()
    argv = [
        str(rie),
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{port}",
        "--runtime-api-address",
        f"127.0.0.1:{api_port}",
        *runtime_argv,
    ]
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("aws-lambda-rie did not start listening") from None
                time.sleep(0.01)  # polling the port
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def invokes_per_second(port: int, seconds: float) -> float:
    """Sequential invokes over one keep-alive connection for ``seconds`` (after one warm-up)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:

        def invoke() -> None:
            connection.request("POST", INVOKE_PATH, body=b'{"n": 1}')
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or body != b'{"n": 1}':
                raise RuntimeError(f"invoke returned {response.status} {body[:200]!r}")

        invoke()  # init happens lazily on the first invoke: keep it out of the rate
        count, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            invoke()
            count += 1
        return count / elapsed
    finally:
        connection.close()


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
