"""A project's functions behind one Invoke API: a ``FunctionHost`` per function (its own
environments, concurrency limit, artifacts and logs), the Invoke API across them (by name,
logical id or ARN, with ``$LATEST``, the published version or the alias as qualifier) and the
read-only control plane (``invoke.control``).

``Event`` invocations end with their function's destinations (``invoke.destinations``): a
function of the project is invoked asynchronously with the record, other ARNs go to ``send`` (the
harness's boto3 sender), or, without one, are logged as not delivered. With ``watch_paths`` in
their configuration, a change under a function's code or layers re-initialises that function only.

Lifecycle as ``Emulator``: ``start()`` starts every host (concurrently), then binds the Invoke API;
``stop()`` closes the listener, then stops every host. ``stop()`` is idempotent.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from lambdarig import invoke_api
from lambdarig.rie_server import ids
from lambdarig.rie_server.choices import FunctionIdentity
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.environments.environment import InvokeOutcome, InvokeRequest
from lambdarig.rie_server.errors import EmulatorError
from lambdarig.rie_server.function_logs import Clock, utc_now
from lambdarig.rie_server.functions import FunctionHost
from lambdarig.rie_server.http.streams import ReplyStream
from lambdarig.rie_server.invoke import control
from lambdarig.rie_server.invoke import protocol as proto
from lambdarig.rie_server.invoke.async_invocations import EventResult
from lambdarig.rie_server.invoke.destinations import Delivery, EventDestinations, Sender, deliveries
from lambdarig.rie_server.invoke.names import (
    Resolved,
    find_function,
    is_stream_path,
    resolve_among,
)
from lambdarig.rie_server.invoke.server import InvokeApiServer
from lambdarig.rie_server.runtime.streaming import ResponseStream
from lambdarig.rie_server.throttled import host_class, throttle_reason
from lambdarig.rie_server.watch import CodeWatcher

_log = logging.getLogger(__name__)


class UnknownFunction(EmulatorError):
    """The HTTP front named a function the project does not have."""


@dataclass(frozen=True)
class HostedFunction:
    """One function of the project: how to run it and what the control plane says of it.
    ``config.function`` is its identity (with its logical id and qualifiers)."""

    config: EmulatorConfig
    record: control.FunctionRecord
    logical_id: str
    destinations: EventDestinations = field(default_factory=EventDestinations)


class ProjectEmulator:
    """Serves ``functions`` on ``host:port`` (0 = ephemeral). Output lines are prefixed by the
    function's name when there is more than one function. ``send`` delivers destination messages
    outside the project; ``clock`` dates records and ages events (tests move it)."""

    def __init__(
        self,
        functions: Sequence[HostedFunction],
        host: str,
        port: int,
        *,
        output: TextIO | None = None,
        send: Sender | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if not functions:
            raise ValueError("expected at least one function, got none")
        self.functions = tuple(functions)
        several = len(functions) > 1
        self._send = send
        self._clock = clock
        self.hosts = [
            # Reserved concurrency 0: throttled, nothing is started for it (``throttled``).
            host_class(function.record.reserved_concurrency)(
                function.config,
                output=output,
                label=function.config.function.name if several else None,
                clock=clock,
                on_event_done=functools.partial(self._event_done, index),
                throttle_reason=throttle_reason(function.record.reserved_concurrency),
            )
            for index, function in enumerate(functions)
        ]
        self._identities = tuple(function.config.function for function in functions)
        self._records = [function.record for function in functions]
        self._by_name: dict[str, FunctionHost] = {}
        for function, function_host in zip(functions, self.hosts):
            self._by_name.setdefault(function.logical_id, function_host)
            self._by_name.setdefault(function.config.function.name, function_host)
        self._host = host
        self._server = InvokeApiServer(self.dispatch, host, port)
        self._watcher: CodeWatcher | None = None

    @property
    def invoke_url(self) -> str:
        return f"http://{self._host}:{self._server.port}"

    @property
    def identities(self) -> tuple[FunctionIdentity, ...]:
        return self._identities

    def host_for(self, name: str) -> FunctionHost:
        """The host of the function whose logical id or name is ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownFunction(f"expected a function of the project, got {name!r}") from None

    async def start(self) -> None:
        """Start every function, then listen. Raises as ``Emulator.start``; stops on failure."""
        try:
            await asyncio.gather(*(function_host.start() for function_host in self.hosts))
            await self._server.start()
            paths = {Path(path) for hosted in self.functions for path in hosted.config.watch_paths}
            if paths:
                self._watcher = CodeWatcher(sorted(paths), self._code_changed)
                await self._watcher.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self, grace_s: float = 2.0) -> None:
        for function_host in self.hosts:
            function_host.cancel_layouts()
        if self._watcher is not None:
            await self._watcher.stop()
        await self._server.stop()
        await asyncio.gather(*(function_host.stop(grace_s) for function_host in self.hosts))

    async def dispatch(self, raw: proto.RawRequest) -> proto.HttpResponse | ReplyStream:
        """Answer one Invoke API or control-plane request."""
        request_id = ids.uuid4()
        answer = control.answer(raw, self._records, request_id)
        if answer is not None:
            return answer
        qualifier = raw.query.get(invoke_api.QUERY_QUALIFIER)
        found = resolve_among(raw.method, raw.path, qualifier, self._identities)
        if not isinstance(found, Resolved):
            return proto.service_error(*found, request_id)
        function_host = self.hosts[found.index]
        identity = self._identities[found.index]
        call = proto.parse_invoke(
            raw,
            identity,
            proto.CompatMode.SERVICE,
            request_id,
            function_host.new_trace_id(),
            found.arn,
        )
        if isinstance(call, proto.HttpResponse):
            return call
        return await function_host.run(call, streamed=is_stream_path(raw.path))

    async def invoke(self, function: str, payload: bytes) -> InvokeOutcome:
        """The HTTP front's invoker: one synchronous invocation of ``function`` (logical id or
        name). Raises ``Throttled``, ``UnknownFunction``, ``EmulatorError``/``OSError``."""
        return await self.host_for(function).invoke(payload)

    async def invoke_streaming(
        self, function: str, payload: bytes
    ) -> tuple[asyncio.Future[InvokeOutcome], ResponseStream | None]:
        """The HTTP front's stream invoker (``RESPONSE_STREAM`` Function URLs): an invocation of
        ``function`` whose function may stream. Raises as ``invoke``."""
        return await self.host_for(function).invoke_streaming(payload)

    async def _code_changed(self, changed: list[Path]) -> None:
        """``--watch``: re-initialise the functions whose code or layers hold a changed path."""
        work = []
        for hosted, function_host in zip(self.functions, self.hosts):
            roots = [Path(path) for path in hosted.config.watch_paths]
            mine = [
                path
                for path in changed
                if any(path == root or root in path.parents for root in roots)
            ]
            if mine:
                work.append(function_host.code_changed(mine))
        await asyncio.gather(*work)

    async def _event_done(self, index: int, request: InvokeRequest, result: EventResult) -> None:
        """Send an ended ``Event`` invocation of function ``index`` to its destinations."""
        hosted = self.functions[index]
        if not hosted.destinations:
            return
        identity = self._identities[index]
        for delivery in deliveries(
            hosted.destinations,
            identity.arn,
            request.request_id,
            request.payload,
            result,
            self._clock(),
        ):
            await self._deliver(hosted.logical_id, delivery)

    async def _deliver(self, source: str, delivery: Delivery) -> None:
        arn = delivery.destination
        found = find_function(arn, None, self._identities) if _is_lambda(arn) else None
        if isinstance(found, Resolved):
            call = proto.InvokeCall(
                request_id=ids.uuid4(),
                invocation_type=proto.InvocationType.EVENT,
                tail=False,
                payload=delivery.body.encode("utf-8"),
                invoked_function_arn=found.arn,
                trace_id=self.hosts[found.index].new_trace_id(),
            )
            await self.hosts[found.index].run(call)
            return
        if self._send is None:
            _log.warning(
                "%s: %s %s not delivered to %s (give --aws-endpoint-url to send it)",
                source,
                delivery.kind,
                "event" if delivery.attributes else "record",
                delivery.destination,
            )
            return
        try:
            await self._send(delivery)
        except Exception as exc:  # the destination's failure is logged; serving goes on
            _log.warning(
                "%s: %s to %s failed: %s", source, delivery.kind, delivery.destination, exc
            )


def _is_lambda(arn: str) -> bool:
    return arn.split(":")[2:3] == ["lambda"]
