"""Container mode: a ``ProcessFactory`` that runs each execution environment as a container.

``ContainerFactory(image)`` is a ``supervisor.ProcessFactory``: the emulator calls it like
``spawn_local`` and gets a ``RuntimeProcess`` backed by a container (docker SDK). The container uses
the host's network namespace, so its runtime reaches the environment's Runtime API at the same
``127.0.0.1:PORT`` that ``AWS_LAMBDA_RUNTIME_API`` names (Linux engines). ``memory_mb`` becomes the
container's memory limit (no swap); the kernel's out-of-memory kill is read back from the engine
(``State.OOMKilled``) and reported through ``out_of_memory``. An optional ``opt_dir`` (see
``rie_server.layers.prepare_opt``) is mounted read-only at ``/opt``, with ``/opt/bin`` and
``/opt/lib`` appended to the image's ``PATH`` and ``LD_LIBRARY_PATH`` as the service does.

The runtime is the container's PID 1, unless ``/opt/extensions`` (the image's, or the layers'
mounted there) holds external extensions: then ``open_sandbox`` starts a container held by
``/bin/sh`` and the environment starts the extensions and the runtime in it
(``container_execs``).

Containers carry the labels ``lambdarig.emulator=1`` and ``lambdarig.owner=<emulator pid>``. They
are removed when their runtime is reaped (``wait``), by ``close()`` (also registered with
``atexit``, so Ctrl-C and normal exits clean up), and by the sweep every new factory runs:
containers left by an emulator that no longer exists (e.g. SIGKILLed) are removed then.

This module manages processes only: it never sees HTTP and makes no Lambda decisions.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Optional

from lambdarig.rie_server.environments.layers import opt_search_paths
from lambdarig.rie_server.errors import ProcessStartError

if TYPE_CHECKING:
    from lambdarig.rie_server.environments.container_execs import ContainerSandbox

LABEL = "lambdarig.emulator"
OWNER_LABEL = "lambdarig.owner"
# Host-side values that would break the image's own settings; the image keeps its own (a Lambda
# image sets LAMBDA_TASK_ROOT=/var/task and LAMBDA_RUNTIME_DIR itself).
HOST_ONLY_ENV = frozenset(
    {
        "PATH",
        "PYTHONPATH",
        "LD_LIBRARY_PATH",
        "HOME",
        "PWD",
        "VIRTUAL_ENV",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
# The PATH a container gets when its image sets none (the engine's default).
DOCKER_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
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


def _image_env(image: Any) -> dict[str, str]:
    """An image's ``ENV`` (``Config.Env``, ``NAME=value`` strings) as a mapping."""
    pairs = (image.attrs.get("Config") or {}).get("Env") or []
    return {name: value for name, sep, value in (p.partition("=") for p in pairs) if sep}


def _returncode(status: int) -> int:
    """A container's exit status as a subprocess return code: 128+N (killed by N) -> -N."""
    return -(status - 128) if 128 < status <= 128 + 64 else status


def _owner_alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


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


class ContainerFactory:
    """``ProcessFactory`` running each environment as a container of ``image``.

    ``argv`` given by the environment is the container's command (arguments to the image's
    ENTRYPOINT, e.g. the handler); empty means the image's CMD. ``cwd`` is ignored (the image's
    WORKDIR applies). Host-only variables (``HOST_ONLY_ENV``) are not passed into the container.
    """

    def __init__(
        self,
        image: str,
        *,
        client: Any | None = None,
        opt_dir: Path | None = None,
        extra_volumes: Mapping[str, str] | None = None,
    ) -> None:
        try:
            import docker
        except ImportError as exc:
            raise ProcessStartError(
                f"expected the docker SDK to run containers of {image!r} "
                "(pip install 'lambdarig[docker]'), it is not installed"
            ) from exc

        self._owns_client = client is None
        try:
            self._client = client if client is not None else docker.from_env()
            image_env = _image_env(self._client.images.get(image))
        except docker.errors.ImageNotFound as exc:
            raise ProcessStartError(
                f"expected the image {image!r} in the local engine, it has none (build it with "
                "lambdarig image build, or docker pull it)"
            ) from exc
        except docker.errors.DockerException as exc:
            raise ProcessStartError(f"expected a reachable Docker engine, got: {exc}") from exc
        self.image = image
        config = self._client.images.get(image).attrs.get("Config") or {}
        self._entrypoint: list[str] = list(config.get("Entrypoint") or [])
        self._cmd: list[str] = list(config.get("Cmd") or [])
        self._opt_dir = opt_dir
        self._extensions: list[PurePosixPath] | None = None  # found at the first sandbox
        self._volumes = {
            host: {"bind": inside, "mode": "ro"} for host, inside in (extra_volumes or {}).items()
        }
        # With layers, /opt/bin and /opt/lib join the image's own PATH and LD_LIBRARY_PATH, as
        # in the service and in process mode (the host's values never enter: HOST_ONLY_ENV).
        self._opt_env: dict[str, str] = {}
        if opt_dir is not None:
            self._volumes[str(opt_dir.resolve())] = {"bind": "/opt", "mode": "ro"}
            self._opt_env = opt_search_paths("/opt", {"PATH": DOCKER_DEFAULT_PATH, **image_env})
        self._live: dict[str, ContainerProcess | ContainerSandbox] = {}
        sweep(self._client)
        atexit.register(self.close)

    async def __call__(
        self,
        argv: Sequence[str],
        cwd: str | None,
        env: Mapping[str, str],
        on_line: Callable[[str], None],
        memory_mb: int,
    ) -> ContainerProcess:
        try:
            container = await asyncio.to_thread(
                self._client.containers.run,
                self.image,
                command=list(argv) or None,
                **self._run_options(env, memory_mb),
            )
        except Exception as exc:  # docker.errors.*: bad image command, engine refusal
            raise ProcessStartError(
                f"expected to start a container of {self.image} with command {list(argv)!r}, "
                f"got: {exc}"
            ) from exc
        container_id = str(container.id)
        process = ContainerProcess(container, on_line, lambda: self._forget(container_id))
        self._live[container_id] = process
        return process

    def _run_options(self, env: Mapping[str, str], memory_mb: int) -> dict[str, Any]:
        environment = {k: v for k, v in env.items() if k not in HOST_ONLY_ENV}
        environment.update(self._opt_env)
        return {
            "environment": environment,
            "labels": {LABEL: "1", OWNER_LABEL: str(os.getpid())},
            "network_mode": "host",
            "mem_limit": f"{memory_mb}m",
            "memswap_limit": f"{memory_mb}m",
            "volumes": self._volumes,
            "detach": True,
        }

    async def open_sandbox(self, env: Mapping[str, str], memory_mb: int) -> ContainerSandbox | None:
        """With external extensions in the image's ``/opt/extensions`` (or the layers' mounted
        there), a held container for one generation's extensions and runtime
        (``container_execs``); ``None`` without any (the runtime is then the container's PID 1,
        started by ``__call__``). Raises ``ProcessStartError``."""
        from lambdarig.rie_server.environments.container_execs import HOLD, ContainerSandbox

        if self._extensions is None:
            try:
                self._extensions = await asyncio.to_thread(self._find_extensions)
            except Exception as exc:  # docker.errors.*, tarfile.TarError
                raise ProcessStartError(
                    f"expected to list /opt/extensions of {self.image}, got: {exc}"
                ) from exc
        if not self._extensions:
            return None
        try:
            container = await asyncio.to_thread(
                self._client.containers.run,
                self.image,
                entrypoint=HOLD,
                **self._run_options(env, memory_mb),
            )
        except Exception as exc:  # docker.errors.*: no /bin/sh in the image, engine refusal
            raise ProcessStartError(
                f"expected to start a container of {self.image} held by /bin/sh to run its "
                f"extensions in, got: {exc}"
            ) from exc
        container_id = str(container.id)
        sandbox = ContainerSandbox(
            container,
            self._client.api,
            self._extensions,
            self._runtime_argv,
            lambda: self._forget(container_id),
        )
        self._live[container_id] = sandbox
        return sandbox

    def _runtime_argv(self, argv: Sequence[str]) -> list[str]:
        return self._entrypoint + (list(argv) or self._cmd)

    def _find_extensions(self) -> list[PurePosixPath]:
        """The executables in ``/opt/extensions``: of the layers when they are mounted there,
        else of the image (read from a container created, never started, then removed)."""
        import docker

        from lambdarig import extensions_api as ext
        from lambdarig.rie_server.environments.container_execs import (
            OPT_EXTENSIONS,
            executables_in_archive,
        )
        from lambdarig.rie_server.extensions import host, protocol

        if self._opt_dir is not None:
            found = host.find_extensions(str(self._opt_dir / ext.EXTENSIONS_DIR))
            return [OPT_EXTENSIONS / path.name for path in found]
        created = self._client.containers.create(
            self.image, entrypoint=["/bin/true"], labels={LABEL: "1", OWNER_LABEL: str(os.getpid())}
        )
        try:
            with contextlib.suppress(docker.errors.NotFound):
                created.get_archive(str(OPT_EXTENSIONS.parent / ext.DISABLE_FILE))
                return []
            try:
                stream, _ = created.get_archive(str(OPT_EXTENSIONS))
            except docker.errors.NotFound:
                return []
            names = executables_in_archive(stream, protocol.valid_name)
        finally:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                created.remove(force=True)
        return [OPT_EXTENSIONS / name for name in names[: ext.MAX_EXTENSIONS]]

    def _forget(self, container_id: str) -> None:
        self._live.pop(container_id, None)

    def close(self) -> None:
        """Remove every container this factory started and has not reaped, and release the engine
        client it made (idempotent; the factory starts nothing afterwards)."""
        for process in list(self._live.values()):
            process.remove()
        atexit.unregister(self.close)
        if self._owns_client:
            self._client.close()


def sweep(client: Any, *, include_own: bool = False) -> list[str]:
    """Remove lambdarig containers whose emulator is gone (or ours too, ``include_own``).

    Returns the removed container ids.
    """
    import docker

    removed: list[str] = []
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        owner = str(container.labels.get(OWNER_LABEL, ""))
        if _owner_alive(owner) and not (include_own and owner == str(os.getpid())):
            continue
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            container.remove(force=True)
            removed.append(str(container.id))
    return removed
