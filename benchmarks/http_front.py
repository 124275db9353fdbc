"""Requests/s and p50/p99 latency through lambdarig's HTTP front, next to the Invoke API path.

    python benchmarks/http_front.py [--quick] [--seconds 3] [--rounds 3]

One hello-world function (returns ``{"statusCode": 200, "body": "{\\"message\\": ...}"}``) in a SAM
template with an ``HttpApi`` event, served by ``lambdarig serve -t`` (ephemeral ports). Two paths
to the same warm environments:

- HTTP API front: ``GET /hello`` (API Gateway HTTP API, payload format 2.0: the front builds the
  event, invokes, and maps the result to an HTTP response);
- Invoke API: ``POST /2015-03-31/functions/HelloFunction/invocations`` with ``{}``.

Each path is measured sequentially (one caller) and with 8 concurrent callers (threads, one
keep-alive connection each), in windows of --seconds, alternating the paths for --rounds rounds
and pooling the windows. Before measuring, 8 concurrent warm-up calls start 8 environments, so no
cold start is timed. The client runs on the same machine and shares its cores.

``sam local start-api`` is the reference the issue asks for when ``sam`` (pip ``aws-sam-cli``)
and a Docker engine are present; this script does not drive it yet and prints why the row is
missing. The 1-minute load average is printed before and after. Every process started is stopped
before exit. Not part of the test command (tests/benchmarks/test_http_front_smoke.py runs
--quick).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info  # noqa: E402

CALLERS = (1, 8)
READY = re.compile(r"lambdarig-rie: listening on (http://\S+)")
HTTP_API = re.compile(r"HTTP API\s+GET\s+(http://\S+)")
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
BODY = b'{"message": "hello world"}'

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Runtime: python3.{minor}
      Events:
        Hello:
          Type: HttpApi
          Properties:
            Path: /hello
            Method: GET
"""
HANDLER = """\
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"message": "hello world"})}
"""


class CallFailed(Exception):
    """A call did not come back as 200 with the hello-world body."""


@dataclass(frozen=True)
class Target:
    """One way to call the function: ``method target`` on ``host:port``; ``expect`` is the body."""

    label: str
    host: str
    port: int
    method: str
    target: str
    body: bytes | None
    expect: bytes


@dataclass
class Window:
    """Pooled calls of one path with one number of callers."""

    calls: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile_ms(self, percent: int) -> float:
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[percent - 1] * 1000


def call(connection: http.client.HTTPConnection, path: Target) -> None:
    connection.request(path.method, path.target, body=path.body)
    reply = connection.getresponse()
    data = reply.read()
    if reply.status != 200 or data != path.expect:
        raise CallFailed(f"{path.label}: {reply.status} {data[:200]!r}")


def caller(path: Target, deadline: float, latencies: list[float], errors: list[str]) -> None:
    connection = http.client.HTTPConnection(path.host, path.port, timeout=REQUEST_TIMEOUT_S)
    try:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            call(connection, path)
            latencies.append(time.perf_counter() - start)
    except (OSError, CallFailed, http.client.HTTPException) as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


def window(path: Target, callers: int, seconds: float, into: Window) -> None:
    """``callers`` threads calling ``path`` for ``seconds``; pooled into ``into``."""
    per_thread: list[list[float]] = [[] for _ in range(callers)]
    errors: list[str] = []
    start = time.monotonic()
    deadline = start + seconds
    threads = [
        threading.Thread(target=caller, args=(path, deadline, latencies, errors))
        for latencies in per_thread
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    if errors:
        raise CallFailed(f"{len(errors)} caller(s) failed; first: {errors[0]}")
    into.seconds += elapsed
    for latencies in per_thread:
        into.calls += len(latencies)
        into.latencies += latencies


@contextmanager
def served(code: Path) -> Iterator[tuple[str, str]]:
    """``lambdarig serve -t`` of the hello-world template: (HTTP API URL of /hello, Invoke URL)."""
    (code / "hello").mkdir()
    (code / "hello" / "app.py").write_text(HANDLER)
    template = code / "template.yaml"
    # this interpreter's runtime; the newest Lambda runtime lambdarig knows on a newer Python
    template.write_text(TEMPLATE.format(minor=min(sys.version_info[1], 13)))
    log_path = code / "serve.log"
    argv = [sys.executable, "-m", "lambdarig.cli", "serve", "-t", str(template)]
    argv += ["--port", "0", "--http-port", "0"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=code, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not READY.search(text := log_path.read_text(errors="replace")):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"lambdarig serve did not start:\n{text}")
            time.sleep(0.05)
        front = HTTP_API.search(text)
        invoke = READY.search(text)
        assert front is not None and invoke is not None, text
        yield front.group(1), invoke.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def paths(front_url: str, invoke_url: str) -> list[Target]:
    front, invoke = urlsplit(front_url), urlsplit(invoke_url)
    assert front.hostname and front.port and invoke.hostname and invoke.port
    target = "/2015-03-31/functions/HelloFunction/invocations"
    expect_invoke = b'{"statusCode": 200, "body": "{\\"message\\": \\"hello world\\"}"}'
    return [
        Target("HTTP API front (GET /hello)", front.hostname, front.port, "GET", front.path, None,
              BODY),
        Target("Invoke API (POST .../invocations)", invoke.hostname, invoke.port, "POST", target,
              b"{}", expect_invoke),
    ]  # fmt: skip


def measure(routes: list[Target], seconds: float, rounds: int) -> dict[tuple[str, int], Window]:
    results = {(path.label, callers): Window() for path in routes for callers in CALLERS}
    for path in routes:  # warm-up: 8 environments started, connections and imports warm
        window(path, max(CALLERS), min(seconds, 0.5), Window())
    for _ in range(rounds):
        for callers in CALLERS:
            for path in routes:
                window(path, callers, seconds, results[(path.label, callers)])
    return results


def sam_reason() -> str:
    """Why there is no ``sam local start-api`` row."""
    if shutil.which("sam") is None:
        return "sam is not installed (pip install aws-sam-cli)"
    return "sam is installed, but this script does not drive `sam local start-api` yet"


def markdown(results: dict[tuple[str, int], Window]) -> list[str]:
    lines = [
        "| path | callers | requests/s | p50 (ms) | p99 (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for callers in CALLERS:
        for (label, count), measured in results.items():
            if count == callers:
                lines.append(
                    f"| {label} | {callers} | {measured.per_second():,.0f} | "
                    f"{measured.percentile_ms(50):.2f} | {measured.percentile_ms(99):.2f} |"
                )
    lines.append("| sam local start-api (GET /hello) | 1, 8 | n/a | n/a | n/a |")
    return [*lines, "", f"sam local start-api: not measured: {sam_reason()}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run")
    parser.add_argument("--seconds", type=float, default=3.0, help="window per figure")
    parser.add_argument("--rounds", type=int, default=3, help="windows per figure, pooled")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds = 0.3, 1
    info = machine_info()
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}, "
        f"CPython {info['python']}"
    )
    print(
        f"{args.rounds} windows of {args.seconds:g} s per figure; "
        f"load average at the start: {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="lambdarig-bench-front-") as tmp:
        print(f"function code and server log: {tmp}")
        with served(Path(tmp)) as (front_url, invoke_url):
            results = measure(paths(front_url, invoke_url), args.seconds, args.rounds)
    print()
    print("\n".join(markdown(results)))
    print()
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
