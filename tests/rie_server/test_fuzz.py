"""Fuzz the emulator's two listeners with seeded mutations of valid requests (issue 8).

A real ``lambdarig-rie`` runs ``tests/integration/handlers/app.py`` under lambdarig's runtime
client. Several threads send ``fuzz_requests.case(SEED, i)`` for i = 0, 1, 2, ... over raw
sockets, to the Invoke API or to the first environment's Runtime API, until ``MAX_CASES`` or
``SECONDS`` (whichever first), each read bounded by a timeout. Then:

- every answer's status is below 500, or 501 (a ``Transfer-Encoding`` other than chunked) or 505
  (an HTTP version other than 1.0/1.1): the only 5xx the emulator documents for a request it
  refuses. The Invoke API's 500 ``ServiceException`` means the emulator could not provide an
  environment and the Runtime API's 500 means an emulator bug: neither may follow from what a
  client sends. 502/504 are not allowed either: the service answers 502 only for faults of the
  function's configuration (e.g. ``InvalidRuntimeException``), and a crash or timeout of this
  function is a 200 with ``X-Amz-Function-Error`` (aws-lambda-rie's 502 is ``--compat rie`` only);
- the emulator's stderr shows no traceback, no ``Exception in`` callback and no
  ``Task exception was never retrieved``;
- the emulator still runs, and a normal invoke answers 200 with the echo.

Deterministic given the seed (``LAMBDARIG_FUZZ_SEED``; the time budget, ``LAMBDARIG_FUZZ_SECONDS``,
only decides how far the sequence gets). A failure prints the seed and the offending requests;
``fuzz_requests.case(seed, index)`` rebuilds one.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.rie_server.emulator_process import (
    NEVER,
    OUR_RUNTIME,
    Running,
    drained_stderr,
    emulator,
)
from tests.rie_server.fuzz_requests import INVOKE, Case, case, live_invoke

pytestmark = [pytest.mark.slow, pytest.mark.soak]  # ~45 s; run once, in the conformance env

SEED = int(os.environ.get("LAMBDARIG_FUZZ_SEED", "8"))
SECONDS = float(os.environ.get("LAMBDARIG_FUZZ_SECONDS", "40"))
MAX_CASES = 5000
WORKERS = 8
DOCUMENTED_5XX = {501, 505}
HANDLERS = Path(__file__).resolve().parents[1] / "integration" / "handlers"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
CRASH_MARKERS = ("Traceback", "Exception in", "Task exception was never retrieved")
# Generous for a loaded 2-core CI machine: an intact request waits this long for its answer; one
# whose framing a mutation may have broken (the server may rightly wait for more bytes) less.
PATIENT_S = 10.0
IMPATIENT_S = 0.5
HALF_CLOSED_S = 2.0
NEXT_RESPONSE_S = 0.3  # after an answer: wait this long for one more (pipelined requests)
MAX_READ = 16 * 1024 * 1024


@dataclass
class Answer:
    statuses: list[int]
    garbled: bytes | None = None  # bytes that should have begun a response but did not
    note: str = ""


def _parse(buffer: bytes, statuses: list[int], head_only: bool) -> tuple[bytes, bool, bytes | None]:
    """Take complete responses off ``buffer``; (rest, whether one was taken, garbled bytes).
    ``head_only``: the first request was a ``HEAD``, so its answer has no body."""
    took = False
    while True:
        if buffer and not b"HTTP/1.1 ".startswith(buffer[:9]):
            return buffer, took, buffer[:200]
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return buffer, took, None
        head = buffer[:end].decode("latin-1")
        match = re.match(r"HTTP/1\.1 (\d{3}) ", head)
        if match is None:
            return buffer, took, buffer[:200]
        length = re.search(r"(?im)^content-length: *(\d+)\r?$", head)
        size = int(length.group(1)) if length and not (head_only and not statuses) else 0
        if len(buffer) < end + 4 + size:
            return buffer, took, None
        statuses.append(int(match.group(1)))
        buffer, took = buffer[end + 4 + size :], True


def exchange(port: int, data: bytes, patient: bool) -> Answer:
    """Send ``data`` on a fresh connection; collect every answer that arrives (the first within
    ``PATIENT_S`` or ``IMPATIENT_S``, each next within ``NEXT_RESPONSE_S``) until EOF or a quiet
    deadline."""
    first_wait_s = PATIENT_S if patient else IMPATIENT_S
    answer = Answer([])
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as exc:
        answer.note = f"connect failed: {exc!r}"
        return answer
    with sock:
        try:
            sock.sendall(data)
        except OSError as exc:  # the server may answer and close before reading everything
            answer.note = f"send: {exc!r}"
        buffer, total, head = b"", 0, data.startswith(b"HEAD ")
        deadline = time.monotonic() + first_wait_s
        half_closed = False
        while total < MAX_READ:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not half_closed and not answer.statuses and not patient:
                # No answer yet to a request whose framing may be broken: the server may be
                # waiting for bytes that will never come. End our side (it sees EOF mid-request)
                # and give it a last chance to answer or close.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)
                half_closed, deadline = True, time.monotonic() + HALF_CLOSED_S
                continue
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except OSError as exc:
                answer.note += f" recv: {exc!r}"
                break
            if not chunk:
                break
            total += len(chunk)
            buffer, took, garbled = _parse(buffer + chunk, answer.statuses, head)
            if garbled is not None:
                # after a HEAD's answer, a body may follow if the server judged the request
                # malformed (then it is not a HEAD it answers): not a protocol error
                if not (head and answer.statuses):
                    answer.garbled = garbled
                break
            if took:
                deadline = time.monotonic() + NEXT_RESPONSE_S
    return answer


@dataclass
class Ports:
    invoke: int
    runtime: int


class Fuzzer:
    """Send cases from a shared counter on ``WORKERS`` threads; keep the offending ones."""

    def __init__(self, ports: Ports, deadline: float) -> None:
        self.ports, self.deadline = ports, deadline
        self._indices = itertools.count()
        self._lock = threading.Lock()
        self.sent = 0
        self.statuses: dict[int, int] = {}
        self.failures: list[str] = []

    def run(self) -> None:
        threads = [threading.Thread(target=self._work, daemon=True) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _work(self) -> None:
        while time.monotonic() < self.deadline:
            with self._lock:
                index = next(self._indices)
            if index >= MAX_CASES:
                return
            self._one(case(SEED, index))

    def _one(self, this: Case) -> None:
        live: list[Answer] = []
        starter = None
        if this.live_request_id is not None:
            starter = threading.Thread(
                target=lambda: live.append(
                    exchange(self.ports.invoke, live_invoke(str(this.live_request_id)), True)
                )
            )
            starter.start()
            time.sleep(0.2)  # give the live invoke a head start: an ordering nicety, not a wait
        port = self.ports.invoke if this.api == INVOKE else self.ports.runtime
        answer = exchange(port, this.data, this.patient)
        if starter is not None:
            starter.join()
        self._check(this, answer, "")
        for extra in live:
            self._check(this, extra, " (its live invoke)")

    def _check(self, this: Case, answer: Answer, role: str) -> None:
        with self._lock:
            self.sent += not role
            for status in answer.statuses:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            bad = [s for s in answer.statuses if s >= 500 and s not in DOCUMENTED_5XX]
            if bad:
                self.failures.append(f"status {bad}{role} for {this}")
            if answer.garbled is not None:
                self.failures.append(f"not an HTTP response{role}: {answer.garbled!r} for {this}")


def normal_invoke(running: Running) -> httpx.Response:
    """A plain echo invoke, retried while every environment is still busy (429) with an
    invocation the fuzz left behind; bounded."""
    deadline = time.monotonic() + 60
    while True:
        response = httpx.post(
            running.url + INVOKE_PATH, json={"action": "echo", "after": "fuzz"}, timeout=30
        )
        if response.status_code != 429 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)  # polling: a busy environment frees itself within --timeout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_mutated_requests_get_sane_answers_and_the_emulator_survives(tmp_path: Path) -> None:
    runtime_port = free_port()
    argv = [
        "--runtime-interface-emulator-address",
        "127.0.0.1:0",
        "--runtime-api-address",
        f"127.0.0.1:{runtime_port}",
        "--timeout",
        "2",
        "--max-concurrency",
        "3",
        "--async-retry-delays",
        "",
        *OUR_RUNTIME,
        "app.handler",
    ]
    env = {"AWS_LAMBDA_FUNCTION_NAME": "it-fn"}
    with emulator(argv, tmp_path, cwd=HANDLERS, env=env) as running:
        ports = Ports(int(running.url.rsplit(":", 1)[1]), runtime_port)
        with drained_stderr(running):
            started = time.monotonic()
            fuzzer = Fuzzer(ports, started + SECONDS)
            fuzzer.run()
            fuzzed = time.monotonic() - started
            alive = running.process.poll() is None
            after = normal_invoke(running) if alive else None
            checked = time.monotonic() - started - fuzzed
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(timeout=15)
        running.stderr.wait_for(NEVER, 2)  # the rest, up to EOF
    summary = (
        f"seed {SEED}: {fuzzer.sent} requests in {fuzzed:.1f} s (then {checked:.1f} s to the "
        f"normal invoke), statuses {dict(sorted(fuzzer.statuses.items()))}"
    )
    print(summary, file=sys.stderr)
    crashes = [line for line in running.stderr_lines if any(mark in line for mark in CRASH_MARKERS)]
    report = [summary]
    if crashes:
        # each traceback as its log line and its last line, then the whole stderr's tail
        lines = running.stderr_lines
        report += [
            f"emulator stderr: {line!r} ... {_exception_line(lines, number)!r}"
            for number, line in enumerate(lines)
            if "failed for" in line or "Exception in" in line or "never retrieved" in line
        ][:20]
        report.append("stderr tail:\n" + "\n".join(lines[-60:]))
    report += fuzzer.failures[:20]
    assert not crashes and not fuzzer.failures, "\n\n".join(report)
    assert alive, f"{summary}: the emulator exited; stderr:\n" + "\n".join(running.stderr_lines)
    assert after is not None and after.status_code == 200, (summary, after and after.text)
    assert json.loads(after.content) == {"action": "echo", "after": "fuzz"}
    assert "X-Amz-Function-Error" not in after.headers


def _exception_line(lines: list[str], start: int) -> str:
    """The ``SomeError: message`` line ending the traceback logged at ``lines[start]``."""
    for line in lines[start + 1 :]:
        if line and not line.startswith((" ", "Traceback")):
            return line
    return ""
