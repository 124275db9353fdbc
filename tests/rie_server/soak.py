"""A soak of a real ``lambdarig-rie``: callers on threads run seeded mixes of invocations for a
while; every answer is checked against the kind of call, every invocation must run exactly once.

Shared by ``tests/rie_server/test_soak.py`` (bounded, in CI) and ``benchmarks/soak.py`` (longer,
figures for the README). The function is ``tests/integration/handlers/app.py`` under lambdarig's
runtime client, behind an emulator with a small ``--timeout`` and ``--memory``. The kinds:

========  ==========================================  ==========================================
kind      event                                       right answer
========  ==========================================  ==========================================
echo      ``{"action": "echo", ...}``                 200, the event back
big       echo with a 5 MiB string                    200, the 5 MiB event back
raise     ``{"action": "error"}``                     200 + Unhandled, ``ValueError``
exit      ``{"action": "crash"}`` (``os._exit(3)``)   200 + Unhandled, ``Runtime.ExitError``
timeout   sleeps past ``--timeout``                   200 + Unhandled, ``Sandbox.Timedout``
oom       allocates past ``--memory``                 200 + Unhandled, ``Runtime.ExitError``;
                                                      REPORT ``Error Type: Runtime.OutOfMemory``
event     echo, ``X-Amz-Invocation-Type: Event``      202, then one REPORT
dry_run   echo, ``X-Amz-Invocation-Type: DryRun``     204, no REPORT
========  ==========================================  ==========================================

Each call carries its own ``X-Amzn-RequestId`` (a seeded UUID), which the answer must echo: after
the run, every request id but the dry runs' has exactly one REPORT line (none lost, none run
twice). Processes below the emulator are sampled during the run; after stop none may be alive,
and the caller's fd count must be back where it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.rie_server.emulator_process import (
    OUR_RUNTIME,
    Running,
    alive,
    drained_stderr,
    emulator,
)

HANDLERS = Path(__file__).resolve().parents[1] / "integration" / "handlers"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# The function timeout: short, so that timeouts come up often, yet 100x what a 5 MiB echo takes
# on an idle machine (2 s was exceeded once by a 5 MiB echo at load 8 on 2 cores).
TIMEOUT_S = 5
MEMORY_MB = 128
MAX_CONCURRENCY = 16  # 8 callers plus Event invocations in the background: no 429
BIG = 5 * 1024 * 1024
RSS_EVERY = 1000  # invocations between two samples of the emulator's RSS
# How often each kind comes up (timeouts and OOMs cost seconds and a re-init each).
WEIGHTS = {
    "echo": 30,
    "big": 4,
    "raise": 10,
    "exit": 6,
    "timeout": 3,
    "oom": 3,
    "event": 10,
    "dry_run": 8,
}
EVENTS = {
    "echo": {"action": "echo"},
    "big": {"action": "echo", "pad": "x" * BIG},
    "raise": {"action": "error"},
    "exit": {"action": "crash", "code": 3},
    "timeout": {"action": "sleep", "seconds": TIMEOUT_S + 3},
    "oom": {"action": "alloc", "mb": 4 * MEMORY_MB, "hold": TIMEOUT_S / 2},
    "event": {"action": "echo"},
    "dry_run": {"action": "echo"},
}
INVOCATION_TYPES = {"event": "Event", "dry_run": "DryRun"}
ERROR_TYPES = {
    "raise": "ValueError",
    "exit": "Runtime.ExitError",
    "timeout": "Sandbox.Timedout",
    "oom": "Runtime.ExitError",
}


@dataclass(frozen=True)
class Call:
    kind: str
    request_id: str
    number: int  # makes each echoed event unique

    def event(self) -> dict[str, object]:
        return {**EVENTS[self.kind], "n": self.number}

    def headers(self) -> dict[str, str]:
        headers = {"X-Amzn-RequestId": self.request_id}
        if self.kind in INVOCATION_TYPES:
            headers["X-Amz-Invocation-Type"] = INVOCATION_TYPES[self.kind]
        return headers


def plan(seed: int, caller: int) -> Iterator[Call]:
    """Caller ``caller``'s endless, seeded sequence of calls."""
    rng = random.Random(f"soak:{seed}:{caller}")
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    for number in range(1 << 62):
        kind = rng.choices(kinds, weights)[0]
        yield Call(kind, str(uuid.UUID(int=rng.getrandbits(128), version=4)), number)


def wrong_answer(call: Call, response: httpx.Response) -> str | None:
    """What is wrong with ``response`` as the answer to ``call``; ``None`` if it is right."""
    if response.headers.get("x-amzn-RequestId") != call.request_id:
        return f"request id {response.headers.get('x-amzn-RequestId')!r}"
    expected_status = {"event": 202, "dry_run": 204}.get(call.kind, 200)
    if response.status_code != expected_status:
        return f"status {response.status_code}: {response.content[:300]!r}"
    function_error = response.headers.get("X-Amz-Function-Error")
    if call.kind in ERROR_TYPES:
        body = json.loads(response.content)
        if function_error != "Unhandled" or body.get("errorType") != ERROR_TYPES[call.kind]:
            return f"function error {function_error!r}, body {response.content[:300]!r}"
    elif function_error is not None:
        return f"unexpected function error: {response.content[:300]!r}"
    elif call.kind in INVOCATION_TYPES:
        if response.content:
            return f"a body for {call.kind}: {response.content[:300]!r}"
    elif json.loads(response.content) != call.event():
        return f"not the echo: {response.content[:300]!r}"
    return None


@dataclass
class Totals:
    seconds: float = 0.0
    invocations: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # no answer, or no REPORT
    duplicates: list[str] = field(default_factory=list)  # answered or run more than once
    rss_kib_start: int = 0
    rss_kib_end: int = 0
    # (invocations answered, emulator RSS) each time another RSS_EVERY invocations were answered
    rss_kib_by_invocations: list[tuple[int, int]] = field(default_factory=list)
    fds_before: int = 0
    fds_after: int = 0
    pids_seen: set[int] = field(default_factory=set)
    pids_left: list[int] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)  # the emulator's own log

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{kind} {self.by_kind[kind]}" for kind in WEIGHTS)
        return [
            f"{self.invocations} invocations in {self.seconds:.0f} s ({kinds})",
            f"wrong answers {len(self.wrong)}, lost {len(self.lost)}, "
            f"duplicates {len(self.duplicates)}",
            f"emulator RSS {self.rss_kib_start / 1024:.1f} MiB at start, "
            f"{self.rss_kib_end / 1024:.1f} MiB at the end",
            "emulator RSS by invocations answered: "
            + (
                ", ".join(f"{n} {kib / 1024:.1f} MiB" for n, kib in self.rss_kib_by_invocations)
                or f"none (fewer than {RSS_EVERY})"
            ),
            f"processes below the emulator seen {len(self.pids_seen)}, "
            f"alive after stop {len(self.pids_left)}",
            f"caller fds {self.fds_before} before, {self.fds_after} after",
        ]


class _Callers:
    """Threads running their plans until a deadline; answers checked as they come."""

    def __init__(self, running: Running, seed: int, callers: int, deadline: float) -> None:
        self.running, self.seed, self.deadline = running, seed, deadline
        self.count = callers
        self.lock = threading.Lock()
        self.totals = Totals()
        self.answered: Counter[str] = Counter()
        self.expect_report: set[str] = set()
        self.expect_oom: set[str] = set()

    def run(self) -> None:
        threads = [threading.Thread(target=self._caller, args=(n,)) for n in range(self.count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _caller(self, caller: int) -> None:
        with httpx.Client(base_url=self.running.url, timeout=60) as client:
            for call in plan(self.seed, caller):
                if time.monotonic() >= self.deadline:
                    return
                try:
                    response = client.post(
                        INVOKE_PATH, content=json.dumps(call.event()), headers=call.headers()
                    )
                except httpx.HTTPError as exc:
                    self._record(call, None, f"no answer: {exc!r}")
                    continue
                self._record(call, response, wrong_answer(call, response))

    def _record(self, call: Call, response: httpx.Response | None, wrong: str | None) -> None:
        with self.lock:
            self.totals.invocations += 1
            self.totals.by_kind[call.kind] += 1
            if response is None:
                self.totals.lost.append(f"{call.kind} {call.request_id}: {wrong}")
                return
            self.answered[call.request_id] += 1
            if wrong is not None:
                self.totals.wrong.append(f"{call.kind} {call.request_id}: {wrong}")
            if call.kind != "dry_run":
                self.expect_report.add(call.request_id)
            if call.kind == "oom":
                self.expect_oom.add(call.request_id)


def _reports(running: Running) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in running.stdout().splitlines():
        if line.startswith("REPORT RequestId: "):
            request_id = line.split()[2]
            found.setdefault(request_id, []).append(line)
    return found


def _check_reports(callers: _Callers, running: Running) -> None:
    """Every answered invocation (but dry runs) has one REPORT; Event invocations may still be
    running, so poll for theirs up to a deadline."""
    totals = callers.totals
    deadline = time.monotonic() + 30
    while True:
        reports = _reports(running)
        missing = callers.expect_report - set(reports)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # polling the emulator's output for the last Event REPORTs
    totals.lost += [f"no REPORT for {request_id}" for request_id in sorted(missing)]
    for request_id, lines in reports.items():
        if len(lines) > 1 or callers.answered[request_id] > 1:
            totals.duplicates.append(f"{request_id}: {len(lines)} REPORTs")
        if request_id in callers.expect_oom and "Error Type: Runtime.OutOfMemory" not in lines[0]:
            totals.wrong.append(f"oom {request_id}: {lines[0]!r}")
        if request_id not in callers.expect_report:
            totals.wrong.append(f"a REPORT for no answered invocation: {lines[0]!r}")


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="utf-8", errors="surrogateescape") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@contextlib.contextmanager
def _sampling(running: Running, totals: Totals) -> Iterator[None]:
    """Collect the pids below the emulator every 0.2 s while the block runs, and its RSS each
    time another ``RSS_EVERY`` invocations were answered (a leak grows with that count; a
    plateau levels off)."""
    stop = threading.Event()
    seen = totals.pids_seen

    def sample() -> None:
        due = RSS_EVERY
        while not stop.wait(0.2):
            seen.update(running.descendants())
            if totals.invocations >= due:
                rss = _rss_kib(running.process.pid)
                totals.rss_kib_by_invocations.append((totals.invocations, rss))
                due = (totals.invocations // RSS_EVERY + 1) * RSS_EVERY

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        seen.update(running.descendants())


def soak(seconds: float, workdir: Path, *, callers: int = 8, seed: int = 8) -> Totals:
    """Run the soak for ``seconds`` with ``callers`` threads; the emulator's logs go to
    ``workdir``. Blocks; always stops the emulator. Returns the totals (the caller judges)."""
    argv = [
        "--runtime-interface-emulator-address",
        "127.0.0.1:0",
        "--runtime-api-address",
        "127.0.0.1:0",
        "--timeout",
        str(TIMEOUT_S),
        "--memory",
        str(MEMORY_MB),
        "--max-concurrency",
        str(MAX_CONCURRENCY),
        "--async-retry-delays",
        "",
        *OUR_RUNTIME,
        "app.handler",
    ]
    fds_before = _fds()
    started = time.monotonic()
    with emulator(argv, workdir, cwd=HANDLERS, env={"PYTHONUNBUFFERED": "1"}) as running:
        group = _Callers(running, seed, callers, started + seconds)
        totals = group.totals
        totals.rss_kib_start = _rss_kib(running.process.pid)
        with drained_stderr(running), _sampling(running, totals):
            group.run()
            totals.seconds = time.monotonic() - started
            _check_reports(group, running)
        totals.rss_kib_end = _rss_kib(running.process.pid)
        totals.stderr_lines = list(running.stderr_lines)
    totals.pids_left = sorted(pid for pid in totals.pids_seen if alive(pid))
    totals.fds_before, totals.fds_after = fds_before, _fds()
    return totals
