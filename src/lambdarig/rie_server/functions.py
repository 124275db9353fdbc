"""One function's share of the emulator: its configuration, execution environments (the pool),
artifacts (layers laid out, the container factory), platform logs and queued ``Event``
invocations: a ``FunctionHost``. ``Emulator`` serves one host; ``project_emulator`` serves many
behind one Invoke API.

Lifecycle: ``start()`` lays the layers out and pre-warms environments (one on-demand environment,
or ``provisioned`` ones, unless ``lazy_init``); ``stop()`` cancels queued ``Event`` invocations,
then stops every environment (SIGTERM, SIGKILL after the grace period) and removes the artifacts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import functools
import shutil
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from lambdarig import invoke_api
from lambdarig.rie_server import ids
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.environments.environment import (
    Environment,
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
    OutcomeKind,
)
from lambdarig.rie_server.environments.pool import (
    EnvironmentFactory,
    EnvironmentPool,
    PooledEnvironment,
)
from lambdarig.rie_server.errors import EmulatorError, LayoutCancelled, Throttled
from lambdarig.rie_server.http.streams import ReplyStream
from lambdarig.rie_server.invoke import protocol as proto
from lambdarig.rie_server.invoke import streaming
from lambdarig.rie_server.invoke.async_invocations import EventResult, run_event
from lambdarig.rie_server.invoke.event_stream import CONTENT_TYPE_EVENT_STREAM
from lambdarig.rie_server.platform_logs import InvocationLog, LogWriter, PlatformLogFormatter
from lambdarig.rie_server.untrusted import printable
from lambdarig.rie_server.watch import change_notice, reinitialise, warm_plan

if TYPE_CHECKING:
    from lambdarig.rie_server.environments.containers import ContainerFactory
    from lambdarig.rie_server.environments.restore import Restored
    from lambdarig.rie_server.environments.spawn import PrestartedRuntime
    from lambdarig.rie_server.environments.supervisor import ProcessFactory
    from lambdarig.rie_server.telemetry.hub import TelemetryHub
    from lambdarig.rie_server.telemetry.subscription import ExtensionLookup

Clock = Callable[[], datetime.datetime]
# Told how each Event invocation ended (the project's destinations).
EventDone = Callable[[InvokeRequest, EventResult], Awaitable[None]]
# A START line waits in the buffer for the invocation's END and REPORT (one write for the three)
# or for its first output line, but never longer than this.
START_FLUSH_S = 0.02


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def new_trace_id(epoch_s: float | None = None) -> str:
    """A fresh X-Ray trace header for an invoke that arrived without one."""
    epoch = int(time.time() if epoch_s is None else epoch_s)
    random = ids.random_hex(20)
    return invoke_api.TRACE_ID_FORMAT.format(epoch=epoch, root=random[:24], parent=random[24:])


class LabelledWriter(LogWriter):
    """A ``LogWriter`` whose every line starts with ``[label] `` (several functions, one stdout)."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._label = f"[{printable(label)}] "

    def write(self, lines: Iterable[str], env_id: str | None = None, flush: bool = True) -> None:
        super().write([self._label + line for line in lines], env_id, flush)


class _Logs:
    """The pool's listener: prints platform lines and output, keeps per-invocation captures.

    An output line belongs to every invocation open in its environment: exact with one invoke per
    environment; in Managed Instances mode concurrent invocations' Tails share their lines.
    """

    def __init__(self, formatter: PlatformLogFormatter, writer: LogWriter, clock: Clock) -> None:
        self._formatter = formatter
        self._writer = writer
        self._clock = clock
        self._open: dict[str, dict[str, InvocationLog]] = {}
        self.tails: dict[str, bytes] = {}
        self.wanted: set[str] = set()
        self._flush_timer: asyncio.TimerHandle | None = None
        self.telemetry: dict[str, TelemetryHub] = {}  # env id -> its Telemetry/Logs APIs
        self.function_name = ""  # for platform.restoreStart

    def output(self, env_id: str, line: str) -> None:
        self._writer.write([line], env_id)
        hub = self.telemetry.get(env_id)
        if hub is not None:
            hub.output(line)
        for capture in self._open.get(env_id, {}).values():
            capture.add(line)

    def _emit(
        self, env_id: str, lines: list[str], request_id: str | None = None, flush: bool = True
    ) -> None:
        self._writer.write(lines, env_id, flush)
        capture = self._open.get(env_id, {}).get(request_id or "")
        if capture is not None:
            for line in lines:
                capture.add(line)

    def invocation_started(self, env_id: str, request: InvokeRequest) -> None:
        if request.request_id in self.wanted:  # captured only for Tail (off the common path)
            captures = self._open.setdefault(env_id, {})
            captures[request.request_id] = InvocationLog(invoke_api.LOG_TAIL_BYTES)
        line = self._formatter.start(request.request_id, self._clock(), request.tenant_id)
        # Buffered: written with the next flushing write (the invocation's first output line or
        # its END and REPORT: same buffer, so START still comes first), at the latest after
        # START_FLUSH_S. A warm invoke's three platform lines then cost one write system call.
        self._emit(env_id, [line], request.request_id, flush=False)
        hub = self.telemetry.get(env_id)
        if hub is not None:
            hub.invocation_started(request)
        if self._flush_timer is None:  # one timer at a time, never cancelled: no per-invoke cost
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(START_FLUSH_S, self._timed_flush)

    def _timed_flush(self) -> None:
        self._flush_timer = None
        self._writer.flush()  # no system call when END already wrote everything

    def invocation_finished(
        self, env_id: str, request: InvokeRequest, outcome: InvokeOutcome
    ) -> None:
        request_id = request.request_id
        lines = self._formatter.failure(request_id, outcome)
        if outcome.kind is OutcomeKind.INIT_ERROR and not outcome.restore_error:
            lines.append(self._formatter.init_report(outcome, "invoke", self._clock()))
        lines += self._formatter.end(request_id)
        lines.append(self._formatter.report(request_id, outcome, self._clock()))
        self._emit(env_id, lines, request_id)
        hub = self.telemetry.get(env_id)
        if hub is not None:
            hub.invocation_finished(request, outcome)
        capture = self._open.get(env_id, {}).pop(request_id, None)
        if capture is not None and request_id in self.wanted:
            self.wanted.discard(request_id)
            self.tails[request_id] = capture.tail()

    def invocation_abandoned(self, env_id: str, request: InvokeRequest) -> None:
        self._open.get(env_id, {}).pop(request.request_id, None)
        hub = self.telemetry.get(env_id)
        if hub is not None:
            hub.invocation_abandoned(request)

    async def environment_stopped(self, env_id: str) -> None:
        """A retired environment (``--watch``) stopped: drop what was kept under its id."""
        self._open.pop(env_id, None)
        self._writer.forget(env_id)
        hub = self.telemetry.pop(env_id, None)
        if hub is not None:
            await hub.close()

    def init_failed(self, env_id: str, outcome: InvokeOutcome) -> None:
        if not outcome.restore_error:  # RESTORE_REPORT said it already
            self._emit(env_id, [self._formatter.init_report(outcome, "init", self._clock())])

    def restore_started(self, env_id: str) -> None:
        self._emit(env_id, [self._formatter.restore_start(self.function_name, self._clock())])

    def restore_finished(self, env_id: str, restored: Restored) -> None:
        error_type = restored.failure.error_type if restored.failure is not None else None
        line = self._formatter.restore_report(restored.duration_ms, error_type, self._clock())
        self._emit(env_id, [line])


class _Artifacts:
    """What ``--layer`` and ``--image`` add around the environments: an ``/opt`` laid out from the
    layers (under ``scratch.make_scratch``, removed by ``close``; a killed emulator's is swept at
    the next start) and, for images, the container factory. Layers are laid out in a worker
    thread, so the event loop keeps answering, and ``cancel`` stops a layout half-way."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._tmp: Path | None = None
        self._layouts = 0
        self._cancel = threading.Event()
        self._layout: asyncio.Future[Path] | None = None
        self.opt_dir: Path | None = None
        self.process_factory: ProcessFactory | None = None
        self._containers: ContainerFactory | None = None

    async def prepare(self) -> None:
        """Lay out the layers and connect to Docker; raises ``EmulatorError`` subclasses."""
        from lambdarig.rie_server.environments.scratch import (  # loads tempfile
            make_scratch,
            sweep_stale,
        )

        sweep_stale()
        if self._config.layers:
            self._tmp = make_scratch()
            await self.relayout()
        if self._config.image is not None:
            from lambdarig.rie_server.environments.containers import ContainerFactory

            self._containers = ContainerFactory(self._config.image, opt_dir=self.opt_dir)
            self.process_factory = self._containers

    def runtime_env(self) -> dict[str, str]:
        """The configured runtime environment plus, for local processes, the layers' paths
        (``python3.X/site-packages`` for the emulator's own Python version)."""
        env = dict(self._config.runtime_env)
        if self.opt_dir is not None and self._config.image is None:
            version = f"{sys.version_info[0]}.{sys.version_info[1]}"
            from lambdarig.rie_server.environments.layers import layer_environment

            env.update(layer_environment(self.opt_dir, version, base=env))
        return env

    def extensions_dir(self) -> str | None:
        """``<opt>/extensions`` of the laid-out layers (process mode; containers launch none)."""
        if self.opt_dir is None or self._config.image is not None:
            return None
        return str(self.opt_dir / "extensions")

    async def relayout(self) -> None:
        """Lay the layers out (again, for ``--watch``) into a new directory: environments still
        running keep the ``/opt`` they started with until ``close``. Raises ``LayerError``, or
        ``LayoutCancelled`` after ``cancel``."""
        if self._tmp is None:
            return
        self._layouts += 1
        layers = [Path(layer) for layer in self._config.layers]
        name = "opt" if self._layouts == 1 else f"opt-{self._layouts}"
        from lambdarig.rie_server.environments.layers import (
            prepare_opt,  # only with layers: loads zipfile
        )

        work = functools.partial(prepare_opt, layers, self._tmp / name, cancel=self._cancel)
        self._layout = asyncio.get_running_loop().run_in_executor(None, work)
        # Shielded: a cancelled caller leaves the thread running; close() waits for it to stop.
        self.opt_dir = await asyncio.shield(self._layout)

    def cancel(self) -> None:
        """Stop a layout in progress (within one chunk) and refuse new ones."""
        self._cancel.set()

    async def close(self) -> None:
        """Stop any layout, remove leftover containers and the laid-out ``/opt`` (idempotent)."""
        self.cancel()
        if self._layout is not None:
            await asyncio.wait({self._layout})  # the thread removes what it wrote, then ends
            if not self._layout.cancelled():
                self._layout.exception()  # retrieved: its caller has reported it, or is gone
        if self._containers is not None:
            self._containers.close()
            self._containers = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


class FunctionHost:
    """One function: its environments, artifacts, logs and ``Event`` queue.

    ``environment_factory`` builds each execution environment (default: ``Environment``, a local
    process group); ``output`` receives runtime output and platform lines (default stdout), every
    line prefixed by ``[label] `` when a label is given; ``early_runtime``: the first runtime
    ``fast_start.prestart`` opened before the loop (for the configured Runtime API address);
    ``extension_lookup`` (an extension identifier -> its name), for tests, replaces the
    environments' own Extensions API as the judge of who may subscribe to the Telemetry and Logs
    APIs.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        environment_factory: EnvironmentFactory | None = None,
        output: TextIO | None = None,
        clock: Clock = utc_now,
        early_runtime: PrestartedRuntime | None = None,
        label: str | None = None,
        extension_lookup: ExtensionLookup | None = None,
        on_event_done: EventDone | None = None,
    ) -> None:
        self.config = config
        self._extension_lookup = extension_lookup
        self._clock = clock
        self._on_event_done = on_event_done
        formatter = PlatformLogFormatter(
            config.log_format, config.memory_mb, config.function.version
        )
        writer = LogWriter(output) if label is None else LabelledWriter(label, output)
        self._logs = _Logs(formatter, writer, clock)
        self._logs.function_name = config.function.name
        self._factory = environment_factory or self._local_environment
        self._artifacts = _Artifacts(config)
        self._pool_or_none: EnvironmentPool | None = None
        self._early_runtime = early_runtime
        self._background: set[asyncio.Future[EventResult]] = set()
        self._relays: set[asyncio.Future[None]] = set()  # streamed answers being sent

    def _spec(self) -> EnvironmentSpec:
        config = self.config
        return EnvironmentSpec(
            command=config.command,
            cwd=config.cwd,
            env=self._artifacts.runtime_env(),
            function_arn=config.function.arn,
            timeout_s=config.timeout_s,
            memory_mb=config.memory_mb,
            init_timeout_s=config.init_timeout_s,
            max_concurrency=config.managed_concurrency or 1,
            runtime_api_address=config.runtime_api_address,
            process_factory=self._artifacts.process_factory,
            extensions_dir=self._artifacts.extensions_dir(),
            snapstart=config.snapstart,
        )

    def _local_environment(self, spec: EnvironmentSpec, env_id: str) -> PooledEnvironment:
        early = None
        if spec.runtime_api_address == self.config.runtime_api_address:  # the configured port
            early, self._early_runtime = self._early_runtime, None
        telemetry = self._telemetry_hub(env_id)
        return Environment(
            spec,
            env_id,
            self.on_output,
            prestarted=early,
            telemetry=telemetry,
            restore_listener=self._logs,
        )

    def _telemetry_hub(self, env_id: str) -> TelemetryHub:
        """The Telemetry/Logs APIs of environment ``env_id``: its registered extensions subscribe
        (``extension_lookup``, when given, replaces that for tests)."""
        from lambdarig.rie_server.choices import LogFormat
        from lambdarig.rie_server.telemetry.hub import FunctionFacts, TelemetryHub

        config = self.config
        json_format = config.log_format is LogFormat.JSON
        function = config.function
        facts = FunctionFacts(function.name, function.version, config.memory_mb, json_format)
        hub = TelemetryHub(facts, self._extension_lookup)
        self._logs.telemetry[env_id] = hub
        return hub

    def on_output(self, env_id: str, line: str) -> None:
        """One line of an environment's stdout/stderr: printed, and kept for Tail."""
        self._logs.output(env_id, line)

    @property
    def pool(self) -> EnvironmentPool:
        """The environments (raises ``RuntimeError`` before ``start``)."""
        if self._pool_or_none is None:
            raise RuntimeError("expected start() before using the function's pool")
        return self._pool_or_none

    async def start(self) -> None:
        """Lay out the layers, then pre-warm (unless lazy). Raises ``EmulatorError`` if a runtime
        cannot be spawned at all; init failures do not raise. The caller stops on failure."""
        config = self.config
        await self._artifacts.prepare()
        self._pool_or_none = EnvironmentPool(
            self._spec(),
            self._factory,
            self._logs,
            max_environments=config.max_concurrency,
            per_environment=config.managed_concurrency or 1,
        )
        plan = warm_plan(config)
        if plan.count:
            await self.pool.prewarm(plan.count, plan.initialization_type)

    def cancel_layouts(self) -> None:
        """Stop a layer layout in progress and refuse new ones (the first step of stopping)."""
        self._artifacts.cancel()

    async def stop(self, grace_s: float = 2.0) -> None:
        """Drop queued Event invocations (and their pending retries), stop every environment,
        remove the artifacts. Idempotent."""
        self._artifacts.cancel()
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._pool_or_none is not None:
            await self._pool_or_none.stop(grace_s)
        hubs, self._logs.telemetry = list(self._logs.telemetry.values()), {}
        for hub in hubs:  # after the environments: their last events go out too (bounded)
            await hub.close()
        early, self._early_runtime = self._early_runtime, None
        if early is not None:  # never used (e.g. another environment factory)
            early.discard()
        await self._artifacts.close()

    async def code_changed(self, changed: list[Path]) -> None:
        """``--watch``: print the notice, lay the layers out again if one changed, then retire
        every environment and pre-warm new ones from the new code (``watch.reinitialise``)."""
        print(change_notice(changed), file=sys.stderr, flush=True)
        layers = [Path(layer).resolve() for layer in self.config.layers]
        if any(path == layer or layer in path.parents for path in changed for layer in layers):
            try:
                await self._artifacts.relayout()
            except LayoutCancelled:
                return  # the emulator is stopping
            self.pool.use_spec(self._spec())  # no await from here to retire's swap
        await reinitialise(self.pool, warm_plan(self.config))

    async def run(
        self, call: proto.InvokeCall, *, streamed: bool = False
    ) -> proto.HttpResponse | ReplyStream:
        """Run a validated Invoke API call: ``DryRun`` and ``Event`` are answered at once (an
        ``Event`` runs in the background), a ``RequestResponse`` when its invocation ends;
        ``streamed``: an ``InvokeWithResponseStream`` call, answered as the chunks arrive."""
        function = self.config.function
        buffered = streaming.Buffered()  # a streaming function's response, for a plain invoke
        request = InvokeRequest(
            on_stream=buffered.take,
            request_id=call.request_id,  # the caller's X-Amzn-RequestId when it is a UUID
            payload=call.payload,
            trace_id=call.trace_id,
            client_context=call.client_context,
            tenant_id=call.tenant_id,
            invoked_function_arn=call.invoked_function_arn,
        )
        if streamed:
            return await self._invoke_streamed(call, request)
        if call.invocation_type is proto.InvocationType.DRY_RUN:
            return proto.accepted(call, function)
        if call.invocation_type is proto.InvocationType.EVENT:
            self._queue(dataclasses.replace(request, on_stream=None))
            return proto.accepted(call, function)
        return await self._invoke_sync(call, request, buffered)

    async def _invoke_sync(
        self, call: proto.InvokeCall, request: InvokeRequest, buffered: streaming.Buffered
    ) -> proto.HttpResponse:
        if call.tail:
            self._logs.wanted.add(request.request_id)
        try:
            outcome = await buffered.outcome(await self.pool.invoke(request))
        except Throttled:
            return proto.throttled(request.request_id)
        except (EmulatorError, OSError) as exc:
            # The emulator could not provide an environment (e.g. a Runtime API port in use).
            return proto.service_error(500, invoke_api.ERROR_SERVICE, str(exc), request.request_id)
        finally:
            self._logs.wanted.discard(request.request_id)
        tail = self._logs.tails.pop(request.request_id, None)
        config = self.config
        answer = proto.render_outcome(
            call, outcome, config.function, config.compat, config.timeout_s, tail
        )
        return buffered.typed(answer)

    async def _invoke_streamed(
        self, call: proto.InvokeCall, request: InvokeRequest
    ) -> proto.HttpResponse | ReplyStream:
        """``InvokeWithResponseStream``: the function's chunks as event-stream events."""
        if call.invocation_type is proto.InvocationType.EVENT:
            message = streaming.MESSAGE_STREAM_INVOCATION_TYPE
            return proto.service_error(
                400, invoke_api.ERROR_INVALID_PARAMETER_VALUE, message, call.request_id
            )
        if call.invocation_type is proto.InvocationType.DRY_RUN:
            return proto.accepted(call, self.config.function)
        if call.tail:
            self._logs.wanted.add(request.request_id)
        try:
            outcome, stream = await streaming.start(self.pool.invoke, request)
        except Throttled:
            self._logs.wanted.discard(request.request_id)
            return proto.throttled(request.request_id)
        except (EmulatorError, OSError) as exc:
            self._logs.wanted.discard(request.request_id)
            return proto.service_error(500, invoke_api.ERROR_SERVICE, str(exc), request.request_id)
        headers = (
            ("Content-Type", CONTENT_TYPE_EVENT_STREAM),
            (invoke_api.HEADER_REQUEST_ID, call.request_id),
            (invoke_api.HEADER_EXECUTED_VERSION, self.config.function.version),
        )
        complete = functools.partial(self._invoke_complete, request.request_id)
        if stream is None:
            return proto.HttpResponse(200, headers, streaming.events_of(outcome.result(), complete))
        reply = ReplyStream(200, headers)
        relay = streaming.relay(reply, stream, outcome, complete, self.config.stream_throttle)
        task = asyncio.ensure_future(relay)
        self._relays.add(task)
        task.add_done_callback(self._relays.discard)
        return reply

    def _invoke_complete(self, request_id: str, outcome: InvokeOutcome) -> bytes:
        """The ``InvokeComplete`` event that ends a streamed answer (with the Tail, if asked)."""
        self._logs.wanted.discard(request_id)
        tail = self._logs.tails.pop(request_id, None)
        return streaming.complete_event(outcome, tail)

    async def invoke(self, payload: bytes, *, request_id: str | None = None) -> InvokeOutcome:
        """One synchronous invocation with ``payload`` (an event's JSON bytes), as the HTTP front
        makes it: the outcome, whatever the function did. Raises ``Throttled`` when every
        environment is busy at ``max_concurrency``, ``EmulatorError``/``OSError`` when no
        environment could be provided."""
        request = InvokeRequest(
            request_id=request_id or ids.uuid4(), payload=payload, trace_id=new_trace_id()
        )
        return await self.pool.invoke(request)

    def _queue(self, request: InvokeRequest) -> None:
        """Run an Event invocation in the background once a slot is free; a failed attempt is
        retried after ``async_retry_delays`` (``async_invocations``), then ``on_event_done``."""
        task = asyncio.ensure_future(self._run_event(request))
        self._background.add(task)
        task.add_done_callback(self._background_done)

    async def _run_event(self, request: InvokeRequest) -> EventResult:
        config = self.config
        delays = config.async_retry_delays[: config.async_max_retries]
        clock = self._clock
        result = await run_event(
            self._invoke_waiting,
            request,
            delays,
            max_age_s=config.async_max_age_s,
            clock=lambda: clock().timestamp(),
        )
        if self._on_event_done is not None:
            await self._on_event_done(request, result)
        return result

    @property
    def pending_events(self) -> int:
        """Event invocations still running or waiting for a retry."""
        return len(self._background)

    def _invoke_waiting(self, request: InvokeRequest) -> Awaitable[InvokeOutcome]:
        return self.pool.invoke(request, wait=True)

    def _background_done(self, task: asyncio.Future[EventResult]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            line = f"lambdarig-rie: Event invocation failed: {printable(str(task.exception()))}"
            self._logs.output("emulator", line)
