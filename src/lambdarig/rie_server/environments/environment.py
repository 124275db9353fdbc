"""One Lambda execution environment: a runtime process tree plus its own Runtime API listener.

``Environment`` is the contract used by the invoke front end (see ``InvokeOutcome`` for every way
an invoke can end). Orchestration only: the Runtime API rules live in ``lifecycle``/``protocol``,
HTTP in ``runtime.server``, processes in ``supervisor``, what starting and ending them takes in
``launch``, the init of a process and its restore in ``init_phase``, the delivery of one
invocation and how it ended in ``delivery``.

Lifecycle of the process (a *generation*): spawn -> init (until its first ``/next``) -> invokes ->
exit or kill. Every failure that ends a generation (init error, crash, timeout, out-of-memory)
marks the environment for re-init; the next ``invoke`` then runs a suppressed init inside its own
deadline and reports ``init_duration_ms``. The listener outlives generations, so the address given
to the runtime never changes. Unlike aws-lambda-rie: init is eager (``start``), timeouts say
``N.NN`` seconds, and in Managed Instances mode a timeout spares the environment (the late post
gets 410) instead of resetting it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import socket
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Callable

from lambdarig import extensions_api as ext_api
from lambdarig import runtime_api
from lambdarig.rie_server import ids
from lambdarig.rie_server.environments import launch
from lambdarig.rie_server.environments.delivery import Delivery
from lambdarig.rie_server.environments.init_phase import InitLock, InitPhase, InitResult
from lambdarig.rie_server.environments.outcomes import (
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
    OutcomeKind,
    failure,
)
from lambdarig.rie_server.environments.spawn import PrestartedRuntime
from lambdarig.rie_server.environments.supervisor import RuntimeProcess
from lambdarig.rie_server.errors import EnvironmentBusy, EnvironmentStopped, ProcessStartError
from lambdarig.rie_server.extensions.on_demand import Failure, OnDemandExtensions
from lambdarig.rie_server.runtime.generation import Generation, OnStream, now_ms
from lambdarig.rie_server.runtime.server import RuntimeApiServer

if TYPE_CHECKING:
    from lambdarig.rie_server.environments.restore import RestoreListener
    from lambdarig.rie_server.extensions.host import ExtensionHost, Sandbox
    from lambdarig.rie_server.telemetry.on_demand import OnDemandTelemetry

__all__ = [
    "Environment",
    "EnvironmentSpec",
    "InvokeOutcome",
    "InvokeRequest",
    "OutcomeKind",
]


class Environment:
    """One execution environment. All methods must run on one event loop.

    Failures of the function or runtime never raise: they come back as ``InvokeOutcome``. Raises
    ``EnvironmentBusy`` (all slots in flight) and ``EnvironmentStopped`` (after ``stop()``); a
    ``ListenError`` (an ``OSError``) from ``start()`` means the Runtime API address could not be
    bound.
    """

    def __init__(
        self,
        spec: EnvironmentSpec,
        env_id: str,
        on_output: Callable[[str, str], None],
        *,
        prestarted: PrestartedRuntime | None = None,
        telemetry: OnDemandTelemetry | None = None,
        restore_listener: RestoreListener | None = None,
    ):
        self._spec = spec
        # The listener and runtime the command line started before the event loop
        # (``fast_start``): used by the first spawn if it would start that very process.
        self._prestarted = prestarted
        self._spawned_at: float | None = None
        self.env_id = env_id
        self._on_output = on_output
        self._generation: Generation | None = None  # the current process's Runtime API state
        self._server: RuntimeApiServer | None = None
        self._process: RuntimeProcess | None = None
        self._exited: asyncio.Future[int] | None = None
        self._initialized = False
        self._pending_init_ms: float | None = None
        self._in_flight = 0
        self._stopped = False
        self._init_lock: InitLock | None = None
        self._extensions: OnDemandExtensions | None = None  # the current generation's
        self._sandbox: Sandbox | None = None  # ... container, when it has extensions
        self._delivery = Delivery(spec, self._reset)  # ... and the settling of its invokes
        self._telemetry = telemetry  # the Telemetry/Logs APIs on this environment's socket
        self._init_phase = InitPhase(
            spec, env_id, telemetry, restore_listener, self._end_process, self._uninitialise
        )
        self._pending_restore_ms: float | None = None  # reported by the next invoke's REPORT

    @property
    def runtime_api_address(self) -> str:
        """``host:port`` of this environment's Runtime API (``""`` before ``start``)."""
        return self._server.address if self._server is not None else ""

    @property
    def initialized(self) -> bool:
        """A runtime process is up and has polled ``/next`` at least once."""
        return self._initialized and self._exited is not None and not self._exited.done()

    @property
    def idle(self) -> bool:
        """Initialised, not stopped, with a free concurrency slot."""
        return (
            self.initialized and not self._stopped and self._in_flight < self._spec.max_concurrency
        )

    @property
    def in_flight(self) -> int:
        """Invocations currently being served."""
        return self._in_flight

    async def start(self) -> InvokeOutcome | None:
        """Spawn the runtime and wait for its first ``/next`` (bounded by ``init_timeout_s``).

        Returns ``None`` when ready, else an ``INIT_ERROR`` outcome (the environment then re-inits
        inside the next invoke). Idempotent once initialised.
        """
        self._check_live()
        async with self._lock():
            if self.initialized:
                return None
            deadline = time.monotonic() + self._spec.init_timeout_s
            outcome, init_ms = await self._init(deadline, None)
            if outcome is None:
                self._pending_init_ms = init_ms
                return None
            return dataclasses.replace(outcome, init_duration_ms=init_ms)  # for its INIT_REPORT

    async def invoke(self, request: InvokeRequest) -> InvokeOutcome:
        """Run one invocation to its end (result, error, crash, timeout); initialises first if
        needed. Raises ``EnvironmentBusy`` beyond ``max_concurrency`` concurrent calls."""
        self._check_live()
        settling = self._delivery.settling
        if settling is not None:  # extensions still busy with the previous invoke
            await asyncio.wait({settling})
        if self._in_flight >= self._spec.max_concurrency:
            raise EnvironmentBusy(
                f"environment {self.env_id} serves at most {self._spec.max_concurrency} "
                f"concurrent invocation(s); got one more"
            )
        self._in_flight += 1
        try:
            return await self._invoke(request)
        finally:
            self._in_flight -= 1

    async def stop(self, grace_s: float = 2.0) -> None:
        """SIGTERM the process group, SIGKILL after ``grace_s``, close the listener. Idempotent."""
        self._stopped = True
        self._initialized = False
        prestarted, self._prestarted = self._prestarted, None
        if prestarted is not None:
            prestarted.discard()
        if self._delivery.settling is not None:
            self._delivery.settling.cancel()
        await self._end_process(grace_s, ext_api.SHUTDOWN_SPINDOWN)
        if self._server is not None:
            await self._server.close()

    # --- internals ---------------------------------------------------------------------------

    def _lock(self) -> InitLock:
        if self._init_lock is None:
            self._init_lock = InitLock()
        return self._init_lock

    def _initialising(self) -> bool:
        """Someone holds the init lock or waits for it (an init, or a check, is under way)."""
        return self._init_lock is not None and self._init_lock.users > 0

    def _check_live(self) -> None:
        if self._stopped:
            raise EnvironmentStopped(f"environment {self.env_id} was stopped; expected a live one")

    async def _spawn(self, deadline: float) -> Generation:
        """Start a new runtime process (and the listener, the first time). Raises
        ``EnvironmentStopped`` if ``stop()`` ran meanwhile; nothing is left running then."""
        self._check_live()
        generation = Generation(self._spec.max_concurrency, snapstart=self._spec.snapstart)
        prestarted, self._prestarted = self._prestarted, None
        early = prestarted.process if prestarted is not None else None
        self._spawned_at = None
        try:
            if self._server is None:
                await self._listen(generation, prestarted.sock if prestarted else None)
        except BaseException:
            if early is not None:
                early.discard()
            raise
        assert self._server is not None
        # From here the listener answers for the new process: nothing a dead one left behind
        # can finish a newer invocation.
        self._server.backend = self._generation = generation
        env = launch.runtime_variables(self._spec, self._server)
        opener = getattr(self._spec.process_factory, "open_sandbox", None)  # container mode
        self._sandbox = None if opener is None else await opener(env, self._spec.memory_mb)
        on_line = functools.partial(self._on_output, self.env_id)
        if await self._launch_extensions(env, deadline, on_line) and early is not None:
            early.discard()  # the runtime starts after the extensions registered
            early = None
        process, self._spawned_at = await launch.start_runtime(
            self._spec, env, early, self._sandbox, on_line
        )
        exited = asyncio.ensure_future(process.wait())
        exited.add_done_callback(lambda _: self._on_exit(process))
        self._process, self._exited = process, exited
        if self._stopped:  # stop() ran while we were spawning: it could not see this process
            await self._end_process(0)
            self._check_live()
        return generation

    async def _launch_extensions(
        self, env: dict[str, str], deadline: float, on_line: Callable[[str], None]
    ) -> bool:
        """Serve the Extensions API for the new process (made on first need:
        ``OnDemandExtensions``); start ``/opt/extensions/*`` and wait (until ``deadline``) for
        them to register. Returns whether any was launched; raises ``Failure`` when one could
        not start, exited or reported an error."""
        assert self._server is not None
        spec, sandbox, telemetry = self._spec, self._sandbox, self._telemetry
        extensions = OnDemandExtensions(
            spec.extensions_dir, sandbox, env, spec.function_arn, on_line, telemetry
        )
        self._extensions = self._server.extensions = extensions
        if telemetry is not None:  # only this process's extensions may subscribe
            telemetry.use_extensions(extensions.lookup)
        if not extensions.present:
            return False
        host = extensions.get()
        if not host.active:
            return False
        await host.launch(env, spec.memory_mb, *([sandbox.spawn] if sandbox else []))
        await host.registered(deadline)  # at the deadline, the runtime's init wait times out
        return True

    async def _listen(self, generation: Generation, sock: socket.socket | None) -> None:
        """Open the Runtime API listener (on ``sock`` if the command line bound it already)."""
        server = RuntimeApiServer(generation, self._spec.runtime_api_address, sock)
        server.subscriptions = self._telemetry
        await server.start()  # ListenError if the address is taken: nothing kept, start may retry
        if self._stopped:  # stop() ran while we were binding
            await server.close()
            self._check_live()
        self._server = server

    def _on_exit(self, process: RuntimeProcess) -> None:
        if process is self._process:
            self._initialized = False

    async def _end_process(self, grace_s: float, reason: str | None = None) -> None:
        """End the current generation's processes (``launch.end_processes``) and its
        container."""
        try:
            await launch.end_processes(self._process, self._exited, self._host(), grace_s, reason)
        finally:
            sandbox, self._sandbox = self._sandbox, None
            if sandbox is not None:
                sandbox.close()

    async def _init(self, deadline: float, request_id: str | None) -> InitResult:
        """``_run_init``, reported to the Telemetry API (``InitPhase.reported``); then, for
        SnapStart, the restore."""
        run = functools.partial(self._run_init, deadline, request_id)
        outcome, init_ms = await self._init_phase.reported(request_id, run)
        if outcome is None and self._spec.snapstart:
            outcome = await self._restore()
        return outcome, init_ms

    async def _restore(self) -> InvokeOutcome | None:
        """SnapStart: ``InitPhase.restore``; ``None`` when restored, else the failure (the process
        is ended)."""
        generation, process, exited = self._generation, self._process, self._exited
        assert generation is not None and process is not None and exited is not None
        restored = await self._init_phase.restore(generation, process, exited)
        if restored is None:
            return None
        if restored.failure is None:
            self._pending_restore_ms = restored.duration_ms
        return restored.failure

    async def _run_init(self, deadline: float, request_id: str | None) -> InitResult:
        """Spawn and wait for the first ``/next`` until ``deadline`` (monotonic). Returns
        ``(None, init_ms)`` when ready, else the failure outcome and the time spent."""
        started = time.monotonic()
        await self._end_process(0)
        try:
            generation = await self._spawn(deadline)
        except ProcessStartError as exc:
            failed = failure(
                OutcomeKind.INIT_ERROR, runtime_api.RUNTIME_INVALID_ENTRYPOINT, str(exc)
            )
            return failed, 0.0
        except Failure as exc:
            await self._end_process(0, ext_api.SHUTDOWN_FAILURE)
            failed = failure(OutcomeKind.INIT_ERROR, exc.error_type, exc.message)
            return failed, (time.monotonic() - started) * 1000
        if self._spawned_at is not None:  # started ahead of the loop: its init began then
            started = min(started, self._spawned_at)
        process, exited, extensions = self._process, self._exited, self._extensions
        assert process is not None and exited is not None and extensions is not None
        outcome, init_ms = await self._init_phase.wait_ready(
            generation, process, exited, extensions, started, deadline, request_id
        )
        if outcome is None:
            self._initialized = not exited.done()
        return outcome, init_ms

    def _uninitialise(self) -> None:
        """The process failed its restore: the next invoke initialises anew."""
        self._initialized = False

    async def _invoke(self, request: InvokeRequest) -> InvokeOutcome:
        deadline = time.monotonic() + self._spec.timeout_s
        invocation = runtime_api.Invocation(
            request_id=request.request_id,
            deadline_ms=now_ms() + int(self._spec.timeout_s * 1000),
            invoked_function_arn=request.invoked_function_arn or self._spec.function_arn,
            body=request.payload,
            content_type=request.content_type or runtime_api.CONTENT_TYPE_JSON,
            trace_id=request.trace_id,
            client_context=request.client_context,
            cognito_identity=request.cognito_identity,
            tenant_id=request.tenant_id,
            invocation_id=ids.uuid4(),
        )
        init_ms: float | None = None
        # Two rounds at most: a runtime that exited after its previous invoke (e.g. after a 413)
        # is found gone before this event reached it; it is re-initialised, not blamed.
        for may_retry in (True, False):
            # A warm invoke takes no lock: with nobody holding or awaiting it, taking it would not
            # wait either.
            ready = self.initialized and not self._initialising()
            if not ready:
                async with self._lock():
                    ready = self.initialized
                    if not ready:
                        failed, init_ms = await self._init(deadline, request.request_id)
                        if failed is not None:
                            return dataclasses.replace(failed, init_duration_ms=init_ms)
            if ready:
                pending, self._pending_init_ms = self._pending_init_ms, None
                init_ms = init_ms if init_ms is not None else pending
            outcome = await self._deliver(
                invocation, deadline, init_ms, may_retry, request.on_stream
            )
            if outcome is not None and self._spec.snapstart:  # restored, not initialised
                restore_ms, self._pending_restore_ms = self._pending_restore_ms, None
                return dataclasses.replace(
                    outcome, init_duration_ms=None, restore_duration_ms=restore_ms
                )
            if outcome is not None:
                return outcome
        raise AssertionError("unreachable: the last round always yields an outcome")

    def _deliver(
        self,
        invocation: runtime_api.Invocation,
        deadline: float,
        init_ms: float | None,
        may_retry: bool,
        on_stream: OnStream | None = None,
    ) -> Awaitable[InvokeOutcome | None]:
        """``Delivery.deliver`` to the current generation."""
        generation, process, exited = self._generation, self._process, self._exited
        assert generation is not None and process is not None and exited is not None
        return self._delivery.deliver(
            generation,
            process,
            exited,
            self._host(),
            invocation,
            deadline,
            init_ms,
            may_retry,
            on_stream,
        )

    def _host(self) -> ExtensionHost | None:
        """The current generation's extension host, if it was made (``OnDemandExtensions``)."""
        extensions = self._extensions
        return None if extensions is None else extensions.host

    async def _reset(self, reason: str, host: ExtensionHost | None = None) -> None:
        """End the current generation for ``reason`` (an invocation failed it): no longer
        initialised, its processes ended; with ``host``, only while that is still the current
        generation's (an invoke's settling may outlast it)."""
        if host is None or host is self._host():
            self._initialized = False
            await self._end_process(0, reason)
