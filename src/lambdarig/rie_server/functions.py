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
import functools
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TextIO

from lambdarig import invoke_api
from lambdarig.rie_server import ids
from lambdarig.rie_server.artifacts import Artifacts
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.environments.environment import (
    Environment,
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
)
from lambdarig.rie_server.environments.pool import (
    EnvironmentFactory,
    EnvironmentPool,
    PooledEnvironment,
    warm_plan,
)
from lambdarig.rie_server.errors import EmulatorError, LayoutCancelled, Throttled
from lambdarig.rie_server.function_logs import Clock, FunctionLogs, LabelledWriter, utc_now
from lambdarig.rie_server.http.streams import ReplyStream
from lambdarig.rie_server.invoke import protocol as proto
from lambdarig.rie_server.invoke import streaming
from lambdarig.rie_server.invoke.event_queue import EventQueue
from lambdarig.rie_server.invoke.names import executed_version
from lambdarig.rie_server.platform_logs import LogWriter, PlatformLogFormatter
from lambdarig.rie_server.telemetry.on_demand import OnDemandTelemetry

if TYPE_CHECKING:
    from pathlib import Path

    from lambdarig.rie_server.environments.spawn import PrestartedRuntime
    from lambdarig.rie_server.invoke.async_invocations import EventResult
    from lambdarig.rie_server.runtime.streaming import ResponseStream
    from lambdarig.rie_server.telemetry.hub import Clock as HubClock
    from lambdarig.rie_server.telemetry.hub import TelemetryHub
    from lambdarig.rie_server.telemetry.subscription import ExtensionLookup
    from lambdarig.rie_server.tracing.daemon import Tracer

# Told how each Event invocation ended (the project's destinations).
EventDone = Callable[[InvokeRequest, "EventResult"], Awaitable[None]]


class FunctionHost:
    """One function: its environments, artifacts, logs and ``Event`` queue.

    ``environment_factory`` builds each execution environment (default: ``Environment``, a local
    process group); ``output`` receives runtime output and platform lines (default stdout), every
    line prefixed by ``[label] `` when a label is given; ``early_runtime``: the first runtime
    ``fast_start.prestart`` opened before the loop (for the configured Runtime API address);
    ``extension_lookup`` (an extension identifier -> its name), for tests, replaces the
    environments' own Extensions API as the judge of who may subscribe to the Telemetry and Logs
    APIs. ``throttle_reason`` is the ``Reason`` of its 429s past ``max_concurrency``
    (``throttled.throttle_reason``: the function's reserved concurrency, or the account's limit).
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
        throttle_reason: str = invoke_api.THROTTLE_REASON_CONCURRENT,
    ) -> None:
        self.config = config
        self._throttle_reason = throttle_reason
        self._extension_lookup = extension_lookup
        self._clock = clock
        self._on_event_done = on_event_done
        formatter = PlatformLogFormatter(
            config.log_format, config.memory_mb, config.function.version
        )
        writer = LogWriter(output) if label is None else LabelledWriter(label, output)
        self._logs = FunctionLogs(formatter, writer, clock)
        self._logs.function_name = config.function.name
        self._factory = environment_factory or self._local_environment
        self._artifacts = Artifacts(config)
        self._pool_or_none: EnvironmentPool | None = None
        self._early_runtime = early_runtime
        self._events = EventQueue(self._run_event, functools.partial(self.on_output, "emulator"))
        self._relays: set[asyncio.Future[None]] = set()  # streamed answers being sent
        self._tracer: Tracer | None = None  # active tracing (X-Ray), set up by start()

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
            init_caching=config.enable_init_caching,
        )

    def _local_environment(self, spec: EnvironmentSpec, env_id: str) -> PooledEnvironment:
        early = None
        if spec.runtime_api_address == self.config.runtime_api_address:  # the configured port
            early, self._early_runtime = self._early_runtime, None
        telemetry = self._telemetry(env_id)
        return Environment(
            spec,
            env_id,
            self.on_output,
            prestarted=early,
            telemetry=telemetry,
            restore_listener=self._logs,
        )

    def _telemetry(self, env_id: str) -> OnDemandTelemetry:
        """The Telemetry/Logs APIs of environment ``env_id``, its hub made on first need
        (``telemetry.on_demand``): its registered extensions subscribe (``extension_lookup``,
        when given, replaces that for tests)."""
        telemetry = OnDemandTelemetry(self._new_hub)
        self._logs.telemetry[env_id] = telemetry
        return telemetry

    def _new_hub(self, clock: HubClock) -> TelemetryHub:
        """A ``TelemetryHub`` for this function (``OnDemandTelemetry``'s ``create``)."""
        from lambdarig.rie_server.choices import LogFormat
        from lambdarig.rie_server.telemetry.hub import FunctionFacts, TelemetryHub

        config = self.config
        json_format = config.log_format is LogFormat.JSON
        function = config.function
        facts = FunctionFacts(function.name, function.version, config.memory_mb, json_format)
        return TelemetryHub(facts, self._extension_lookup, clock)

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
        await self._start_tracing()
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

    async def _start_tracing(self) -> None:
        from lambdarig.rie_server.choices import Tracing

        config = self.config
        if config.tracing is not Tracing.ACTIVE:
            return
        from lambdarig.rie_server.config import parse_address
        from lambdarig.rie_server.tracing.daemon import DaemonSender, Tracer
        from lambdarig.rie_server.tracing.segments import Function

        identity = config.function
        function = Function(identity.name, identity.arn, identity.account)
        host, port = parse_address(config.xray_daemon_address, "--xray-daemon-address")
        self._tracer = Tracer(function, DaemonSender(host, port))
        await self._tracer.open()

    def new_trace_id(self) -> str:
        """The trace header of an invoke that came without (a valid) one: with active tracing a
        fresh ``Root`` left for the tracer to sample, else ``Sampled=0`` (not traced)."""
        if self._tracer is not None:
            return self._tracer.new_trace_id()
        return ids.new_trace_id()

    def _pool_invoke(
        self, request: InvokeRequest, *, wait: bool = False
    ) -> Awaitable[InvokeOutcome]:
        """``pool.invoke``, traced under active tracing."""
        if self._tracer is None:
            return self.pool.invoke(request, wait=wait)
        return self._tracer.traced(self.pool.invoke, request, wait=wait)

    def cancel_layouts(self) -> None:
        """Stop a layer layout in progress and refuse new ones (the first step of stopping)."""
        self._artifacts.cancel()

    async def stop(self, grace_s: float = 2.0) -> None:
        """Drop queued Event invocations (and their pending retries), stop every environment,
        remove the artifacts. Idempotent."""
        self._artifacts.cancel()
        await self._events.cancel()
        if self._pool_or_none is not None:
            await self._pool_or_none.stop(grace_s)
        hubs, self._logs.telemetry = list(self._logs.telemetry.values()), {}
        for hub in hubs:  # after the environments: their last events go out too (bounded)
            await hub.close()
        tracer, self._tracer = self._tracer, None
        if tracer is not None:  # segments still waiting for extensions are not sent
            tracer.close()
        early, self._early_runtime = self._early_runtime, None
        if early is not None:  # never used (e.g. another environment factory)
            early.discard()
        await self._artifacts.close()

    async def code_changed(self, changed: list[Path]) -> None:
        """``--watch``: print the notice, lay the layers out again if one changed, then retire
        every environment and pre-warm new ones from the new code (``watch.reinitialise``)."""
        # Only ``--watch`` calls this: the watcher (and ``pathlib``) stay off the common path.
        from pathlib import Path

        from lambdarig.rie_server.watch import change_notice, reinitialise

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
            self._events.put(dataclasses.replace(request, on_stream=None))
            return proto.accepted(call, function)
        return await self._invoke_sync(call, request, buffered)

    async def _invoke_sync(
        self, call: proto.InvokeCall, request: InvokeRequest, buffered: streaming.Buffered
    ) -> proto.HttpResponse:
        if call.tail:
            self._logs.wanted.add(request.request_id)
        try:
            outcome = await self._pool_invoke(request)
            if buffered.streamed:  # else no coroutine to make and run for nothing
                outcome = await buffered.outcome(outcome)
        except Throttled:
            return proto.throttled(request.request_id, self._throttle_reason)
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
            outcome, stream = await streaming.start(self._pool_invoke, request)
        except Throttled:
            self._logs.wanted.discard(request.request_id)
            return proto.throttled(request.request_id, self._throttle_reason)
        except (EmulatorError, OSError) as exc:
            self._logs.wanted.discard(request.request_id)
            return proto.service_error(500, invoke_api.ERROR_SERVICE, str(exc), request.request_id)
        from lambdarig.rie_server.invoke.event_stream import CONTENT_TYPE_EVENT_STREAM

        headers = (
            ("Content-Type", CONTENT_TYPE_EVENT_STREAM),
            (invoke_api.HEADER_REQUEST_ID, call.request_id),
            (
                invoke_api.HEADER_EXECUTED_VERSION,
                executed_version(call.invoked_function_arn, self.config.function),
            ),
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
            request_id=request_id or ids.uuid4(), payload=payload, trace_id=self.new_trace_id()
        )
        return await self._pool_invoke(request)

    async def invoke_streaming(
        self, payload: bytes
    ) -> tuple[asyncio.Future[InvokeOutcome], ResponseStream | None]:
        """One synchronous invocation with ``payload`` whose function may stream (a
        ``RESPONSE_STREAM`` Function URL): returns once it streams (the outcome and the stream)
        or ends (the outcome and ``None``). Raises as ``invoke``."""
        request = InvokeRequest(
            request_id=ids.uuid4(), payload=payload, trace_id=ids.new_trace_id()
        )
        return await streaming.start(self.pool.invoke, request)

    async def _run_event(self, request: InvokeRequest) -> EventResult:
        """One Event invocation (``EventQueue``'s attempt): run once a slot is free, a failed
        attempt retried after ``async_retry_delays`` (``async_invocations``), then
        ``on_event_done``."""
        # Only Event invocations need it: an emulator that never gets one never loads it.
        from lambdarig.rie_server.invoke.async_invocations import run_event

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
        return self._events.pending

    def _invoke_waiting(self, request: InvokeRequest) -> Awaitable[InvokeOutcome]:
        return self._pool_invoke(request, wait=True)
