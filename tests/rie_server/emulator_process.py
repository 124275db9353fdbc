"""Run the emulator as a real subprocess for a test: wait for its ready line (probe, never sleep),
always stop it (SIGTERM, then SIGKILL), and check nothing it started outlives it."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

READY = re.compile(r"^lambdarig-rie: listening on (http://\S+)$")
ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello"
OUR_RUNTIME = (sys.executable, "-m", "lambdarig.runtime_client")


class StderrReader:
    """The emulator's stderr, read line by line on demand (never blocking past a deadline)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        self.process = process
        self.stream = process.stderr
        self.lines: list[str] = []
        self._buffer = b""
        self._unseen = 0  # lines[_unseen:] were read but no wait_for has looked at them yet

    def wait_for(self, pattern: re.Pattern[str], timeout_s: float) -> re.Match[str] | None:
        """The first line from now on matching ``pattern``; ``None`` at the deadline or EOF.
        Lines read past a match (one read can bring several) are kept for the next call."""
        deadline = time.monotonic() + timeout_s
        while True:
            while self._unseen < len(self.lines):
                line = self.lines[self._unseen]
                self._unseen += 1
                match = pattern.search(line)
                if match:
                    return match
            if time.monotonic() >= deadline:
                return None
            ready, _, _ = select.select([self.stream], [], [], 0.1)
            if not ready:
                if self.process.poll() is not None:
                    return None
                continue
            chunk = os.read(self.stream.fileno(), 65536)
            if not chunk:
                return None
            *complete, self._buffer = (self._buffer + chunk).split(b"\n")
            self.lines += (raw.decode(errors="replace") for raw in complete)


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    url: str
    stdout_path: Path
    stderr: StderrReader

    @property
    def stderr_lines(self) -> list[str]:
        """Every stderr line read so far (the ready line and what came before, at least)."""
        return self.stderr.lines

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def wait_stderr(self, pattern: str, timeout_s: float = 15.0) -> str:
        """Read stderr until a line matches ``pattern`` (a regex); that line, or AssertionError."""
        match = self.stderr.wait_for(re.compile(pattern), timeout_s)
        assert match is not None, f"no stderr line matching {pattern!r}: {self.stderr.lines!r}"
        return match.string

    def descendants(self) -> set[int]:
        return descendants(self.process.pid)


NEVER = re.compile(r"(?!)")


@contextlib.contextmanager
def drained_stderr(running: Running) -> Iterator[None]:
    """Read the emulator's stderr into ``running.stderr_lines`` on a thread while the block runs
    (a long run must not fill the pipe and block the emulator); it stops when the block ends."""
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set() and running.process.poll() is None:
            running.stderr.wait_for(NEVER, 0.2)

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (
                (entry / "stat").read_text("utf-8", "surrogateescape").rpartition(")")[2].split()
            )
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text("utf-8", "surrogateescape")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_ready(reader: StderrReader, timeout_s: float) -> str:
    match = reader.wait_for(READY, timeout_s)
    if match is None:
        raise AssertionError(f"emulator never became ready; stderr: {reader.lines!r}")
    return match.group(1)


@contextlib.contextmanager
def emulator(
    argv: Sequence[str],
    tmp_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = HELLO,
    entry: Sequence[str] = (sys.executable, "-m", "lambdarig.rie_server"),
    ready_timeout_s: float = 30.0,
) -> Iterator[Running]:
    """Start ``entry argv`` and yield once it printed its ready line; always cleaned up."""
    stdout_path = tmp_path / f"emulator-{time.monotonic_ns()}.out"
    full_env = {**os.environ, **(env or {})}
    with open(stdout_path, "wb") as stdout:
        process = subprocess.Popen(
            [*entry, *argv], cwd=cwd, env=full_env, stdout=stdout, stderr=subprocess.PIPE
        )
    reader = StderrReader(process)
    seen: set[int] = set()
    try:
        url = wait_ready(reader, ready_timeout_s)
        running = Running(process, url, stdout_path, reader)
        yield running
        seen = running.descendants()
    finally:
        seen |= descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in seen) and time.monotonic() < deadline:
            time.sleep(0.05)
        leaked = [pid for pid in seen if alive(pid)]
        for pid in leaked:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        assert not leaked, f"processes outlived the emulator: {leaked}"


def run_without_docker_sdk(main_module: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``main_module``'s ``main()`` on ``argv`` in a python that cannot import docker (as on a
    machine without lambdarig[docker])."""
    hide_docker = (
        "import sys; sys.modules['docker'] = None; "
        f"from {main_module} import main; sys.exit(main())"
    )
    return subprocess.run(
        [sys.executable, "-c", hide_docker, *argv],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
