"""Starting a runtime process, without asyncio: the emulator's command line spawns its first
runtime before it loads the event loop (``fast_start``), and ``supervisor`` starts every later one
the same way, then watches it on the loop (``supervisor.adopt``).

Each runtime leads its own process group (signals reach the whole tree), stays in the emulator's
session, and on Linux asks the kernel for SIGKILL when the emulator's thread dies
(``PR_SET_PDEATHSIG``); see ``supervisor`` for why. Its stdout and stderr are two pipes whose read
ends the caller owns.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Callable

from lambdarig.rie_server.environments.memory import CgroupLimit
from lambdarig.rie_server.errors import ProcessStartError

_PR_SET_PDEATHSIG = 1
_serial = itertools.count()  # names this emulator's cgroups


class StartedProcess:
    """A runtime just started: not yet watched by any event loop. ``stdout_fd``/``stderr_fd``
    are the read ends of its output pipes, owned by whoever adopts the process; ``started`` is
    ``time.monotonic()`` just before the spawn."""

    __slots__ = (
        "popen",
        "stdout_fd",
        "stderr_fd",
        "cgroup",
        "started",
        "argv",
        "cwd",
        "env",
        "memory_mb",
    )

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        stdout_fd: int,
        stderr_fd: int,
        cgroup: CgroupLimit | None,
        started: float,
        argv: tuple[str, ...],
        cwd: str | None,
        env: dict[str, str],
        memory_mb: int,
    ) -> None:
        self.popen = popen
        self.stdout_fd = stdout_fd
        self.stderr_fd = stderr_fd
        self.cgroup = cgroup
        self.started = started
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.memory_mb = memory_mb

    def matches(
        self, argv: Sequence[str], cwd: str | None, env: Mapping[str, str], memory_mb: int
    ) -> bool:
        """Whether this is the process ``start_process`` would start with these arguments."""
        return (self.argv, self.cwd, self.env, self.memory_mb) == (
            tuple(argv),
            cwd,
            dict(env),
            memory_mb,
        )

    def discard(self) -> None:
        """Kill the process group, reap it, close the pipes and remove the cgroup."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        for fd in (self.stdout_fd, self.stderr_fd):
            os.close(fd)
        if self.cgroup is not None:
            self.cgroup.remove()


_prctl: Callable[..., None] | None = None  # libc's prctl, looked up once (_load_prctl)


def _load_prctl() -> Callable[..., None]:
    """libc's ``prctl``, as ``ctypes.CDLL(None, use_errno=True).prctl`` finds it but through
    ``_ctypes`` alone: ``import ctypes`` (with ``struct``) costs ~1.3 ms more before the first
    runtime is spawned. Looked up in the parent, before the fork (``start_process``)."""
    global _prctl
    if _prctl is None:
        import _ctypes

        class _Prctl(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
            _restype_ = None  # the result is not read

        program = _ctypes.dlopen(None, _ctypes.RTLD_LOCAL)  # type: ignore[arg-type]  # as CDLL
        _prctl = _Prctl(_ctypes.dlsym(program, "prctl"))
    return _prctl


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGKILL me when my parent thread dies."""
    if sys.platform.startswith("linux"):
        _load_prctl()(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # loaded by the parent


def _child_setup(limit: CgroupLimit | None) -> Callable[[], None]:
    """The pre-exec hook: lead a new process group, die with the parent, join the memory cgroup
    if there is one."""

    def setup() -> None:
        os.setpgid(0, 0)
        _die_with_parent()
        if limit is not None:
            # Nothing can be reported from here; the parent checks with ``limit.holds`` and
            # falls back to sampling when the join did not happen.
            with contextlib.suppress(OSError):
                limit.join()

    return setup


def start_process(
    argv: Sequence[str], cwd: str | None, env: Mapping[str, str], memory_mb: int
) -> StartedProcess:
    """Start ``argv`` in a new process group with piped stdout/stderr, in a memory cgroup where the
    host allows one (``memory.CgroupLimit``); raises ``ProcessStartError``."""
    if sys.platform.startswith("linux"):
        _load_prctl()  # here, before the fork: see _die_with_parent
    started = time.monotonic()
    cgroup = CgroupLimit.create(f"lambdarig-{os.getpid()}-{next(_serial)}", memory_mb)
    (out_read, out_write), (err_read, err_write) = os.pipe(), os.pipe()
    try:
        popen = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out_write,
            stderr=err_write,
            preexec_fn=_child_setup(cgroup),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        for fd in (out_read, err_read):
            os.close(fd)
        if cgroup is not None:
            cgroup.remove()
        raise ProcessStartError(
            f"expected an executable bootstrap {list(argv)!r} (cwd {cwd!r}), got: {exc}"
        ) from exc
    finally:
        os.close(out_write)
        os.close(err_write)
    if cgroup is not None and not cgroup.holds(popen.pid):
        cgroup.remove()
        cgroup = None
    return StartedProcess(
        popen, out_read, err_read, cgroup, started, tuple(argv), cwd, dict(env), memory_mb
    )


class PrestartedRuntime:
    """An environment's Runtime API socket (bound, listening) and the runtime started against it
    before the event loop ran (``None`` if that start failed: the environment retries and reports
    the failure itself)."""

    __slots__ = ("sock", "process")

    def __init__(self, sock: socket.socket, process: StartedProcess | None) -> None:
        self.sock = sock
        self.process = process

    def discard(self) -> None:
        """Unused after all: kill the process and close the socket."""
        if self.process is not None:
            self.process.discard()
        self.sock.close()
