"""The init of an execution environment's process (a *generation*) and SnapStart's restore of it:
the wait for the runtime's first ``/next`` and for its extensions within the init limit, how an
init that did not get there failed, and what both report (the Telemetry API's ``platform.init*``
and ``platform.restore*`` events, the ``RESTORE_START``/``RESTORE_REPORT`` lines).

``InitPhase`` holds no state: the ``Environment`` owns the processes and the init's results;
``end_process`` ends the processes and ``uninitialise`` marks the environment for a new init.
``InitLock`` lets one init run at a time and says when nobody is waiting for one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

from lambdarig import extensions_api as ext_api
from lambdarig import runtime_api
from lambdarig.rie_server.environments.outcomes import (
    EnvironmentSpec,
    InvokeOutcome,
    OutcomeKind,
    crashed,
    failure,
)
from lambdarig.rie_server.environments.supervisor import RuntimeProcess
from lambdarig.rie_server.extensions.on_demand import Failure, OnDemandExtensions
from lambdarig.rie_server.runtime import protocol
from lambdarig.rie_server.runtime.generation import Generation
from lambdarig.runtime_api import ENV_INITIALIZATION_TYPE, INIT_ON_DEMAND, INIT_SNAPSTART

if TYPE_CHECKING:
    from lambdarig.rie_server.environments.restore import Restored, RestoreListener
    from lambdarig.rie_server.telemetry.on_demand import OnDemandTelemetry

_EXIT_AFTER_INIT_ERROR_S = 0.5  # a runtime that posted /init/error should exit on its own

# An init's result: ``None`` when ready, else its failure; and its duration in ms.
InitResult = tuple[Optional[InvokeOutcome], float]


class InitLock:
    """An environment's init lock (one init at a time), counting who holds it or waits for it. A
    warm invoke that finds nobody there skips it: taking an ``asyncio.Lock`` then never waits.
    ``locked()`` would not tell: between a release and the first waiter's wake-up the lock is
    free, yet a newcomer taking it queues behind that waiter."""

    __slots__ = ("_lock", "users")

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.users = 0

    async def __aenter__(self) -> None:
        self.users += 1
        try:
            await self._lock.acquire()
        except BaseException:
            self.users -= 1
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._lock.release()
        self.users -= 1


class EndProcess(Protocol):
    """``Environment._end_process``: end the current generation's processes (with extensions and
    a ``reason``, through the shutdown phase)."""

    def __call__(self, grace_s: float, reason: str | None = None) -> Awaitable[None]: ...


class InitPhase:
    """The init and restore of one environment's generations (``reported``, ``wait_ready``,
    ``restore``)."""

    def __init__(
        self,
        spec: EnvironmentSpec,
        env_id: str,
        telemetry: OnDemandTelemetry | None,
        restore_listener: RestoreListener | None,
        end_process: EndProcess,
        uninitialise: Callable[[], None],
    ) -> None:
        self._spec = spec
        self._env_id = env_id
        self._telemetry = telemetry  # the Telemetry/Logs APIs on the environment's socket
        self._restore_listener = restore_listener  # SnapStart: RESTORE_START / RESTORE_REPORT
        self._end_process = end_process
        self._uninitialise = uninitialise

    async def reported(
        self, request_id: str | None, run: Callable[[], Awaitable[InitResult]]
    ) -> InitResult:
        """``run()`` (one init), reported to the Telemetry API (``platform.initStart`` ...)."""
        telemetry = self._telemetry
        if telemetry is None:
            return await run()
        phase = "init" if request_id is None else "invoke"
        init_type = self._spec.env.get(ENV_INITIALIZATION_TYPE, INIT_ON_DEMAND)
        if self._spec.snapstart:  # as the runtime's variable says (``Environment._spawn``)
            init_type = INIT_SNAPSTART
        telemetry.init_started(init_type, phase)
        outcome, init_ms = await run()
        telemetry.init_finished(outcome, init_ms, phase)
        return outcome, init_ms

    async def wait_ready(
        self,
        generation: Generation,
        process: RuntimeProcess,
        exited: asyncio.Future[int],
        extensions: OnDemandExtensions,
        started: float,
        deadline: float,
        request_id: str | None,
    ) -> InitResult:
        """Wait for the spawned runtime's first ``/next`` (SnapStart: ``/restore/next``) and for
        every extension, until ``deadline`` (monotonic; the init began at ``started``). Returns
        ``(None, init_ms)`` when ready, else the failure outcome and the time spent. Without
        launched extensions the host may be made meanwhile (an internal extension registers):
        the wait for the extensions then concerns it, too."""
        init_over = (generation.ready, generation.snapshot)  # SnapStart's init ends at the second
        launched = extensions.host  # made before the wait when extensions were launched
        crashed = () if launched is None else (launched.crashed,)
        await _first(*init_over, generation.init_error, exited, *crashed, until=deadline)
        ready = any(future.done() for future in init_over)
        host = extensions.host
        try:
            if host is not None and ready:  # the runtime is done; init ends when every
                ready = await host.ready(deadline)  # extension is, too
            if host is not None:
                host.check()
        except Failure as exc:
            await self._end_process(0, ext_api.SHUTDOWN_FAILURE)
            init_ms = (time.monotonic() - started) * 1000
            return failure(OutcomeKind.INIT_ERROR, exc.error_type, exc.message), init_ms
        init_ms = (time.monotonic() - started) * 1000
        if ready:
            await process.flush_output()  # init's output precedes the first START
            return None, init_ms
        return await self._not_ready(generation, process, exited, request_id), init_ms

    async def _not_ready(
        self,
        generation: Generation,
        process: RuntimeProcess,
        exited: asyncio.Future[int],
        request_id: str | None,
    ) -> InvokeOutcome:
        """How an init that did not get ready failed: the runtime posted ``/init/error``, exited,
        or ran out of time (inside an invoke, the invoke's time: a timeout)."""
        if generation.init_error.done():
            posted = generation.init_error.result()
            await asyncio.wait({exited}, timeout=_EXIT_AFTER_INIT_ERROR_S)
            await self._end_process(0)
            return failure(
                OutcomeKind.INIT_ERROR,
                posted.error_type,
                None,
                body=posted.body,
                content_type=posted.content_type,
                memory=process.peak_memory_mb(),
            )
        if exited.done():
            return crashed(OutcomeKind.INIT_ERROR, request_id, process, exited, 0.0)
        await self._end_process(0, ext_api.SHUTDOWN_TIMEOUT)
        if request_id is None:
            message = protocol.timeout_message(None, self._spec.init_timeout_s)
            return failure(OutcomeKind.INIT_ERROR, runtime_api.SANDBOX_TIMEDOUT, message)
        message = protocol.timeout_message(request_id, self._spec.timeout_s)
        return failure(OutcomeKind.TIMEOUT, runtime_api.SANDBOX_TIMEDOUT, message)

    async def restore(
        self, generation: Generation, process: RuntimeProcess, exited: asyncio.Future[int]
    ) -> Restored | None:
        """SnapStart: restore the environment the runtime's ``/restore/next`` snapshotted
        (``restore``); ``None`` when the runtime polled ``/next`` without it. A failed restore
        ends the process before its report."""
        from lambdarig.rie_server.environments import restore

        if generation.ready.done():  # the runtime polled /next without /restore/next
            return None
        listener, telemetry = self._restore_listener, self._telemetry
        if listener is not None:
            listener.restore_started(self._env_id)
        if telemetry is not None:
            telemetry.restore_started()
        restored = await restore.restore(generation, exited)
        if restored.failure is None:
            await process.flush_output()  # the after-restore hooks' output precedes the report
        else:
            self._uninitialise()
            await asyncio.wait({exited}, timeout=_EXIT_AFTER_INIT_ERROR_S)
            await self._end_process(0)
        if listener is not None:
            listener.restore_finished(self._env_id, restored)
        if telemetry is not None:
            error_type = restored.failure.error_type if restored.failure is not None else None
            telemetry.restore_finished(restored.duration_ms, error_type)
        return restored


async def _first(*futures: asyncio.Future[Any], until: float) -> None:
    """Wait until one of ``futures`` is done or the monotonic time ``until`` passes."""
    timeout = max(0.0, until - time.monotonic())
    await asyncio.wait(set(futures), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
