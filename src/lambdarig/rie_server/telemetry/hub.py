"""One environment's Telemetry API and Logs API: answers the ``PUT`` subscriptions arriving on its
Runtime API socket and turns what happens in the environment (init, invokes, output lines) into
events for its subscribers.

Events of the current init (``platform.initStart`` and the init's log lines) are kept, bounded,
and replayed to a subscriber that subscribes during that init, as Lambda delivers them to
extensions that subscribe right after registering. Outside an init, with nobody subscribed, an
output line or an invocation builds no event (nobody would receive it): the warm path of a
function without extensions pays one test. Without an ``ExtensionLookup`` (no Extensions API to
say who may subscribe) both APIs answer 202 ``*.NotSupported``, as aws-lambda-rie does.
"""

from __future__ import annotations

import datetime
from collections import deque
from collections.abc import Mapping
from typing import Callable, NamedTuple, Protocol

from lambdarig.rie_server.environments.outcomes import InvokeOutcome, InvokeRequest, OutcomeKind
from lambdarig.rie_server.runtime.protocol import Reply, Route, not_supported
from lambdarig.rie_server.telemetry import MAX_BACKLOG, events, subscription
from lambdarig.rie_server.telemetry.dispatch import LOOPBACK, Subscriber
from lambdarig.rie_server.telemetry.subscription import Api, ExtensionLookup
from lambdarig.runtime_api import INIT_ON_DEMAND

Clock = Callable[[], datetime.datetime]


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class FunctionFacts(NamedTuple):
    """What the events say about the function."""

    name: str
    version: str
    memory_mb: int
    json_format: bool = False


class Named(Protocol):
    """A registered extension, as far as subscriptions care."""

    name: str


def _name_of(extension: Named | None) -> str | None:
    return None if extension is None else extension.name


class TelemetryHub:
    """Subscriptions and event fan-out for one environment. Runs on the event loop."""

    def __init__(
        self,
        facts: FunctionFacts,
        lookup: ExtensionLookup | None,
        clock: Clock = _utc_now,
        loopback: str = LOOPBACK,
    ) -> None:
        self._facts = facts
        self._lookup = lookup
        self._lookup_given = lookup is not None
        self._clock = clock
        self._loopback = loopback
        self._subscribers: dict[tuple[str, Api], Subscriber] = {}
        self._backlog: deque[events.Event] = deque(maxlen=MAX_BACKLOG)
        self._in_init = False
        self._init_type = INIT_ON_DEMAND
        self._init_started = clock()
        self._starts: dict[str, datetime.datetime] = {}
        self._retired: list[Subscriber] = []

    @property
    def subscribers(self) -> list[Subscriber]:
        return list(self._subscribers.values())

    def use_extensions(self, lookup: Callable[[str], Named | None]) -> None:
        """Subscribers are the extensions registered with the environment's current process
        (``extensions.backend.ExtensionsApi.lookup``); a lookup given at construction wins."""
        if not self._lookup_given:
            self._lookup = lambda identifier: _name_of(lookup(identifier))

    # --- the PUT endpoints -----------------------------------------------------------------------

    def subscribe(self, route: Route, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer ``PUT /2022-07-01/telemetry`` or ``PUT /2020-08-15/logs`` (``Route.LOGS``)."""
        if self._lookup is None:
            return not_supported(route)
        api = Api.TELEMETRY if route is Route.TELEMETRY else Api.LOGS
        name = subscription.identify(headers, self._lookup)
        if isinstance(name, Reply):
            return name
        parsed = subscription.parse(api, name, body)
        if isinstance(parsed, Reply):
            return parsed
        old = self._subscribers.pop((name, api), None)
        if old is not None:
            old.retire()
            self._retired.append(old)
        subscriber = Subscriber(parsed, self._clock, self._loopback)
        self._subscribers[(name, api)] = subscriber
        for event in self._backlog:
            subscriber.offer(event)
        types = [kind for kind in subscription.CATEGORIES if kind in parsed.types]
        self.publish(events.subscription(self._clock(), api, name, types))
        return subscription.subscribed()

    # --- what happens in the environment -------------------------------------------------------

    @property
    def listening(self) -> bool:
        """Someone would receive an event now: a subscriber, or the init's backlog."""
        return self._in_init or bool(self._subscribers)

    def publish(self, event: events.Event) -> None:
        """Hand ``event`` to every subscriber (each filters by its types and API)."""
        if self._in_init:
            self._backlog.append(event)
        for subscriber in self._subscribers.values():
            subscriber.offer(event)

    def init_started(self, initialization_type: str, phase: str = "init") -> None:
        self._in_init, self._init_type = True, initialization_type
        self._backlog.clear()
        self._init_started = now = self._clock()
        facts = self._facts
        self.publish(
            events.init_start(
                now, initialization_type, phase, facts.name, facts.version, facts.memory_mb
            )
        )

    def init_finished(
        self, outcome: InvokeOutcome | None, init_ms: float, phase: str = "init"
    ) -> None:
        """The init ended: ``outcome`` ``None`` = ready (first ``/next``), else its failure."""
        now = self._clock()
        kind = self._init_type
        self.publish(
            events.init_runtime_done(now, kind, phase, outcome, self._init_started, init_ms)
        )
        self.publish(events.init_report(now, kind, phase, outcome, init_ms))
        self._in_init = False

    def restore_started(self) -> None:
        """SnapStart: the environment is being restored (``platform.restoreStart``)."""
        now, facts = self._clock(), self._facts
        self.publish(events.restore_start(now, facts.name, facts.version, facts.memory_mb))

    def restore_finished(self, duration_ms: float, error_type: str | None) -> None:
        """The restore ended (``error_type`` ``None``: restored)."""
        now = self._clock()
        self.publish(events.restore_runtime_done(now, duration_ms, error_type))
        self.publish(events.restore_report(now, duration_ms, error_type))

    def invocation_started(self, request: InvokeRequest) -> None:
        now = self._clock()  # kept for a subscriber that arrives before the end (during an init)
        self._starts[request.request_id] = now
        if not self.listening:  # the warm path without subscribers: no event to build
            return
        self.publish(
            events.start(
                now, request.request_id, self._facts.version, request.trace_id, request.tenant_id
            )
        )

    def invocation_finished(self, request: InvokeRequest, outcome: InvokeOutcome) -> None:
        request_id = request.request_id
        if not self.listening:
            self._starts.pop(request_id, None)
            return
        now = self._clock()
        started = self._starts.pop(request_id, now)
        self.publish(events.runtime_done(now, request_id, outcome, started, request.trace_id))
        if outcome.kind is OutcomeKind.CRASH:
            self.publish(events.fault(now, request_id))
        self.publish(events.end(now, request_id))
        memory = self._facts.memory_mb
        self.publish(events.report(now, request_id, outcome, memory, request.trace_id))

    def invocation_abandoned(self, request: InvokeRequest) -> None:
        """The invocation ended without an outcome (the emulator could not run it): no events."""
        self._starts.pop(request.request_id, None)

    def output(self, line: str, category: str = "function") -> None:
        """One line the function (or an extension) wrote."""
        if not self.listening:
            return
        self.publish(events.log_record(self._clock(), category, line, self._facts.json_format))

    def extension_registered(self, name: str, event_types: list[str]) -> None:
        """``platform.extension`` for an extension that registered (for the Extensions API)."""
        self.publish(events.extension(self._clock(), name, "Ready", event_types))

    async def close(self) -> None:
        """Deliver what is buffered (bounded) and stop every subscriber."""
        subscribers = list(self._subscribers.values()) + self._retired
        self._subscribers, self._retired = {}, []
        for subscriber in subscribers:
            await subscriber.close()
