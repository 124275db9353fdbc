"""Requests/s and p50/p99 latency through lambdarig's HTTP front, next to the Invoke API path.

    python benchmarks/http_front.py [--quick] [--seconds 3] [--rounds 3] [--no-sam] [--keep-images]

One hello-world function (returns ``{"statusCode": 200, "body": "{\\"message\\": ...}"}``) in a SAM
template with an ``HttpApi`` event, served by ``lambdarig serve -t`` (ephemeral ports). Two paths
to the same warm environments:

- HTTP API front: ``GET /hello`` (API Gateway HTTP API, payload format 2.0: the front builds the
  event, invokes, and maps the result to an HTTP response);
- Invoke API: ``POST /2015-03-31/functions/HelloFunction/invocations`` with ``{}``.

Each path is measured sequentially (one caller) and with 8 concurrent callers (threads, one
keep-alive connection each), in windows of --seconds (each caller makes at least 3 calls, even
past the window's end), alternating the paths for --rounds rounds and pooling the windows. Before
measuring, 8 concurrent warm-up calls start 8 environments, so no cold start is timed. The client
runs on the same machine and shares its cores.

Then the same function under ``sam local start-api`` (aws-sam-cli, the version tests/peers.py
pins, installed on first use into the cached venv ``peers/sam-venv``) on the same windows, after
lambdarig's server has stopped: once in sam's default mode (a new container per request) and once
with ``--warm-containers EAGER`` (one container started at start and kept, sam's fastest mode),
each after one untimed call; then the ratios ours / sam of the HTTP API front's figures, measured
in this run. After each response sam waits for the function's ``REPORT`` line in the container's
log stream, at most 1 s (``Container.wait_for_result`` in samcli/local/docker/container.py), and
many warm calls wait the full second: sam's warm latencies are bimodal.

sam needs the Lambda base image of the runtime, ``public.ecr.aws/lambda/python:3.X-x86_64``; it
builds ``public.ecr.aws/lambda/python:3.X-rapid-x86_64`` on it (its aws-lambda-rie added in
``/var/rapid``) and runs that per function with ``--skip-pull-image``. A machine that cannot pull
gets a stand-in under that name, built offline from benchmarks/sam_standin/ on lambdarig's Debian
base (``lambdarig-base:bookworm`` for Python 3.11, ``:trixie`` for 3.13, from
images/base/build-base.sh), and labelled ``org.lambdarig.build=<run id>`` (sam's image inherits
it); both are removed at the end unless ``--keep-images``. AWS's image, when the engine has it, is
used instead and never removed. How the stand-in differs from AWS's image:

- Debian minbase instead of Amazon Linux 2023; Debian's ``/usr/bin/python3.X`` instead of AWS's
  build in ``/var/lang``; no preinstalled packages (AWS's has boto3);
- the runtime client is ``awslambdaric`` from PyPI (the version tests/peers.py pins, wheels
  downloaded on the host) in ``/var/runtime``, not the runtime AWS ships there;
- ``/var/runtime/bootstrap`` is a shell script that runs ``python3.X -m awslambdaric HANDLER``
  (through ``AWS_LAMBDA_EXEC_WRAPPER`` when set), not AWS's bootstrap;
- ``/lambda-entrypoint.sh`` follows AWS's convention (the handler as its one argument) but sam
  does not use it: it runs ``/var/rapid/aws-lambda-rie`` as the entrypoint.

What the sam rows measure is sam's part (its Flask front, its container handling, its
aws-lambda-rie); the handler costs microseconds in either image. Only one run at a time per
engine: the stand-in's tag is the name sam asks for. Without a Docker engine, a base image to
build the stand-in on, or PyPI to install sam the first time (or with ``--no-sam``), a fallback
row says why sam was not measured.

The 1-minute load average is printed before and after. Every process and container started is
stopped before exit (sam with SIGINT, then the containers it started in this run and left), and
every image built is removed. Not part of the test command
(tests/benchmarks/test_http_front_smoke.py runs --quick, with sam where Docker is).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _sam  # noqa: E402
from _common import free_port, machine_info  # noqa: E402

CALLERS = (1, 8)
READY = re.compile(r"lambdarig-rie: listening on (http://\S+)")
HTTP_API = re.compile(r"HTTP API\s+GET\s+(http://\S+)")
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
# calls per caller and window at least, even past the window's end: a sam call in its default mode
# (a new container) takes longer than a --quick window
MIN_CALLS = 3
# sam's default mode starts a container per request; on a loaded machine one can fail: a mode
# whose measurement failed is measured once more, from a new sam, and the note says so
SAM_ATTEMPTS = 2
BODY = b'{"message": "hello world"}'
FRONT = "HTTP API front (GET /hello)"
SAM_MODES = {  # row label -> --warm-containers EAGER?
    "sam local start-api (GET /hello)": False,
    "sam local start-api --warm-containers EAGER (GET /hello)": True,
}
# this interpreter's runtime; the newest Lambda runtime lambdarig knows on a newer Python
RUNTIME_VERSION = f"3.{min(sys.version_info[1], 13)}"
FIRST_CALL_TIMEOUT_S = 300.0  # in sam's default mode the first call builds its image

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Runtime: python{version}
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


Results = dict[tuple[str, int], Window]  # (row label, callers) -> pooled windows


def call(connection: http.client.HTTPConnection, path: Target) -> None:
    connection.request(path.method, path.target, body=path.body)
    reply = connection.getresponse()
    data = reply.read()
    if reply.status != 200 or data != path.expect:
        raise CallFailed(f"{path.label}: {reply.status} {data[:200]!r}")


def caller(path: Target, deadline: float, latencies: list[float], errors: list[str]) -> None:
    connection = http.client.HTTPConnection(path.host, path.port, timeout=REQUEST_TIMEOUT_S)
    try:
        while time.monotonic() < deadline or len(latencies) < MIN_CALLS:
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


def write_function(code: Path, name: str, version: str) -> Path:
    """Write the hello-world function (``hello/``, shared) and a template for python``version``."""
    (code / "hello").mkdir(exist_ok=True)
    (code / "hello" / "app.py").write_text(HANDLER)
    template = code / name
    template.write_text(TEMPLATE.format(version=version))
    return template


@contextmanager
def served(code: Path) -> Iterator[tuple[str, str]]:
    """``lambdarig serve -t`` of the hello-world template: (HTTP API URL of /hello, Invoke URL)."""
    template = write_function(code, "template.yaml", RUNTIME_VERSION)
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
        Target(FRONT, front.hostname, front.port, "GET", front.path, None,
              BODY),
        Target("Invoke API (POST .../invocations)", invoke.hostname, invoke.port, "POST", target,
              b"{}", expect_invoke),
    ]  # fmt: skip


def measure(routes: list[Target], seconds: float, rounds: int) -> Results:
    results = {(path.label, callers): Window() for path in routes for callers in CALLERS}
    for path in routes:  # warm-up: 8 environments started, connections and imports warm
        window(path, max(CALLERS), min(seconds, 0.5), Window())
    for _ in range(rounds):
        for callers in CALLERS:
            for path in routes:
                window(path, callers, seconds, results[(path.label, callers)])
    return results


def first_call(path: Target) -> None:
    """One call with a long timeout: sam's default mode builds its image on the first call."""
    connection = http.client.HTTPConnection(path.host, path.port, timeout=FIRST_CALL_TIMEOUT_S)
    try:
        call(connection, path)
    except (OSError, http.client.HTTPException) as exc:
        raise CallFailed(f"{path.label}: first call: {type(exc).__name__}: {exc}") from None
    finally:
        connection.close()


def measure_sam(code: Path, args: argparse.Namespace) -> tuple[Results, list[str]]:
    """The ``sam local start-api`` rows, each mode of :data:`SAM_MODES` on the same windows as
    ours, and notes; only a note when sam cannot be measured here."""
    if args.no_sam:
        return {}, ["sam local start-api: not measured: --no-sam"]
    try:
        version = _sam.python_version(RUNTIME_VERSION)
        sam = _sam.sam_executable()
    except _sam.SamUnavailable as exc:
        return {}, [f"sam local start-api: not measured: {exc}"]
    template = write_function(code, "template-sam.yaml", version)
    results: Results = {}
    notes = [f"sam local start-api: aws-sam-cli {_sam.peers.SAM_CLI_VERSION} ({sam})"]
    try:
        with _sam.sam_images(version, args.keep_images) as images:
            notes.append(f"sam's image: {images.description}; function runtime python{version}")
            for label, warm in SAM_MODES.items():
                log = code / ("sam-eager.log" if warm else "sam.log")
                for attempt in range(1, SAM_ATTEMPTS + 1):
                    try:
                        results.update(
                            sam_mode(sam, template, images.rapid, label, warm, log, args)
                        )
                        break
                    except CallFailed as exc:  # sam's own failure, e.g. a container's start
                        if attempt == SAM_ATTEMPTS:  # that timed out on a loaded machine
                            notes.append(f"{label}: not measured: {exc}")
                        else:
                            notes.append(f"{label}: attempt {attempt} failed ({exc}); again")
                    except _sam.SamUnavailable as exc:
                        notes.append(f"{label}: not measured: {exc}")
                        break
    except _sam.SamUnavailable as exc:
        notes.append(f"sam local start-api: not measured: {exc}")
    return results, notes


def sam_mode(
    sam: Path,
    template: Path,
    rapid: str,
    label: str,
    warm: bool,
    log: Path,
    args: argparse.Namespace,
) -> Results:
    """One mode of ``sam local start-api`` started, called once, measured and stopped. Raises
    ``CallFailed`` when sam answers badly or not at all, ``SamUnavailable`` when it cannot run."""
    with _sam.sam_api(sam, template, free_port(), rapid, warm, log) as url:
        sam_url = urlsplit(url)
        assert sam_url.hostname and sam_url.port, url
        path = Target(label, sam_url.hostname, sam_url.port, "GET", "/hello", None, BODY)
        first_call(path)
        return measure([path], args.seconds, args.rounds)


def row(label: str, callers: int, measured: Window) -> str:
    return (
        f"| {label} | {callers} | {measured.per_second():,.0f} | "
        f"{measured.percentile_ms(50):.2f} | {measured.percentile_ms(99):.2f} |"
    )


def markdown(results: Results, sam: Results) -> list[str]:
    lines = [
        "| path | callers | requests/s | p50 (ms) | p99 (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for callers in CALLERS:
        for (label, count), measured in [*results.items(), *sam.items()]:
            if count == callers:
                lines.append(row(label, callers, measured))
    if not sam:
        lines.append("| sam local start-api (GET /hello) | 1, 8 | n/a | n/a | n/a |")
    return lines


def ratios(results: Results, sam: Results) -> list[str]:
    """ours / sam for each sam row: the HTTP API front's figures over sam's, same callers."""
    if not sam:
        return []
    lines = [
        f"ratios ours / sam ({FRONT} over each sam row, same callers, this run):",
        "",
        "| sam row | callers | requests/s | p50 | p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    for (label, callers), theirs in sam.items():
        ours = results[(FRONT, callers)]
        figures = [
            ours.per_second() / theirs.per_second(),
            ours.percentile_ms(50) / theirs.percentile_ms(50),
            ours.percentile_ms(99) / theirs.percentile_ms(99),
        ]
        lines.append(f"| {label} | {callers} | " + " | ".join(f"{f:.3g}" for f in figures) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run")
    parser.add_argument("--seconds", type=float, default=3.0, help="window per figure")
    parser.add_argument("--rounds", type=int, default=3, help="windows per figure, pooled")
    parser.add_argument("--no-sam", action="store_true", help="skip `sam local start-api`")
    parser.add_argument(
        "--keep-images", action="store_true", help="keep the stand-in and sam's image"
    )
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
        print(f"function code and server log: {tmp}", flush=True)
        with served(Path(tmp)) as (front_url, invoke_url):
            results = measure(paths(front_url, invoke_url), args.seconds, args.rounds)
        sam, notes = measure_sam(Path(tmp), args)
    print()
    print("\n".join(markdown(results, sam)))
    print()
    print("\n".join(notes))
    if sam:
        print()
        print("\n".join(ratios(results, sam)))
    print()
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
