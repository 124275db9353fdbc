"""The extensions of one runtime generation, as processes: launch, init, invoke, shutdown.

Each executable in ``<opt>/extensions/`` (the layers laid out by the emulator, or lambdarig-rie's
``/opt/extensions``) starts as a child process, in parallel, with the runtime's environment, before
the runtime; the runtime starts once every one of them registered (RAPID's order). Each extension
leads its own process group (``supervisor.spawn_local``), so signals reach what it spawned. A file
``<opt>/disable-extensions-jwigqn8j`` disables external extensions, as in aws-lambda-rie.

In container mode a ``Sandbox`` (``environments.container_execs``: one container per generation)
names the image's extensions and starts them, and then the runtime, inside it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Callable, Protocol

from lambdarig import extensions_api as ext
from lambdarig.rie_server.environments.supervisor import ProcessFactory, RuntimeProcess, spawn_local
from lambdarig.rie_server.errors import ProcessStartError
from lambdarig.rie_server.extensions import protocol
from lambdarig.rie_server.extensions.backend import ExtensionsApi
from lambdarig.rie_server.extensions.on_demand import Failure as Failure  # defined there

_log = logging.getLogger(__name__)

SHUTDOWN_EXTERNAL_S = 2.0  # the shutdown phase with at least one external extension
SHUTDOWN_INTERNAL_S = 0.5  # with internal extensions only; the runtime's share if it hosts one
SHUTDOWN_RUNTIME_S = 0.3  # the runtime's share of the 2 s when it hosts no internal extension
_KILL_WAIT_S = 5.0


def find_extensions(extensions_dir: str | None) -> list[Path]:
    """The executables directly in ``extensions_dir`` (sorted by name; at most
    ``MAX_EXTENSIONS``: later ones are not launched), none when the directory is missing or
    ``../disable-extensions-jwigqn8j`` exists."""
    if extensions_dir is None:
        return []
    directory = Path(extensions_dir)
    if (directory.parent / ext.DISABLE_FILE).exists() or not directory.is_dir():
        return []
    found = sorted(
        path
        for path in directory.iterdir()
        if path.is_file() and os.access(path, os.X_OK) and protocol.valid_name(path.name)
    )
    if len(found) > ext.MAX_EXTENSIONS:
        skipped = ", ".join(path.name for path in found[ext.MAX_EXTENSIONS :])
        _log.warning("at most %d extensions are launched; not: %s", ext.MAX_EXTENSIONS, skipped)
    return found[: ext.MAX_EXTENSIONS]


class Sandbox(Protocol):
    """Where one generation's extensions and runtime run together (a container), instead of as
    local processes."""

    executables: Sequence[PurePath]  # the external extensions, as paths inside

    @property
    def spawn(self) -> ProcessFactory:
        """Starts an extension inside."""
        ...

    @property
    def spawn_runtime(self) -> ProcessFactory:
        """Starts the runtime inside (the image's entrypoint with the given command)."""
        ...

    def close(self) -> None:
        """Remove it and everything still running in it."""
        ...


class ExtensionHost:
    """The Extensions API and the external extension processes of one runtime generation."""

    def __init__(
        self,
        executables: Sequence[PurePath],
        info: Mapping[str, str],
        account_id: str,
        on_line: Callable[[str], None],
    ) -> None:
        self._executables = executables
        self.api = ExtensionsApi(tuple(path.name for path in executables), info, account_id)
        self._on_line = on_line
        self._processes: dict[str, RuntimeProcess] = {}
        self._exits: dict[str, asyncio.Future[int]] = {}
        # the name of the first extension that exited on its own (``Extension.Crash``)
        self.crashed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.exit_codes: dict[str, int] = {}
        self._stopping = False

    @property
    def active(self) -> bool:
        """Some extension is launched or registered (else the environment runs as before)."""
        return bool(self._executables) or self.api.registry.any_registered

    async def launch(
        self, env: Mapping[str, str], memory_mb: int, spawn: ProcessFactory = spawn_local
    ) -> None:
        """Start every external extension in parallel (``spawn``: locally, or in a sandbox);
        raises ``Failure`` (``Extension.LaunchError``) when one cannot be executed."""
        starts = [
            spawn([str(path)], str(path.parent), env, self._on_line, memory_mb)
            for path in self._executables
        ]
        results = await asyncio.gather(*starts, return_exceptions=True)
        for path, result in zip(self._executables, results):
            if isinstance(result, BaseException):
                if not isinstance(result, (ProcessStartError, OSError)):
                    raise result
                raise Failure(ext.EXTENSION_LAUNCH_ERROR, f"{path.name}: {result}")
            self._watch(path.name, result)

    def _watch(self, name: str, process: RuntimeProcess) -> None:
        exited = asyncio.ensure_future(process.wait())
        self._processes[name], self._exits[name] = process, exited

        def on_exit(done: asyncio.Future[int]) -> None:
            if not done.cancelled() and done.exception() is None:
                self.exit_codes[name] = done.result()
            if not self._stopping and not self.crashed.done():
                self.crashed.set_result(name)
            self.api.wake()

        exited.add_done_callback(on_exit)

    def check(self) -> None:
        """Raise the ``Failure`` an extension caused so far, if any."""
        failed = self.api.registry.failed()
        if failed is not None:
            error_type = failed.error_type or ext.EXTENSION_INIT_ERROR
            message = f"Extension {failed.name} reported {error_type}"
            raise Failure(ext.EXTENSION_INIT_ERROR, message)
        if self.crashed.done():
            raise Failure(ext.EXTENSION_CRASH, f"Extension {self.crashed.result()} exited")

    async def registered(self, deadline: float) -> bool:
        """Wait until every external extension registered; raises ``Failure`` when one exits
        or reports an error first. ``False`` at the deadline."""
        done = await self.api.wait_until(
            self._or_failed(self.api.registry.all_registered), deadline
        )
        self.check()
        return done

    async def ready(self, deadline: float) -> bool:
        """Wait until every extension waits in ``/event/next`` (init done)."""
        done = await self.api.wait_until(self._or_failed(self.api.registry.init_done), deadline)
        self.check()
        return done

    async def settled(self, deadline: float) -> bool:
        """Wait until every ``INVOKE`` subscriber called ``/event/next`` after the invoke (or
        one crashed: ``False`` then, as at the deadline)."""
        done = await self.api.wait_until(self._or_failed(self.api.registry.invoke_done), deadline)
        return done and not self.crashed.done()

    def _or_failed(self, condition: Callable[[], bool]) -> Callable[[], bool]:
        registry = self.api.registry
        return lambda: condition() or self.crashed.done() or registry.failed() is not None

    def invoke(
        self, request_id: str, deadline_ms: int, function_arn: str, trace_id: str | None
    ) -> None:
        """Send the ``INVOKE`` event to its subscribers."""
        body = protocol.invoke_event(request_id, deadline_ms, function_arn, trace_id)
        self.api.send(ext.EVENT_INVOKE, body)

    def crash_message(self, request_id: str | None) -> str:
        """What the service says for the extension that exited (RAPID's ``Extension.Crash``
        error text: ``exit code 0`` or the process's exit status)."""
        name = self.crashed.result() if self.crashed.done() else ""
        code = self.exit_codes.get(name)
        how = "exit code 0" if code == 0 else _exit_status(code)
        prefix = f"RequestId: {request_id} " if request_id else ""
        return f"{prefix}Error: extension {name} exited: {how}"

    def shutdown_budget(self) -> float | None:
        """The shutdown phase's length: 2 s with external extensions, 0.5 s with internal ones
        only, ``None`` without any registered extension."""
        registry = self.api.registry
        if registry.has_external:
            return SHUTDOWN_EXTERNAL_S
        if registry.has_internal:
            return SHUTDOWN_INTERNAL_S
        return None

    def runtime_budget(self) -> float:
        """How long the runtime has after its SIGTERM: 500 ms when it hosts an internal
        extension, else 300 ms."""
        return SHUTDOWN_INTERNAL_S if self.api.registry.has_internal else SHUTDOWN_RUNTIME_S

    async def shutdown(self, reason: str, budget: float) -> None:
        """Send ``SHUTDOWN`` (``reason``, deadline = now + ``budget``) to its subscribers and wait
        until every extension process exited or the deadline passed; then SIGKILL them all."""
        self._stopping = True
        if budget <= 0:
            await self.kill()
            return
        deadline = time.monotonic() + budget
        deadline_ms = int((time.time() + budget) * 1000)
        self.api.send(ext.EVENT_SHUTDOWN, protocol.shutdown_event(reason, deadline_ms))
        exits = set(self._exits.values())
        if exits:
            await asyncio.wait(exits, timeout=max(0.0, deadline - time.monotonic()))
        await self.kill()

    async def kill(self) -> None:
        """SIGKILL every extension process group and wait until they are reaped."""
        self._stopping = True
        for process in self._processes.values():
            process.kill()
        exits = set(self._exits.values())
        if exits:
            await asyncio.wait(exits, timeout=_KILL_WAIT_S)
        self.api.close_registration()


def register_info(env: Mapping[str, str]) -> dict[str, str]:
    """``functionName``/``functionVersion``/``handler`` from the runtime's environment."""
    return {
        "functionName": env.get("AWS_LAMBDA_FUNCTION_NAME", ""),
        "functionVersion": env.get("AWS_LAMBDA_FUNCTION_VERSION", ""),
        "handler": env.get("_HANDLER", ""),
    }


def account_of(function_arn: str) -> str:
    """The account id field of ``arn:aws:lambda:REGION:ACCOUNT:function:NAME``."""
    parts = function_arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _exit_status(code: int | None) -> str:
    if code is None:
        return "unknown exit status"
    if code < 0:
        return f"signal {-code}"
    return f"exit status {code}"
