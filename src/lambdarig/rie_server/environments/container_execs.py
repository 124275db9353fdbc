"""Container mode with external extensions: one container per runtime generation, held open by
``/bin/sh`` as its PID 1, in which the extensions and then the runtime are started with
``docker exec``.

The runtime cannot be the container's PID 1 then: when PID 1 exits the kernel kills every other
process in the container, and the extensions must outlive the runtime to get ``SHUTDOWN``
(``extensions.phases.shutdown_phase``). Each exec'd process is an ``ExecProcess`` (a
``supervisor.RuntimeProcess``): its output and exit status come from its exec instance, signals
go to its own pid (through the host's ``/proc`` when the engine is local, else a ``kill`` run
inside the container), and its memory figures are the container's (the extensions' and the
runtime's together, as in an execution environment). ``ContainerSandbox.close`` removes the
container and whatever still runs in it. Sweeping and labels are ``containers``'s.

This module manages processes only: it never sees HTTP and makes no Lambda decisions.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import tarfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from lambdarig.rie_server.environments.container_process import ContainerProcess
from lambdarig.rie_server.errors import ProcessStartError

# PID 1 of a sandbox: sleeps until the container is removed (SIGTERM also ends it).
HOLD = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"]
OPT_EXTENSIONS = PurePosixPath("/opt/extensions")
_MAX_MEMBERS = 10_000  # tar entries read when listing an image's /opt/extensions
_PID_WAIT_S = 5.0
_PID_POLL_S = 0.005


class _Chunks(io.RawIOBase):
    """A file over an iterator of byte chunks (``get_archive``'s stream) for ``tarfile``."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = chunk
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size


def executables_in_archive(chunks: Iterable[bytes], valid: Callable[[str], bool]) -> list[str]:
    """The names of the executable files directly in the directory a ``get_archive`` of
    ``/opt/extensions`` holds (its entries are ``extensions/NAME``), sorted."""
    names: list[str] = []
    chunks = iter(chunks)
    with tarfile.open(fileobj=io.BufferedReader(_Chunks(chunks)), mode="r|") as archive:
        for count, member in enumerate(archive):
            if count >= _MAX_MEMBERS:
                break
            parts = PurePosixPath(member.name).parts
            executable = (member.isfile() or member.issym()) and member.mode & 0o111
            if (
                parts[:1] == (OPT_EXTENSIONS.name,)
                and len(parts) == 2
                and executable
                and valid(parts[1])
            ):
                names.append(parts[1])
    for _ in chunks:  # the rest (tar's end blocks): the engine's response is then complete
        pass
    return sorted(names)


def _namespace_pid(host_pid: int) -> int | None:
    """The pid of host process ``host_pid`` inside its own pid namespace (``NSpid``)."""
    with contextlib.suppress(OSError, ValueError):
        for line in (
            Path(f"/proc/{host_pid}/status").read_text("utf-8", "surrogateescape").splitlines()
        ):
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    return None


class ExecProcess(ContainerProcess):
    """A process ``docker exec``'d into a sandbox container; implements
    ``supervisor.RuntimeProcess``. ``wait`` does not remove the container."""

    def __init__(
        self,
        container: Any,
        api: Any,
        exec_id: str,
        on_line: Callable[[str], None],
        on_gone: Callable[[], None],
    ) -> None:
        self._api, self._exec_id = api, exec_id
        self._host_pid: int | None = None
        self._pending_signal: str | None = None  # asked for before the pid was known
        self._signal_lock = threading.Lock()
        self._stream_done = threading.Event()
        super().__init__(container, on_line, on_gone)

    def _output(self) -> Iterator[bytes]:
        try:
            # The raw socket, closed here: a stream's own close() leaves it to the collector
            # once the process ended.
            sock = self._api.exec_start(self._exec_id, socket=True)
            pid = self._started_pid()
            with self._signal_lock:
                self._host_pid = pid or None
                pending, self._pending_signal = self._pending_signal, None
            if pending is not None:
                self._send(pending)
            try:
                from docker.utils.socket import frames_iter

                for _fd, data in frames_iter(sock, False):
                    yield data
            finally:
                inner = getattr(sock, "_sock", None)
                for end in (sock, inner):
                    with contextlib.suppress(Exception):
                        if end is not None:
                            end.close()
        finally:
            self._stream_done.set()

    def _started_pid(self) -> int:
        """The exec'd process's host pid (0 if it ended first): the engine reports it a moment
        after ``exec_start`` returned."""
        give_up = time.monotonic() + _PID_WAIT_S
        while True:
            state = self._api.exec_inspect(self._exec_id)
            pid = int(state.get("Pid") or 0)
            if pid or (not state.get("Running", True) and state.get("ExitCode") is not None):
                return pid
            if time.monotonic() > give_up:
                return 0
            time.sleep(_PID_POLL_S)

    def _wait_status(self) -> int:
        self._stream_done.wait()
        code = self._api.exec_inspect(self._exec_id).get("ExitCode")
        return -1 if code is None else int(code)

    def _read_oom(self, status: int) -> None:
        """Killed by the kernel's OOM killer: SIGKILLed while the container's cgroup counts an
        ``oom_kill``."""
        events = self._cgroup / "memory.events" if self._cgroup is not None else None
        if status != 128 + 9 or events is None:
            return
        with contextlib.suppress(OSError, ValueError):
            for line in events.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "oom_kill" and int(value) > 0:
                    self._oom = True

    def _signal(self, signum: str) -> None:
        if self._exited:
            return
        with self._signal_lock:
            if self._host_pid is None:
                self._pending_signal = signum
                return
        self._send(signum)

    def _send(self, signum: str) -> None:
        pid = self._host_pid
        if pid is None:
            return
        try:
            os.kill(pid, getattr(signal, signum))
        except ProcessLookupError:
            return
        except PermissionError:  # not ours to signal from here: from inside the container
            inner = _namespace_pid(pid)
            if inner is None:
                return
            import docker

            command = ["/bin/sh", "-c", f"kill -s {signum[3:]} {inner}"]
            with contextlib.suppress(docker.errors.DockerException):
                self._container.exec_run(command, detach=True)

    def remove(self) -> None:
        """Nothing to remove: the sandbox owns the container."""
        self._on_gone()


class ContainerSandbox:
    """One held container: ``spawn`` starts a process in it (a ``supervisor.ProcessFactory``),
    ``spawn_runtime`` the image's entrypoint and command; ``close`` removes it."""

    def __init__(
        self,
        container: Any,
        api: Any,
        executables: Sequence[PurePosixPath],
        runtime_argv: Callable[[Sequence[str]], list[str]],
        on_gone: Callable[[], None],
    ) -> None:
        self._container, self._api = container, api
        self.executables = list(executables)
        self._runtime_argv = runtime_argv
        self._on_gone = on_gone
        self._closed = False

    async def spawn(
        self,
        argv: Sequence[str],
        cwd: str | None,
        env: Mapping[str, str],  # the container's own: it was started with the runtime's
        on_line: Callable[[str], None],
        memory_mb: int,  # the container's limit covers everything in it
    ) -> ExecProcess:
        try:
            created = await asyncio.to_thread(
                self._api.exec_create, self._container.id, list(argv), workdir=cwd
            )
        except Exception as exc:  # docker.errors.*: the container is gone, bad command
            raise ProcessStartError(
                f"expected to start {list(argv)!r} in the container "
                f"{str(self._container.id)[:12]}, got: {exc}"
            ) from exc
        return ExecProcess(self._container, self._api, str(created["Id"]), on_line, lambda: None)

    async def spawn_runtime(
        self,
        argv: Sequence[str],
        cwd: str | None,
        env: Mapping[str, str],
        on_line: Callable[[str], None],
        memory_mb: int,
    ) -> ExecProcess:
        """The image's ENTRYPOINT with ``argv`` (empty: the image's CMD); ``cwd`` is ignored
        (the image's WORKDIR applies)."""
        return await self.spawn(self._runtime_argv(argv), None, env, on_line, memory_mb)

    def remove(self) -> None:
        """``close`` (for ``ContainerFactory.close``)."""
        self.close()

    def close(self) -> None:
        """Remove the container and everything in it (idempotent)."""
        if self._closed:
            return
        self._closed = True
        import docker

        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            self._container.remove(force=True)
        self._on_gone()
