"""The process seam: start a runtime in its own process group, carry its output, signal, reap.

``ProcessFactory`` is what ``Environment`` calls to get a ``RuntimeProcess``; ``spawn_local`` is the
local implementation (container mode plugs in another factory): ``spawn.start_process`` starts
the process, ``adopt`` watches it on the event loop (also one started before the loop existed).
This module never sees HTTP and makes no Lambda decisions.

Children die with the emulator: each runtime leads its own process group (signals reach the whole
tree), and on Linux the direct child asks the kernel for SIGKILL when its parent thread dies
(``PR_SET_PDEATHSIG``), so a SIGKILLed emulator leaves no runtime behind. Grandchildren that the
runtime spawned are reached through the group by ``terminate``/``kill``, not by the death signal.

The runtime stays in the emulator's session, as aws-lambda-rie's does (``setpgid``, not
``setsid``): with scheduler autogroups (Linux's default) a new session is a new scheduling group,
and an emulator and runtime that wake each other in turn then wait for the CPU about 5 times
longer per wake-up on a busy host (measured: 4-5x more warm invokes slower than 2 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Mapping, Sequence
from typing import Callable, Optional, Protocol

from lambdarig.rie_server.environments.memory import CgroupLimit, MemoryWatch, to_mb
from lambdarig.rie_server.environments.spawn import StartedProcess, start_process

_MAX_LINE = 256 * 1024  # a longer line without a newline is delivered in pieces
_log = logging.getLogger(__name__)


class RuntimeProcess(Protocol):
    """A started runtime. ``pid`` is ``None`` when there is no host pid (containers)."""

    pid: Optional[int]  # noqa: UP045 (Protocol attributes are evaluated on 3.9)

    async def wait(self) -> int:
        """Block until the runtime exited and its output is drained; the return code
        (negative = killed by that signal)."""
        ...

    def terminate(self) -> None:
        """SIGTERM to the whole process group (no-op once exited)."""
        ...

    def kill(self) -> None:
        """SIGKILL to the whole process group (no-op once exited)."""
        ...

    def memory_used_mb(self) -> int:
        """Current resident memory of the process tree, MiB."""
        ...

    def peak_memory_mb(self) -> int:
        """Largest memory use of the tree seen since start, MiB."""
        ...

    @property
    def out_of_memory(self) -> bool:
        """True once the tree was killed for passing its memory limit."""
        ...

    async def flush_output(self) -> None:
        """Return once everything the runtime wrote so far was handed on, a partial last line
        (no newline yet, e.g. ``logging.exception``'s traceback through the runtime clients' log
        sink) as a line of its own. Called when an invocation or the init ends, before the
        platform line that closes it, so that the line stays inside its own START / END block."""
        ...


ProcessFactory = Callable[
    [Sequence[str], Optional[str], Mapping[str, str], Callable[[str], None], int],
    Awaitable[RuntimeProcess],
]


class _Output:
    """The runtime's stdout/stderr cut into lines as the bytes arrive, delivered from the pipe's
    own read callback (``_Pipe``: no task, no ``call_soon``, unlike asyncio's subprocess pipes):
    output the runtime wrote before a post is therefore handed on before the invocation that post
    finishes wakes up (Tail holds it). Also told when the process exits."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        loop = asyncio.get_running_loop()
        self._on_line = on_line
        self._consumer_failed = False
        self._pending: dict[int, bytes] = {1: b"", 2: b""}
        self.pid: int | None = None
        self.exited: asyncio.Future[None] = loop.create_future()
        self.drained: asyncio.Future[None] = loop.create_future()  # stdout and stderr closed

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        pending = self._pending.get(fd, b"") + data
        *lines, pending = pending.split(b"\n")
        for line in lines:
            self._deliver(line.decode("utf-8", "replace").rstrip("\r"))
        while len(pending) >= _MAX_LINE:
            self._deliver(pending[:_MAX_LINE].decode("utf-8", "replace"))
            pending = pending[_MAX_LINE:]
        self._pending[fd] = pending

    def flush_partial_lines(self) -> None:
        """Deliver what each pipe holds after its last newline, as a line of its own."""
        for fd, pending in self._pending.items():
            if pending:
                self._pending[fd] = b""
                self._deliver(pending.decode("utf-8", "replace").rstrip("\r"))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        pending = self._pending.pop(fd, b"")
        if pending:
            self._deliver(pending.decode("utf-8", "replace").rstrip("\r"))
        if not self._pending and not self.drained.done():
            self.drained.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def _deliver(self, line: str) -> None:
        # A failing consumer must not stop the reading: the runtime would block on a full pipe.
        try:
            self._on_line(line)
        except Exception:
            if not self._consumer_failed:  # once per process: a broken consumer fails every line
                self._consumer_failed = True
                _log.exception("output consumer failed on a line of runtime %s", self.pid)


class _Pipe(asyncio.Protocol):
    """One of the runtime's output pipes, read by the loop straight into ``_Output``."""

    def __init__(self, output: _Output, fd: int) -> None:
        self._output = output
        self._fd = fd

    def data_received(self, data: bytes) -> None:
        self._output.pipe_data_received(self._fd, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._output.pipe_connection_lost(self._fd, exc)


class _ExitWatch:
    """Reaps one child process and tells ``on_exit``: the loop reads the process's pidfd (Linux
    5.3+), else a thread waits for it. No ``asyncio`` child watcher: the process may have been
    started before the loop existed (``spawn.start_process``)."""

    def __init__(self, popen: StartedProcess, on_exit: Callable[[], None]) -> None:
        self._popen = popen.popen
        self.pid = popen.popen.pid
        self._on_exit = on_exit
        self._loop = asyncio.get_running_loop()
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(self.pid)
            self._loop.add_reader(self._pidfd, self._reap)
        except (AttributeError, OSError, NotImplementedError):  # no pidfd here: a thread waits
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
            threading.Thread(target=self._wait, name=f"reap-{self.pid}", daemon=True).start()

    @property
    def returncode(self) -> int | None:
        """The exit status once reaped (negative = killed by that signal)."""
        return self._popen.returncode

    def _reap(self) -> None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: the status is lost (asyncio says 255 too)
            pid, status = self.pid, 255 << 8
        if pid:
            self._exited(os.waitstatus_to_exitcode(status))

    def _wait(self) -> None:
        try:
            code = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        except ChildProcessError:
            code = 255
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            self._loop.call_soon_threadsafe(self._exited, code)

    def _exited(self, code: int) -> None:
        if self._popen.returncode is not None:
            return
        self._popen.returncode = code
        self.close()
        self._on_exit()

    def close(self) -> None:
        """Stop watching (the process is not touched)."""
        pidfd, self._pidfd = self._pidfd, None
        if pidfd is not None:
            self._loop.remove_reader(pidfd)
            os.close(pidfd)


class LocalProcess:
    """A runtime subprocess leading its own process group, with a memory watch."""

    def __init__(
        self,
        watch: _ExitWatch,
        output: _Output,
        pipes: list[asyncio.BaseTransport],
        memory_mb: int,
        cgroup: CgroupLimit | None = None,
    ) -> None:
        self._exit = watch
        self._output = output
        self._pipes = pipes
        self._cgroup = cgroup
        pid = watch.pid
        self.pid: int | None = pid
        output.pid = pid
        self._finished: asyncio.Future[int] | None = None
        self._watch = MemoryWatch(pid, memory_mb, self._on_memory_exceeded)
        self._watch.sample()
        self._watcher = asyncio.ensure_future(self._watch.run())

    @property
    def out_of_memory(self) -> bool:
        """True once the tree was killed for its memory (by the watch or the kernel)."""
        return self._watch.exceeded or (self._cgroup is not None and self._cgroup.oom_killed())

    def _on_memory_exceeded(self) -> None:
        self.kill()

    @property
    def _returncode(self) -> int | None:
        return self._exit.returncode

    async def wait(self) -> int:
        """Wait for exit, then for the output to drain (bounded: grandchildren may hold pipes)."""
        if self._finished is None:
            self._finished = asyncio.ensure_future(self._finish())
        return await asyncio.shield(self._finished)

    async def _finish(self) -> int:
        await self._output.exited
        self._watcher.cancel()
        self._watch.close()
        await asyncio.wait({self._output.drained}, timeout=1.0)
        for pipe in self._pipes:  # also when a grandchild still holds them open
            pipe.close()
        self._exit.close()
        if self._cgroup is not None:
            self._cgroup.remove()
        code = self._returncode
        assert code is not None
        return code

    async def flush_output(self) -> None:
        """Deliver the partial last lines now (the pipes' reads already delivered the rest: the
        loop reads them as they arrive)."""
        self._output.flush_partial_lines()

    def _signal_group(self, signum: int) -> None:
        pid = self._exit.pid
        if self._returncode is not None and not _group_alive(pid):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signum)

    def terminate(self) -> None:
        """SIGTERM to the process group."""
        self._signal_group(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to the process group."""
        self._signal_group(signal.SIGKILL)

    def memory_used_mb(self) -> int:
        """Current RSS of the tree, MiB (0 once gone)."""
        return to_mb(self._watch.quick_rss_bytes()) if self._returncode is None else 0

    def peak_memory_mb(self) -> int:
        """Peak usage of the tree seen since start, MiB (cheap: re-reads the known processes)."""
        peak = self._watch.quick_peak_mb()
        return max(peak, to_mb(self._cgroup.peak_bytes())) if self._cgroup is not None else peak


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


async def spawn_local(
    argv: Sequence[str],
    cwd: str | None,
    env: Mapping[str, str],
    on_line: Callable[[str], None],
    memory_mb: int,
) -> RuntimeProcess:
    """Start ``argv`` in a new process group with piped stdout/stderr, in a memory cgroup where the
    host allows one (``memory.CgroupLimit``); raises ``ProcessStartError``."""
    return await adopt(start_process(argv, cwd, env, memory_mb), on_line)


async def adopt(started: StartedProcess, on_line: Callable[[str], None]) -> LocalProcess:
    """Watch a process ``spawn.start_process`` started (maybe before this loop ran): its output
    lines go to ``on_line``, its exit is reaped, its memory watched."""
    loop = asyncio.get_running_loop()
    output = _Output(on_line)
    pipes: list[asyncio.BaseTransport] = []
    for fd, read_end in ((1, started.stdout_fd), (2, started.stderr_fd)):
        file = os.fdopen(read_end, "rb", buffering=0)
        pipe, _ = await loop.connect_read_pipe(functools.partial(_Pipe, output, fd), file)
        pipes.append(pipe)
    watch = _ExitWatch(started, output.process_exited)
    return LocalProcess(watch, output, pipes, started.memory_mb, started.cgroup)
