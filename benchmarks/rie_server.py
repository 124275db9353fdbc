"""lambdarig.rie_server against AWS's aws-lambda-rie, measured in one run, with ratios ours/AWS.

    python benchmarks/rie_server.py [--quick] [--seconds 3] [--repeats 10]

Three stacks: aws-lambda-rie + awslambdaric (the reference), lambdarig-rie + awslambdaric (the same
runtime behind both emulators) and lambdarig-rie + lambdarig's runtime client (each with its own).
The handler echoes its event. The invoke client is raw sockets, one keep-alive connection each.

(1) sequential warm invokes/s with p50/p90/p99 latency and CPU time per invoke (--rounds windows of
    --seconds per stack, alternating the stacks, pooled);
(2) throughput with 1, 2, 4, 8 concurrent callers, pooled the same way (ours with
    --max-concurrency 8; aws-lambda-rie is tried with 2 callers and reported "n/a (crashes)"
    when it panics, as it does);
(3) 5 MiB echo latency (request and response 5 MiB, median of --repeats);
(4) start-up: spawn -> port listening and spawn -> first invoke answered (median of --repeats), and
    the RSS of one idle warm environment: emulator + runtime processes, from /proc;
(5) three floors, printed as notes: what Python, asyncio and the kernel cost without the emulator.
    The start-up floor: spawn -> first answer of ``python -m _floor_start``, which starts as
    lambdarig-rie does (port bound first, collector paused, asyncio without ssl) and only echoes,
    taking turns with (4). The per-invoke floor: sequential invokes through ``_floor_relay.py``,
    which relays them to lambdarig's runtime client with the reads, writes and wake-ups of an
    emulator and nothing else, taking its turn in each round of (1). The first-invoke floor
    without asyncio: spawn -> first invoke answered by ``_floor_first.py``, which spawns
    lambdarig's runtime client as lambdarig-rie does and relays that invoke with ``select``
    before importing asyncio, spawning as soon as it listens and, in turn, after reading
    lambdarig-rie's configuration, taking turns with (4).
Prints machine info and a Markdown table with the targets of issue 9 in its last column, then one
verdict per target. The 1-minute load average is printed before and after: when it was above
MAX_LOAD at the start, the verdicts are withheld (the figures of a busy machine are not comparable)
and the reason is printed instead. Every process started is killed before exit; ports are
ephemeral. Not part of the test command (tests/benchmarks/test_rie_server_smoke.py runs --quick).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import free_port, machine_info, rss_kib, write_handler  # noqa: E402

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
SMALL_EVENT = b'{"n": 1}'
BIG_EVENT = b'"' + b"x" * (5 * 1024 * 1024 - 2) + b'"'  # a JSON string of exactly 5 MiB
CALLERS = (1, 2, 4, 8)
AWS, OURS = "aws-lambda-rie", "lambdarig-rie"


class InvokeFailed(Exception):
    """An invoke did not come back as 200 with the echoed event (or the connection broke)."""


# -- peers and stacks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    rie: Path  # AWS's emulator binary
    ric_python: Path  # a Python with awslambdaric installed
    our_python: Path  # a Python with lambdarig installed


def locate_tools() -> Tools:
    """Peers via tests.peers when importable, else under $LAMBDARIG_CACHE or ~/.cache/lambdarig."""
    try:
        from tests import peers
    except ImportError:
        cache = Path(os.environ.get("LAMBDARIG_CACHE", Path.home() / ".cache" / "lambdarig"))
        rie, ric = cache / "peers" / "aws-lambda-rie-x86_64", cache / "peers/ric-venv/bin/python"
        found = (rie if rie.exists() else None, ric if ric.exists() else None)
    else:
        found = (peers.rie_binary(), peers.awslambdaric_python())
    if found[0] is None or found[1] is None:
        raise SystemExit("AWS peers missing (aws-lambda-rie, awslambdaric): python -m tests.peers")
    return Tools(found[0], found[1], Path(sys.executable))


@dataclass(frozen=True)
class Stack:
    emulator: str  # AWS or OURS
    runtime: str  # "awslambdaric" or "lambdarig"

    @property
    def label(self) -> str:
        return f"{self.emulator} + {self.runtime}"

    def argv(self, tools: Tools, port: int, handler: str, flags: Sequence[str]) -> list[str]:
        if self.runtime == "awslambdaric":
            runtime = [str(tools.ric_python), "-m", "awslambdaric", handler]
        else:
            runtime = [str(tools.our_python), "-m", "lambdarig.runtime_client", handler]
        emulator = (
            [str(tools.rie)]
            if self.emulator == AWS
            else [str(tools.our_python), "-m", "lambdarig.rie_server", *flags]
        )
        addresses = [
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{port}",
            "--runtime-api-address",
            f"127.0.0.1:{free_port()}",
        ]
        return [*emulator, *addresses, *runtime]


# The floors, printed as notes (not stacks of the table): what Python, asyncio and the kernel
# cost without the emulator. The start-up floor is spawn -> first answer of _floor_start.py (run
# with -m from the function's directory, where measure_startups copies it with _floor_wire.py);
# the per-invoke floor is sequential invokes through _floor_relay.py to lambdarig's runtime
# client; the first-invoke floor without asyncio is spawn -> first invoke answered by
# _floor_first.py (copied there too), which uses the emulator's spawn and configuration only.
FLOOR_MODULE = "_floor_start"
FLOOR_SCRIPT = Path(__file__).resolve().parent / f"{FLOOR_MODULE}.py"
FLOOR_WIRE = Path(__file__).resolve().parent / "_floor_wire.py"  # _floor_start's import
RELAY_SCRIPT = Path(__file__).resolve().parent / "_floor_relay.py"
FIRST_SCRIPT = Path(__file__).resolve().parent / "_floor_first.py"


def floor_argv(tools: Tools, port: int) -> list[str]:
    return [str(tools.our_python), "-m", FLOOR_MODULE, str(port)]


def first_argv(tools: Tools, port: int, *, handler: str, configured: bool) -> list[str]:
    flags = ["--configured"] if configured else []
    return [str(tools.our_python), "-m", FIRST_SCRIPT.stem, str(port), handler, *flags]


def relay_argv(tools: Tools, port: int, handler: str) -> list[str]:
    runtime = [str(tools.our_python), "-m", "lambdarig.runtime_client", handler]
    return [str(tools.our_python), str(RELAY_SCRIPT), str(port), str(free_port()), *runtime]


REFERENCE = Stack(AWS, "awslambdaric")
OURS_WITH_RIC = Stack(OURS, "awslambdaric")
OURS_OWN = Stack(OURS, "lambdarig")
STACKS = (REFERENCE, OURS_WITH_RIC, OURS_OWN)


# -- processes ----------------------------------------------------------------------------------


def _stat(pid: int | str) -> list[str]:
    """Fields of /proc/PID/stat after the command name: [0] state, [1] ppid, [19] start time."""
    with open(f"/proc/{pid}/stat", encoding="utf-8", errors="surrogateescape") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def descendants(pid: int) -> dict[int, str]:
    """Every live descendant of ``pid``, with its start time (so a reused pid is never killed)."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            fields = _stat(entry)
            children.setdefault(int(fields[1]), []).append((int(entry), fields[19]))
    found, todo = {}, [pid]
    while todo:
        for child, started in children.get(todo.pop(), []):
            found[child] = started
            todo.append(child)
    return found


def _cpu_s(pid: int) -> float:
    with contextlib.suppress(OSError, IndexError):
        fields = _stat(pid)
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0  # exited meanwhile


@dataclass
class Launched:
    process: subprocess.Popen[bytes]
    port: int
    spawned: float  # perf_counter() just before the spawn
    log: Path  # the emulator's stdout and stderr (its runtimes' output included)
    seen: dict[int, str] = field(default_factory=dict)  # descendants observed: pid -> start time

    def crash(self) -> str | None:
        """The emulator's panic or traceback line, once it has exited (waits up to 2 s)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2)
        if self.process.returncode is None:
            return None
        lines = self.log.read_text(errors="replace").splitlines()
        found = [line for line in lines if line.startswith(("panic:", "Traceback"))]
        return f"exit status {self.process.returncode}: " + (found[0] if found else "no message")

    def tree(self) -> list[int]:
        pids = descendants(self.process.pid)
        self.seen.update(pids)
        return list(pids)

    def cpu_s(self) -> tuple[float, float]:
        """CPU time (user + system) used so far by (the emulator, its live descendants)."""
        return _cpu_s(self.process.pid), sum(_cpu_s(pid) for pid in self.tree())

    def stop(self) -> None:
        """SIGTERM (the emulator's clean shutdown), SIGKILL after 5 s, then any descendant seen
        that still runs (same pid and start time)."""
        self.tree()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid, started in self.seen.items():
            with contextlib.suppress(OSError, IndexError):
                if _stat(pid)[19] == started:
                    os.kill(pid, signal.SIGKILL)


def launch(
    stack: Stack, tools: Tools, code: Path, handler: str, flags: Sequence[str] = ()
) -> contextlib.AbstractContextManager[Launched]:
    """Spawn ``stack`` serving ``handler`` from ``code``; always stopped (with its children)."""
    return spawn(code, lambda port: stack.argv(tools, port, handler, flags))


@contextlib.contextmanager
def spawn(code: Path, argv_for: Callable[[int], list[str]]) -> Iterator[Launched]:
    """Run ``argv_for(port)`` (serving on a free ``port``) in ``code``; always stopped (with its
    children)."""
    port = free_port()
    argv = argv_for(port)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME", "/root"),
        "LAMBDA_TASK_ROOT": str(code),
    }
    if "PYTHONPATH" in os.environ:  # measure the lambdarig it points at (e.g. a worktree's src)
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    descriptor, log = tempfile.mkstemp(prefix="emulator-", suffix=".log", dir=code)
    spawned = time.perf_counter()
    with os.fdopen(descriptor, "wb") as output:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=code,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    launched = Launched(process, port, spawned, Path(log))
    try:
        yield launched
    finally:
        launched.stop()


# -- a keep-alive invoke client over a raw socket -----------------------------------------------


class Caller:
    """A keep-alive HTTP/1.1 connection to the Invoke API (reconnects after `Connection: close`)."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self._address, self._timeout = ("127.0.0.1", port), timeout
        self._sock: socket.socket | None = None
        self._file: BinaryIO = io.BytesIO()  # the socket's buffered reader while connected

    def close(self) -> None:
        if self._sock is not None:
            self._file.close()
            self._sock.close()
            self._sock = None

    def invoke(self, body: bytes) -> tuple[int, bytes]:
        if self._sock is None:
            self._sock = socket.create_connection(self._address, timeout=self._timeout)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._file = self._sock.makefile("rb")
        host = f"{self._address[0]}:{self._address[1]}"
        head = (
            f"POST {INVOKE_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            self._sock.sendall(head.encode("ascii") + body)
            return self._read_response()
        except OSError as exc:
            self.close()
            raise InvokeFailed(f"connection broke: {exc!r}") from exc

    def _read_response(self) -> tuple[int, bytes]:
        status_line = self._file.readline()
        if not status_line:
            raise InvokeFailed("the emulator closed the connection instead of answering")
        status = int(status_line.split()[1])
        headers: dict[bytes, bytes] = {}
        while (line := self._file.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = self._read_chunked()
        else:
            body = self._file.read(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, body

    def _read_chunked(self) -> bytes:
        parts = []
        while size := int(self._file.readline().split(b";")[0], 16):
            parts.append(self._file.read(size))
            self._file.readline()
        while self._file.readline() not in (b"\r\n", b"\n", b""):
            continue  # trailer lines: not used
        return b"".join(parts)

    def echo(self, body: bytes) -> None:
        status, answer = self.invoke(body)
        if status != 200 or answer != body:
            raise InvokeFailed(f"expected 200 echoing the event, got {status} {answer[:200]!r}")


# -- measurements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Startup:
    listening_ms: float  # spawn -> the invoke port accepts a connection
    first_invoke_ms: float  # spawn -> the first invoke answered 200 (runtime init included)


def wait_ready(launched: Launched, timeout: float = 30.0) -> Startup:
    """Probe the invoke port until it accepts, then send the first invoke (it waits for init)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", launched.port), timeout=1).close()
            break
        except OSError:
            if launched.process.poll() is not None:
                raise InvokeFailed(f"emulator exited {launched.process.returncode}") from None
            if time.monotonic() > deadline:
                raise InvokeFailed(f"port {launched.port} not listening in {timeout} s") from None
            time.sleep(0.002)  # probing the port, not waiting for readiness blindly
    listening = time.perf_counter()
    caller = Caller(launched.port)
    try:
        caller.echo(SMALL_EVENT)
    finally:
        caller.close()
    answered = time.perf_counter()
    return Startup((listening - launched.spawned) * 1e3, (answered - launched.spawned) * 1e3)


@dataclass
class Samples:
    """Sequential invoke latencies (s) pooled over rounds, and the time they took."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    emulator_cpu_s: float = 0.0
    runtime_cpu_s: float = 0.0

    def cpu_us(self) -> tuple[float, float]:
        """CPU time per invoke (µs) of the emulator and of the runtime processes."""
        count = len(self.latencies)
        return self.emulator_cpu_s / count * 1e6, self.runtime_cpu_s / count * 1e6

    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile_ms(self, percent: int) -> float:
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[percent - 1] * 1e3


def sequential(launched: Launched, seconds: float, samples: Samples) -> None:
    """Back-to-back invokes for ``seconds`` into ``samples``, after a short warm-up."""
    caller = Caller(launched.port)
    try:
        warm_until = time.perf_counter() + min(0.25, seconds / 4)
        while time.perf_counter() < warm_until:
            caller.echo(SMALL_EVENT)
        emulator_cpu, runtime_cpu = launched.cpu_s()
        started = time.perf_counter()
        while (now := time.perf_counter()) - started < seconds:
            caller.echo(SMALL_EVENT)
            samples.latencies.append(time.perf_counter() - now)
        samples.elapsed += time.perf_counter() - started
        emulator_end, runtime_end = launched.cpu_s()
        samples.emulator_cpu_s += emulator_end - emulator_cpu
        samples.runtime_cpu_s += runtime_end - runtime_cpu
    finally:
        caller.close()


def echo_ms(port: int, body: bytes = BIG_EVENT) -> float:
    """One round trip of ``body`` echoed back, timed after an untimed one on the same connection."""
    caller = Caller(port)
    try:
        caller.echo(body)
        started = time.perf_counter()
        caller.echo(body)
        return (time.perf_counter() - started) * 1e3
    finally:
        caller.close()


def _caller_thread(
    port: int,
    gate: threading.Barrier,
    stop: threading.Event,
    counts: list[int],
    errors: list[str],
    timeout: float,
) -> None:
    caller = Caller(port, timeout)
    try:
        for _ in range(5):
            caller.echo(SMALL_EVENT)  # warm-up, overlapping: environments are created here
        gate.wait(timeout)
        count = 0
        while not stop.is_set():
            caller.echo(SMALL_EVENT)
            count += 1
        counts.append(count)
    except (InvokeFailed, threading.BrokenBarrierError) as exc:
        errors.append(str(exc) or type(exc).__name__)
        stop.set()
        gate.abort()
    finally:
        caller.close()


def concurrent(
    launched: Launched, callers: int, seconds: float, timeout: float = 10.0
) -> tuple[int, float]:
    """(Invokes, seconds) of ``callers`` threads, each looping on its own connection for about
    ``seconds`` once all have warmed up."""
    gate, stop = threading.Barrier(callers + 1), threading.Event()
    counts: list[int] = []
    errors: list[str] = []
    args = (launched.port, gate, stop, counts, errors, timeout)
    threads = [threading.Thread(target=_caller_thread, args=args) for _ in range(callers)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    try:
        gate.wait(timeout * 6 + 5)
        started = time.perf_counter()
        stop.wait(seconds)  # the timed window; ends early if a caller failed
    except threading.BrokenBarrierError:
        pass  # a caller failed before the window opened; its error is in ``errors``
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise InvokeFailed(f"{callers} callers: {errors[0]}")
    return sum(counts), elapsed


def idle_rss_mib(launched: Launched) -> tuple[float, float]:
    """(emulator, runtime processes) VmRSS in MiB while one warm environment sits idle."""
    emulator = rss_kib(launched.process.pid)
    runtime = 0
    for pid in launched.tree():
        with contextlib.suppress(OSError, RuntimeError):
            runtime += rss_kib(pid)
    return emulator / 1024, runtime / 1024


# -- one run ------------------------------------------------------------------------------------


@dataclass
class Results:
    values: dict[str, dict[Stack, float | str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def put(self, row: str, stack: Stack, value: float | str) -> None:
        self.values.setdefault(row, {})[stack] = value


def measure_sequential(
    running: dict[Stack, Launched], relay: Launched, args: argparse.Namespace, results: Results
) -> None:
    """Sequential invokes; the relay (the per-invoke floor) takes its turn in every round."""
    samples = {stack: Samples() for stack in running}
    floor = Samples()
    for _ in range(args.rounds):  # rounds alternate the stacks so drift hits all equally
        for stack, launched in running.items():
            sequential(launched, args.seconds, samples[stack])
        sequential(relay, args.seconds, floor)
    results.notes.append(relay_note(floor, samples[OURS_OWN], samples[REFERENCE]))
    for stack, pooled in samples.items():
        results.put("seq_rate", stack, pooled.rate())
        results.put("seq_p50", stack, pooled.percentile_ms(50))
        results.put("seq_p90", stack, pooled.percentile_ms(90))
        results.put("seq_p99", stack, pooled.percentile_ms(99))
        emulator_us, runtime_us = pooled.cpu_us()
        results.put("cpu_emulator", stack, emulator_us)
        results.put("cpu_runtime", stack, runtime_us)


def measure_idle(running: dict[Stack, Launched], results: Results) -> None:
    for stack, launched in running.items():
        emulator_mib, runtime_mib = idle_rss_mib(launched)
        results.put("rss_emulator", stack, emulator_mib)
        results.put("rss_runtime", stack, runtime_mib)
        results.put("rss_total", stack, emulator_mib + runtime_mib)


def measure_echo(running: dict[Stack, Launched], repeats: int, results: Results) -> None:
    times: dict[Stack, list[float]] = {stack: [] for stack in running}
    for _ in range(repeats):
        for stack, launched in running.items():
            times[stack].append(echo_ms(launched.port))
    for stack, values in times.items():
        results.put("echo_5mib", stack, statistics.median(values))


def measure_callers(
    running: dict[Stack, Launched], args: argparse.Namespace, results: Results
) -> None:
    """1, 2, 4, 8 callers, --rounds windows each alternating the stacks; after a stack's first
    failure (aws-lambda-rie's: at 2 callers) its remaining cells are n/a."""
    failed: dict[Stack, str] = {}
    for callers in CALLERS:
        totals = {stack: (0, 0.0) for stack in running}  # invokes, seconds
        for _ in range(args.rounds):
            for stack, launched in running.items():
                if stack in failed:
                    continue
                try:
                    count, elapsed = concurrent(launched, callers, args.seconds)
                except InvokeFailed as exc:
                    crash = launched.crash()
                    failed[stack] = "n/a (fails)" if crash is None else "n/a (crashes)"
                    results.notes.append(f"{stack.label}, {exc}" + (f"; {crash}" if crash else ""))
                    continue
                totals[stack] = (totals[stack][0] + count, totals[stack][1] + elapsed)
        for stack, (invokes, seconds) in totals.items():
            results.put(f"callers_{callers}", stack, failed.get(stack) or invokes / seconds)


def measure_warm(
    tools: Tools, code: Path, handler: str, args: argparse.Namespace, results: Results
) -> None:
    """All three stacks up at once (idle ones cost nothing); each figure alternates them."""
    with contextlib.ExitStack() as exits:
        running: dict[Stack, Launched] = {}
        for stack in STACKS:
            flags = ["--max-concurrency", str(max(CALLERS))] if stack.emulator == OURS else []
            running[stack] = exits.enter_context(launch(stack, tools, code, handler, flags))
        relay = exits.enter_context(spawn(code, lambda port: relay_argv(tools, port, handler)))
        for launched in (*running.values(), relay):
            wait_ready(launched)
        measure_sequential(running, relay, args, results)
        measure_idle(running, results)
        measure_echo(running, args.repeats, results)
        measure_callers(running, args, results)
        for stack, launched in running.items():  # the environments the 8 callers left behind
            alive = launched.process.poll() is None
            total = sum(idle_rss_mib(launched)) if alive else "n/a (crashed)"
            results.put("rss_after_callers", stack, total)
            results.put("procs_after_callers", stack, len(launched.tree()) if alive else total)


def relay_note(floor: Samples, ours: Samples, aws: Samples) -> str:
    """The per-invoke floor beside lambdarig-rie (the same runtime client) and aws-lambda-rie."""
    floor_us, ours_us, aws_us = floor.cpu_us()[0], ours.cpu_us()[0], aws.cpu_us()[0]
    return (
        f"per-invoke floor: {floor_us:.0f} µs of CPU per sequential invoke (lambdarig-rie: "
        f"{ours_us:.0f} µs, {AWS}: {aws_us:.0f} µs) and {floor.rate():,.0f} invokes/s "
        f"({floor.rate() / ours.rate():.2f}× {OURS_OWN.label}, {floor.rate() / aws.rate():.2f}× "
        f"{REFERENCE.label}), for {RELAY_SCRIPT.name} relaying each invoke to "
        f"{OURS_OWN.runtime}'s runtime client (asyncio and the kernel only: no validation, no "
        f"Lambda logic, no logs)"
    )


def measure_startups(
    tools: Tools, code: Path, handler: str, repeats: int, results: Results
) -> None:
    for script in (FLOOR_SCRIPT, FLOOR_WIRE, FIRST_SCRIPT):  # run with -m from there
        shutil.copyfile(script, code / script.name)
    runs: dict[Stack, list[Startup]] = {stack: [] for stack in STACKS}
    floors: dict[str, Callable[[int], list[str]]] = {
        "start-up": functools.partial(floor_argv, tools),
        "first-invoke": functools.partial(first_argv, tools, handler=handler, configured=False),
        "first-invoke (configured)": functools.partial(
            first_argv, tools, handler=handler, configured=True
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in floors}
    failed: dict[str, str] = {}  # a floor that gave no answer: why (a note, not the run's end)
    for _ in range(repeats):  # alternate the stacks (and the floors) so drift hits all equally
        for stack in STACKS:
            with launch(stack, tools, code, handler) as launched:
                runs[stack].append(wait_ready(launched))
        for name, argv_for in floors.items():
            floor = floor_startup(code, argv_for)
            if isinstance(floor, str):
                failed.setdefault(name, floor)
            else:
                times[name].append(floor)
    for stack, startups in runs.items():
        results.put("start_listen", stack, statistics.median(s.listening_ms for s in startups))
        results.put("start_invoke", stack, statistics.median(s.first_invoke_ms for s in startups))
    reference = _value(results, "start_invoke", REFERENCE)
    for name, reason in failed.items():
        results.notes.append(f"{name} floor: not measured: {reason}")
    if not reference or failed:
        return
    start, bare, read = (statistics.median(each) for each in times.values())
    results.notes.append(
        f"start-up floor: {start:.1f} ms to the first answer = {start / reference:.2f}× "
        f"{REFERENCE.label}'s first invoke, for `python -m {FLOOR_MODULE}` (imports asyncio "
        f"and echoes: no emulator code, no runtime)"
    )
    results.notes.append(
        f"first-invoke floor without asyncio: {bare:.1f} ms = {bare / reference:.2f}× "
        f"{REFERENCE.label}'s first invoke ({read:.1f} ms = {read / reference:.2f}× with "
        f"lambdarig-rie's configuration read before the spawn), for {FIRST_SCRIPT.name} "
        f"serving the first invoke of {OURS_OWN.runtime}'s runtime client before importing "
        f"asyncio (no emulator code but its spawn and configuration, no Lambda logic, no logs)"
    )


def floor_startup(code: Path, argv_for: Callable[[int], list[str]]) -> float | str:
    """Spawn -> first answer of a floor (ms), or why it gave none: its last line of output."""
    with spawn(code, argv_for) as launched:
        try:
            return wait_ready(launched).first_invoke_ms
        except InvokeFailed as exc:
            with contextlib.suppress(subprocess.TimeoutExpired):
                launched.process.wait(timeout=2)
            lines = launched.log.read_text(errors="replace").splitlines()
            return f"{exc} ({lines[-1] if lines else 'no output'})"


# -- the table ----------------------------------------------------------------------------------

MAX_LOAD = 1.0  # above this 1-minute load average at the start, no target is judged
TARGETS = {  # issue 9; "×" = ours / aws-lambda-rie + awslambdaric (with our runtime client)
    "seq_rate": "≥ 1.5× (≥ 1.2× with awslambdaric)",
    "seq_p99": "≤ 0.7×",
    "cpu_emulator": "≤ 200 µs",
    "callers_4": "≥ 2.0× AWS's sequential invokes/s",
    "start_listen": "≤ 40 ms",
    "start_invoke": "≤ 1.3×",
    "rss_emulator": "≤ 1.6×",
}
ROWS = (  # key, label, digits
    ("seq_rate", "sequential warm invokes/s", 0),
    ("seq_p50", "sequential p50 latency (ms)", 3),
    ("seq_p90", "sequential p90 latency (ms)", 3),
    ("seq_p99", "sequential p99 latency (ms)", 3),
    ("cpu_emulator", "CPU per sequential invoke: emulator (µs)", 0),
    ("cpu_runtime", "CPU per sequential invoke: runtime (µs)", 0),
    *((f"callers_{n}", f"invokes/s, {n} concurrent caller{'s' * (n > 1)}", 0) for n in CALLERS),
    ("echo_5mib", "5 MiB echo, median (ms)", 1),
    ("start_listen", "start-up: spawn → listening (ms)", 1),
    ("start_invoke", "start-up: spawn → first invoke answered (ms)", 1),
    ("rss_emulator", "idle RSS: emulator (MiB)", 1),
    ("rss_runtime", "idle RSS: runtime (MiB)", 1),
    ("rss_total", "idle RSS: one environment, total (MiB)", 1),
    ("rss_after_callers", f"idle RSS after {max(CALLERS)} callers, total (MiB)", 1),
    ("procs_after_callers", f"runtime processes after {max(CALLERS)} callers", 0),
)


def _cell(value: float | str | None, digits: int) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else f"{value:,.{digits}f}"


def _ratio(ours: float | str | None, reference: float | str | None) -> str:
    if isinstance(ours, float) and isinstance(reference, float) and reference:
        return f"{ours / reference:.2f}×"
    return "—"


def markdown(results: Results) -> list[str]:
    header = [REFERENCE.label, OURS_WITH_RIC.label, "ratio", OURS_OWN.label, "ratio", "target"]
    lines = ["| | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    for key, label, digits in ROWS:
        target = TARGETS.get(key, "")
        row = results.values.get(key, {})
        ref = row.get(REFERENCE)
        cells = [_cell(ref, digits)]
        for stack in (OURS_WITH_RIC, OURS_OWN):
            cells += [_cell(row.get(stack), digits), _ratio(row.get(stack), ref)]
        lines.append(f"| {label} | " + " | ".join([*cells, target]) + " |")
    return lines


def _value(results: Results, key: str, stack: Stack) -> float | None:
    value = results.values.get(key, {}).get(stack)
    return value if isinstance(value, float) else None


def _judge(results: Results, key: str, stack: Stack) -> tuple[float, bool] | None:
    """(the figure compared, whether it meets ``key``'s target) for ``stack``; ``None`` when a
    figure is missing (e.g. a crash)."""
    ours, ref = _value(results, key, stack), _value(results, key, REFERENCE)
    if key == "cpu_emulator":
        return None if ours is None else (ours, ours <= 200)
    if key == "start_listen":
        return None if ours is None else (ours, ours <= 40)
    if key == "callers_4":
        sequential = _value(results, "seq_rate", REFERENCE)
        if ours is None or not sequential:
            return None
        return ours / sequential, ours / sequential >= 2.0
    if ours is None or not ref:
        return None
    ratio = ours / ref
    bounds = {
        "seq_rate": (1.5 if stack == OURS_OWN else 1.2, True),
        "seq_p99": (0.7, False),
        "start_invoke": (1.3, False),
        "rss_emulator": (1.6, False),
    }
    bound, at_least = bounds[key]
    return ratio, ratio >= bound if at_least else ratio <= bound


def verdicts(results: Results, load_at_start: float) -> list[str]:
    """One line per target and stack, or why none is judged (a busy machine)."""
    if load_at_start > MAX_LOAD:
        return [
            f"targets not judged: the load average was {load_at_start:.2f} at the start "
            f"(> {MAX_LOAD:.1f}): other work competed for the CPU, so these figures are not "
            "comparable; run again on a quiet machine"
        ]
    lines = []
    for stack in (OURS_WITH_RIC, OURS_OWN):
        for key, target in TARGETS.items():
            label = next(label for row, label, _ in ROWS if row == key)
            judged = _judge(results, key, stack)
            if judged is None:
                lines.append(f"{stack.label}: {label}: no figure → target not judged")
                continue
            figure, met = judged
            lines.append(
                f"{stack.label}: {label}: {figure:,.2f} (target {target}) → "
                f"target {'met' if met else 'NOT met'}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run")
    parser.add_argument("--seconds", type=float, default=3.0, help="window per throughput figure")
    parser.add_argument("--rounds", type=int, default=3, help="sequential windows per stack")
    parser.add_argument("--repeats", type=int, default=10, help="start-ups and 5 MiB echoes")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds, args.repeats = 0.3, 1, 2
    tools = locate_tools()
    info = machine_info()
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}, "
        f"CPython {info['python']}"
    )
    load_at_start = os.getloadavg()[0]
    print(
        f"window {args.seconds:g} s per throughput figure ({args.rounds} rounds sequential), "
        f"{args.repeats} repeats per median; load average at the start: {load_at_start:.2f}"
    )
    results = Results()
    with tempfile.TemporaryDirectory(prefix="lambdarig-bench-rie-") as tmp:
        code = Path(tmp)
        print(f"function code and emulator logs: {code}")
        handler = write_handler(code)
        measure_warm(tools, code, handler, args, results)
        measure_startups(tools, code, handler, args.repeats, results)
    print()
    print("\n".join(markdown(results)))
    print()
    print("\n".join(verdicts(results, load_at_start)))
    for note in results.notes:
        print(f"note: {note}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
