"""Start, watch and stop one emulator subprocess; track what the harness started for leak checks.

Process management only: this module never speaks the Invoke API beyond a readiness probe (any
HTTP answer proves the listener is up). The emulator runs in its own session (process group) so
that stopping it also stops the runtime it spawned. Its stdout (START/END/REPORT and the
function's output) is fed line by line into a :class:`~lambdarig.testing.reports.LogBook`; its
stderr is scanned for the ``listening`` line and for signs of an internal emulator error.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from lambdarig import invoke_api
from lambdarig.testing.errors import (
    EmulatorCrashed,
    EmulatorStartError,
    LeakError,
    UnsupportedEmulatorOption,
)
from lambdarig.testing.ports import listening_inodes, still_listening
from lambdarig.testing.reports import LogBook

LISTENING = re.compile(r"lambdarig-rie: listening on (?P<url>http://\S+)")
# Lines on the emulator's own stderr that mean the emulator itself failed (not the function).
EMULATOR_FAILURE = re.compile(
    r"^(Traceback \(most recent call last\)|panic:|fatal error:|lambdarig-rie: (internal )?error)"
)
UNRECOGNIZED = re.compile(
    r"unrecognized arguments|unrecognized option|flag provided but not defined"
)
PROBE_PATH = invoke_api.PATH_INVOKE.format(name="lambdarig-readiness-probe")
STOP_GRACE_S = 5.0


@dataclass
class ProcessRegistry:
    """Everything the harness started in this session, for the end-of-session leak check."""

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    # port -> the sockets listening on it once its emulator was ready (``ports.listening_inodes``)
    listeners: dict[int, set[int] | None] = field(default_factory=dict)
    container_owners: list[int] = field(default_factory=list)  # emulator pids in image mode

    def check(self) -> None:
        """Raise :class:`LeakError` listing any started process group, port or container alive."""
        problems = _containers_left(self.container_owners)
        problems += [
            f"process group {p.pid} ({_describe(p.pid)})"
            for p in self.processes
            if _group_alive(p.pid)
        ]
        problems += [
            f"port 127.0.0.1:{port} still accepts connections"
            for port in self.ports
            if still_listening(port, self.listeners.get(port))  # the emulator's own socket
        ]
        if problems:
            raise LeakError("the lambdarig harness left behind: " + "; ".join(problems))


def _containers_left(owners: list[int]) -> list[str]:
    """Containers the emulator (pids ``owners``) started in image mode that still exist."""
    if not owners:
        return []
    import docker

    from lambdarig.rie_server.environments.containers import OWNER_LABEL

    client = docker.from_env()
    try:
        return [
            f"container {container.short_id} (emulator pid {owner})"
            for owner in owners
            for container in client.containers.list(
                all=True, filters={"label": f"{OWNER_LABEL}={owner}"}
            )
        ]
    finally:
        client.close()


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``, from /proc (Linux)."""
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - non-Linux fallback
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text("utf-8", "surrogateescape")  # names: any bytes
        except OSError:
            continue  # exited while we looked
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _group_alive(pgid: int) -> bool:
    return bool(_group_members(pgid))


def _describe(pgid: int) -> str:
    return "pids " + ", ".join(str(pid) for pid in _group_members(pgid))


def free_port() -> int:
    """An ephemeral port that was free a moment ago (for emulators that cannot bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmulatorProcess:
    """One running emulator. ``start`` blocks until it is ready; ``stop`` until it is gone.

    ``argv`` is the full command. If ``url`` is ``None`` the emulator must print the
    ``lambdarig-rie: listening on URL`` line on stderr; otherwise ``url`` is where it will listen.
    """

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        registry: ProcessRegistry,
        url: str | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.registry = registry
        self.book = LogBook()
        self.url = url
        self._fixed_url = url
        self._start_timeout = start_timeout
        self._stderr: list[str] = []
        self._failures: list[str] = []
        self._ready = threading.Event()
        self._cond = threading.Condition()
        self._popen: subprocess.Popen[bytes] | None = None
        self._threads: list[threading.Thread] = []
        self._exit_reported = False

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Spawn the emulator and block until it answers HTTP (at most ``start_timeout`` s).

        Raises :class:`UnsupportedEmulatorOption` if it rejected a flag, and
        :class:`EmulatorStartError` if it exited or did not become ready in time.
        """
        self._stderr, self._failures = [], []
        self._exit_reported = False
        self._ready.clear()
        self.url = self._fixed_url
        self._popen = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.registry.processes.append(self._popen)
        self._threads = [
            threading.Thread(target=self._pump_stdout, args=(self._popen.stdout,), daemon=True),
            threading.Thread(target=self._pump_stderr, args=(self._popen.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.registry.ports.append(self.port)
        self.registry.listeners[self.port] = listening_inodes(self.port)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout
        if self._fixed_url is None:
            while not self._ready.wait(0.05):
                self._fail_if_exited("while starting")
                if time.monotonic() > deadline:
                    raise EmulatorStartError(self._timeout_message(), self.stderr_lines())
        with httpx.Client(timeout=2.0) as client:
            while True:
                self._fail_if_exited("while starting")
                try:
                    client.post(f"{self.url}{PROBE_PATH}", content=b"{}")
                    return
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise EmulatorStartError(
                            self._timeout_message(), self.stderr_lines()
                        ) from None
                    self._ready.wait(0.02)  # probe again shortly; the listener is not up yet

    def _timeout_message(self) -> str:
        return (
            f"expected the emulator to be ready within {self._start_timeout:g} s, "
            f"but it was not: {' '.join(self.argv)}"
        )

    def _fail_if_exited(self, when: str) -> None:
        popen = self._popen
        code = popen.poll() if popen is not None else None
        if popen is None or code is None:
            return
        for thread in self._threads:
            thread.join(timeout=2.0)
        lines = self.stderr_lines()
        message = f"expected the emulator to keep running, but it exited {when} with status {code}"
        if any(UNRECOGNIZED.search(line) for line in lines):
            raise UnsupportedEmulatorOption(
                message + "; it rejected a command-line flag (this emulator does not support "
                "an option you passed, e.g. layers= or image=)",
                lines,
            )
        raise EmulatorStartError(message, lines)

    def stop(self) -> None:
        """SIGTERM the emulator's process group, SIGKILL it after 5 s, reap it. Idempotent."""
        popen = self._popen
        if popen is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(popen.pid, sig)
            except ProcessLookupError:
                break  # the whole group is gone already
            try:
                popen.wait(timeout=STOP_GRACE_S)
                if not _group_alive(popen.pid):
                    break
            except subprocess.TimeoutExpired:
                continue  # escalate to SIGKILL
        popen.wait()
        for thread in self._threads:
            thread.join(timeout=5.0)
        for stream in (popen.stdout, popen.stderr):
            if stream is not None:
                stream.close()
        self._popen = None

    # --- state -----------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self.url is None:
            raise EmulatorStartError("the emulator has not reported its address yet")
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def is_alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def stderr_lines(self) -> list[str]:
        with self._cond:
            return list(self._stderr)

    def reset(self) -> None:
        """Forget collected output and recorded failures (cheap, per test)."""
        self.book.clear()
        with self._cond:
            self._failures.clear()

    def check(self, settle: float = 0.0) -> None:
        """Raise :class:`EmulatorCrashed` if the emulator died or logged a failure since reset.

        ``settle``: after a connection failure, wait up to this long for a dying emulator to exit
        so that the crash, not the broken connection, is what gets reported.
        """
        if settle and self._popen is not None:
            try:
                self._popen.wait(timeout=settle)
            except subprocess.TimeoutExpired:
                pass  # still running: the connection failure was not a crash
        if self._popen is not None and self._popen.poll() is not None and not self._exit_reported:
            self._exit_reported = True  # report a crash once, in the test that caused it
            code = self._popen.returncode
            for thread in self._threads:
                thread.join(timeout=2.0)
            raise EmulatorCrashed(
                f"expected the emulator to keep running, but it exited with status {code}",
                self.stderr_lines(),
            )
        self._drain_stderr()
        with self._cond:
            failures, self._failures = list(self._failures), []
        if failures:
            raise EmulatorCrashed(
                f"the emulator reported an internal error: {failures[0]}", self.stderr_lines()
            )

    # --- pumps -----------------------------------------------------------------------------------
    def _pump_stdout(self, stream: IO[bytes] | None) -> None:
        assert stream is not None
        for raw in stream:
            self.book.feed(_decode(raw))

    def _pump_stderr(self, stream: IO[bytes] | None) -> None:
        """Read stderr under ``_cond`` so :meth:`_drain_stderr` can tell when all is processed."""
        assert stream is not None
        fd, pending = stream.fileno(), b""
        while True:
            select.select([fd], [], [])
            with self._cond:
                chunk = os.read(fd, 65536)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                if not chunk and pending:
                    lines, pending = [*lines, pending], b""
                for raw in lines:
                    self._on_stderr_line(_decode(raw))
                self._cond.notify_all()
            if not chunk:
                return

    def _on_stderr_line(self, line: str) -> None:
        self._stderr.append(line)
        if len(self._stderr) > 2000:
            del self._stderr[:1000]
        if EMULATOR_FAILURE.match(line):
            self._failures.append(line)
        match = LISTENING.search(line)
        if match and not self._ready.is_set():
            self.url = match.group("url").rstrip("/")
            self._ready.set()

    def _drain_stderr(self, timeout: float = 1.0) -> None:
        """Block (up to ``timeout`` s) until everything already written to stderr is processed."""
        popen = self._popen
        if popen is None or popen.stderr is None or popen.stderr.closed:
            return
        deadline = time.monotonic() + timeout
        with self._cond:
            while time.monotonic() < deadline:
                readable, _, _ = select.select([popen.stderr.fileno()], [], [], 0)
                if not readable:
                    return
                self._cond.wait(0.05)


def _decode(raw: bytes) -> str:
    # Split on b"\n" only: awslambdaric joins traceback lines with "\r" to keep one log event.
    return raw.rstrip(b"\n").decode("utf-8", errors="replace")
