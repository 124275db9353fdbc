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
(``container_execs``). The running container is a ``container_process.ContainerProcess``.

Containers carry the labels ``lambdarig.emulator=1`` and ``lambdarig.owner=<emulator pid>``. They
are removed when their runtime is reaped (``wait``), by ``close()`` (also registered with
``atexit``, so Ctrl-C and normal exits clean up), and by the sweep every new factory runs:
containers left by an emulator that no longer exists (e.g. SIGKILLed) are removed then
(``container_labels``).

This module manages processes only: it never sees HTTP and makes no Lambda decisions.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable

from lambdarig.rie_server.environments.container_labels import LABEL, OWNER_LABEL, sweep
from lambdarig.rie_server.environments.container_process import ContainerProcess
from lambdarig.rie_server.environments.layers import opt_search_paths
from lambdarig.rie_server.errors import ProcessStartError

if TYPE_CHECKING:
    from lambdarig.rie_server.environments.container_execs import ContainerSandbox

__all__ = [
    "DOCKER_DEFAULT_PATH",
    "HOST_ONLY_ENV",
    "LABEL",
    "OWNER_LABEL",
    "ContainerFactory",
    "ContainerProcess",
    "sweep",
]

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


def _image_env(image: Any) -> dict[str, str]:
    """An image's ``ENV`` (``Config.Env``, ``NAME=value`` strings) as a mapping."""
    pairs = (image.attrs.get("Config") or {}).get("Env") or []
    return {name: value for name, sep, value in (p.partition("=") for p in pairs) if sep}


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
