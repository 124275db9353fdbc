"""A runtime running as PID 1 of a container (``ContainerProcess``): its output pumped line by
line, its memory sampled from its cgroup, its exit and out-of-memory kill read back from the
engine, its removal once reaped.

This module manages processes only: it never sees HTTP and makes no Lambda decisions.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

_MIB = 1024 * 1024
_SAMPLE_INTERVAL_S = 0.1
# A container's output reaches us through the engine, a few ms after the runtime wrote it: after a
# response, wait until no line came for OUTPUT_QUIET_S (at most OUTPUT_SETTLE_LIMIT_S).
OUTPUT_QUIET_S = 0.015
OUTPUT_SETTLE_LIMIT_S = 0.1
_CGROUP_DIRS = (
    "/sys/fs/cgroup/memory/docker/{id}",  # cgroup v1, cgroupfs driver
    "/sys/fs/cgroup/memory/system.slice/docker-{id}.scope",  # cgroup v1, systemd driver
    "/sys/fs/cgroup/system.slice/docker-{id}.scope",  # cgroup v2, systemd driver
    "/sys/fs/cgroup/docker/{id}",  # cgroup v2, cgroupfs driver
)
_USAGE_FILES = ("memory.usage_in_bytes", "memory.current")
_PEAK_FILES = ("memory.max_usage_in_bytes", "memory.peak")


def _read_int(directory: Path, names: Sequence[str]) -> int | None:
    for name in names:
        with contextlib.suppress(OSError, ValueError):
            return int((directory / name).read_text().strip())
    return None


def _returncode(status: int) -> int:
    """A container's exit status as a subprocess return code: 128+N (killed by N) -> -N."""
    return -(status - 128) if 128 < status <= 128 + 64 else status


class ContainerProcess:
    """A runtime running as PID 1 of a container; implements ``supervisor.RuntimeProcess``."""

    pid: Optional[int] = None  # noqa: UP045 (matches the Protocol; no host pid for a container)

    def __init__(self, container: Any, on_line: Callable[[str], None], on_gone: Callable[[], None]):
        self._container = container
        self._on_line = on_line
        self._on_gone = on_gone
        self._loop = asyncio.get_running_loop()
        self._cgroup = next(
            (
                Path(d.format(id=container.id))
                for d in _CGROUP_DIRS
                if Path(d.format(id=container.id)).is_dir()
            ),
            None,
        )
        self._peak_bytes = 0
        self._oom = False
        self._exited = False
        self._last_line = self._loop.time()
        self._partial = b""  # output after the last newline; the pump thread and flush share it
        self._partial_lock = threading.Lock()
        self._pump = threading.Thread(target=self._pump_logs, daemon=True)
        self._pump.start()
        # Daemon threads, not the loop's executor: an interrupted emulator must be able to exit
        # while a container is still running (atexit's close() removes it).
        self._exit_status: asyncio.Future[int] = self._loop.create_future()
        threading.Thread(target=self._watch_exit, daemon=True).start()
        self._sampler = asyncio.ensure_future(self._sample_loop())

    @property
    def container_id(self) -> str:
        return str(self._container.id)

    @property
    def out_of_memory(self) -> bool:
        """True once the engine reported the container OOM-killed (known after ``wait``)."""
        return self._oom

    def _output(self) -> Iterator[bytes]:
        """The process's output as it comes (stdout and stderr; ends when it exits)."""
        stream: Iterator[bytes] = self._container.logs(stream=True, follow=True)
        return stream

    def _pump_logs(self) -> None:
        with contextlib.suppress(Exception):  # the stream ends with an error when removed early
            for chunk in self._output():
                with self._partial_lock:  # emitted in order with what flush_output takes
                    *lines, self._partial = (self._partial + chunk).split(b"\n")
                    for line in lines:
                        self._emit(line)
        self._emit_partial()

    def _emit_partial(self) -> None:
        with self._partial_lock:
            partial, self._partial = self._partial, b""
            if partial:
                self._emit(partial)

    def _emit(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").rstrip("\r")
        with contextlib.suppress(RuntimeError):  # loop closed: nobody is listening any more
            self._loop.call_soon_threadsafe(self._deliver, text)

    def _deliver(self, text: str) -> None:
        self._last_line = self._loop.time()
        self._on_line(text)

    async def output_settled(
        self, quiet_s: float = OUTPUT_QUIET_S, limit_s: float = OUTPUT_SETTLE_LIMIT_S
    ) -> None:
        """Return once no output line arrived for ``quiet_s`` (counted from this call at the
        earliest), or after ``limit_s``, or at exit. Call it when the runtime has answered an
        invoke, before logging END: what it printed before answering is then delivered."""
        start = self._loop.time()
        give_up = start + limit_s
        while not self._exited:
            now = self._loop.time()
            target = min(max(start, self._last_line) + quiet_s, give_up)
            if now >= target:
                return
            await asyncio.sleep(target - now)

    async def flush_output(self) -> None:
        """Wait until the output settled (``output_settled``), then deliver the partial last
        line; returns once it was delivered (lines go through the loop, in order)."""
        await self.output_settled()
        self._emit_partial()
        delivered = self._loop.create_future()
        self._loop.call_soon(delivered.set_result, None)  # after the lines scheduled before it
        await delivered

    def _sample(self) -> int:
        if self._cgroup is None:
            return 0
        usage = _read_int(self._cgroup, _USAGE_FILES) or 0
        peak = _read_int(self._cgroup, _PEAK_FILES) or usage
        self._peak_bytes = max(self._peak_bytes, peak, usage)
        return usage

    async def _sample_loop(self) -> None:
        while not self._exited:
            self._sample()
            await asyncio.sleep(_SAMPLE_INTERVAL_S)

    def _wait_status(self) -> int:
        """Block until the process exits; its exit status."""
        return int(self._container.wait().get("StatusCode", -1))

    def _watch_exit(self) -> None:
        try:
            status = self._wait_status()
        except Exception:  # docker.errors.*: removed under us (close()); no status to report
            status = -1
        with contextlib.suppress(RuntimeError):  # loop closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._set_exit_status, status)

    def _set_exit_status(self, status: int) -> None:
        if not self._exit_status.done():
            self._exit_status.set_result(status)

    async def wait(self) -> int:
        """Block until the container exits and its output is drained; then remove it."""
        status = await asyncio.shield(self._exit_status)
        self._exited = True
        self._sampler.cancel()
        await asyncio.to_thread(self._pump.join, 2.0)
        with contextlib.suppress(Exception):  # already removed by close(): no OOM flag to read
            await asyncio.to_thread(self._read_oom, status)
        self.remove()
        return _returncode(status)

    def _read_oom(self, status: int) -> None:
        self._container.reload()
        self._oom = bool(self._container.attrs["State"].get("OOMKilled", False))
        if self._oom:
            # The kernel killed it on reaching the limit; the cgroup (and its peak counter)
            # is gone with the container, and sampling can miss a fast climb.
            limit = int(self._container.attrs["HostConfig"].get("Memory") or 0)
            self._peak_bytes = max(self._peak_bytes, limit)

    def _signal(self, signum: str) -> None:
        if self._exited:
            return
        import docker

        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            self._container.kill(signal=signum)

    def terminate(self) -> None:
        """SIGTERM to the container's PID 1 (the runtime)."""
        self._signal("SIGTERM")

    def kill(self) -> None:
        """SIGKILL: the whole container (every process in it) dies."""
        self._signal("SIGKILL")

    def memory_used_mb(self) -> int:
        """Current memory of the container's cgroup, MiB (0 once gone or unreadable)."""
        return 0 if self._exited else -(-self._sample() // _MIB)

    def peak_memory_mb(self) -> int:
        """Largest cgroup memory use seen, MiB."""
        if not self._exited:
            self._sample()
        return -(-self._peak_bytes // _MIB)

    def remove(self) -> None:
        """Force-remove the container (idempotent)."""
        import docker

        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            self._container.remove(force=True)
        self._on_gone()
