"""One environment's Telemetry and Logs APIs, created on first need: ``OnDemandTelemetry``.

Most environments never see an extension: their emulator should not load the subscription
parsing, the events and the delivery behind ``hub.TelemetryHub``. So the environment (and its
``FunctionLogs``, its Runtime API server) talk to an ``OnDemandTelemetry``, and the hub is made
(``create``) only when one of its APIs is needed: an extension registered (the
``platform.extension`` event), or a ``PUT`` arrived on the Telemetry or Logs API (its answer,
whatever it is, comes from the hub as before).

A hub made late must still know what a hub made at the start knew: the current init's start and
the lines written since (its backlog for a subscriber that subscribes during the init, bounded
by ``MAX_BACKLOG``), and the start times of the invocations in flight. Until the hub exists
these are kept here, as they were told, and replayed to the new hub with their own times (the
hub's clock gives the replayed time while replaying). Nothing else can reach a subscriber, since
none exists before the hub. This module imports no part of the Telemetry API at run time, and
keeps times as seconds since the epoch: ``datetime`` is loaded with the hub, not before.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Callable, NamedTuple

from lambdarig.rie_server.telemetry import MAX_BACKLOG

if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping

    from lambdarig.rie_server.environments.outcomes import InvokeOutcome, InvokeRequest
    from lambdarig.rie_server.runtime.protocol import Reply, Route
    from lambdarig.rie_server.telemetry.hub import Clock, Named, TelemetryHub


class _Told(NamedTuple):
    """One call made while no hub existed, kept to be replayed: an output line (``request`` is
    ``None``) or an invocation's start."""

    at: float  # seconds since the epoch
    line: str
    category: str
    request: InvokeRequest | None


class OnDemandTelemetry:
    """The Telemetry/Logs APIs of one environment; the ``TelemetryHub`` is made by ``create``
    (given the clock it must use) on first need (``hub``). Every method is the hub's: delegated
    once it exists, kept (or dropped, when no subscriber could ever see it) before.
    ``clock``: seconds since the epoch, the time of what is kept and of the hub's clock (UTC).
    Runs on the event loop.
    """

    def __init__(
        self, create: Callable[[Clock], TelemetryHub], clock: Callable[[], float] = time.time
    ) -> None:
        self._create = create
        self._clock = clock
        self._hub: TelemetryHub | None = None
        self._lookup: Callable[[str], Named | None] | None = None
        self._replaying: float | None = None  # the time the hub's clock gives
        # Kept until the hub exists: the current init's (time, type, phase) and what followed it
        self._init: tuple[float, str, str] | None = None
        self._since_init: deque[_Told] = deque(maxlen=MAX_BACKLOG)
        self._starts: dict[str, _Told] = {}  # the invocations in flight, by request id

    @property
    def created(self) -> bool:
        """Whether the hub exists (an extension registered or a subscription request came)."""
        return self._hub is not None

    def hub(self) -> TelemetryHub:
        """The hub: made now if it was not, and told what happened so far."""
        hub = self._hub
        if hub is not None:
            return hub
        hub = self._hub = self._create(self._now)
        if self._lookup is not None:
            hub.use_extensions(self._lookup)
        in_backlog = {told.request.request_id for told in self._since_init if told.request}
        for told in self._starts.values():
            if told.request is not None and told.request.request_id not in in_backlog:
                self._replay(told, hub)
        if self._init is not None:
            at, initialization_type, phase = self._init
            self._replaying = at
            hub.init_started(initialization_type, phase)
            for told in self._since_init:
                self._replay(told, hub)
        self._replaying, self._init, self._starts = None, None, {}
        self._since_init.clear()
        return hub

    def _now(self) -> datetime.datetime:
        import datetime  # the hub exists: it loaded datetime already

        replaying = self._replaying
        at = self._clock() if replaying is None else replaying
        return datetime.datetime.fromtimestamp(at, datetime.timezone.utc)

    def _replay(self, told: _Told, hub: TelemetryHub) -> None:
        self._replaying = told.at
        if told.request is None:
            hub.output(told.line, told.category)
        else:
            hub.invocation_started(told.request)

    # --- what makes the hub ----------------------------------------------------------------------

    def subscribe(self, route: Route, headers: Mapping[str, str], body: bytes) -> Reply:
        """A ``PUT`` on the Telemetry or Logs API (``TelemetryHub.subscribe``)."""
        return self.hub().subscribe(route, headers, body)

    def extension_registered(self, name: str, event_types: list[str]) -> None:
        """An extension registered (``TelemetryHub.extension_registered``)."""
        self.hub().extension_registered(name, event_types)

    # --- kept until then ------------------------------------------------------------------------

    def use_extensions(self, lookup: Callable[[str], Named | None]) -> None:
        """The current process's extensions (``TelemetryHub.use_extensions``)."""
        self._lookup = lookup
        if self._hub is not None:
            self._hub.use_extensions(lookup)

    def init_started(self, initialization_type: str, phase: str = "init") -> None:
        if self._hub is not None:
            self._hub.init_started(initialization_type, phase)
            return
        self._init = (self._clock(), initialization_type, phase)
        self._since_init.clear()

    def init_finished(
        self, outcome: InvokeOutcome | None, init_ms: float, phase: str = "init"
    ) -> None:
        if self._hub is not None:
            self._hub.init_finished(outcome, init_ms, phase)
            return
        self._init = None
        self._since_init.clear()

    def restore_started(self) -> None:
        if self._hub is not None:  # else: outside an init, nobody to tell
            self._hub.restore_started()

    def restore_finished(self, duration_ms: float, error_type: str | None) -> None:
        if self._hub is not None:
            self._hub.restore_finished(duration_ms, error_type)

    def invocation_started(self, request: InvokeRequest) -> None:
        if self._hub is not None:
            self._hub.invocation_started(request)
            return
        told = _Told(self._clock(), "", "", request)
        self._starts[request.request_id] = told
        if self._init is not None:
            self._since_init.append(told)

    def invocation_finished(self, request: InvokeRequest, outcome: InvokeOutcome) -> None:
        if self._hub is not None:
            self._hub.invocation_finished(request, outcome)
            return
        self._starts.pop(request.request_id, None)

    def invocation_abandoned(self, request: InvokeRequest) -> None:
        if self._hub is not None:
            self._hub.invocation_abandoned(request)
            return
        self._starts.pop(request.request_id, None)

    def output(self, line: str, category: str = "function") -> None:
        if self._hub is not None:
            self._hub.output(line, category)
        elif self._init is not None:  # outside an init, nobody to tell
            self._since_init.append(_Told(self._clock(), line, category, None))

    async def close(self) -> None:
        """``TelemetryHub.close``, if it was made."""
        hub, self._hub = self._hub, None
        self._init, self._starts = None, {}
        self._since_init.clear()
        if hub is not None:
            await hub.close()
