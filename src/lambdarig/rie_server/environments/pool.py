"""Execution environments for one function: created on demand, reused warm, capped, pre-warmed.

Two shapes, as the service has them:

* on-demand (default): up to ``max_environments`` environments of one concurrent invoke each; an
  invoke takes an idle initialised environment if there is one, else an idle one that still has to
  (re)initialise, else a new one; with none free and the cap reached it is throttled.
* Managed Instances (``per_environment > 1``): one environment serving that many concurrent
  ``/next`` polls.

Slots are reserved synchronously (no ``await`` between the check and the reservation), so two
concurrent invokes never share an environment. The pool knows nothing about HTTP or log formats;
it reports what happens through a ``PoolListener``. ``warm_plan``: which environments a function
pre-warms (at start-up, and again after a ``--watch`` code change).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from lambdarig.rie_server.environments.environment import (
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
)
from lambdarig.rie_server.errors import EnvironmentStopped, Throttled
from lambdarig.runtime_api import (
    ENV_INITIALIZATION_TYPE,
    INIT_MANAGED,
    INIT_ON_DEMAND,
    INIT_PROVISIONED,
)

if TYPE_CHECKING:
    from lambdarig.rie_server.config import EmulatorConfig

_log = logging.getLogger(__name__)


class WarmPlan:
    """Which environments the emulator creates up front: ``count`` of ``initialization_type``."""

    __slots__ = ("count", "initialization_type")

    def __init__(self, count: int, initialization_type: str) -> None:
        self.count = count
        self.initialization_type = initialization_type

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WarmPlan):
            return NotImplemented
        return (self.count, self.initialization_type) == (other.count, other.initialization_type)

    __hash__ = None  # type: ignore[assignment]  # compared by value, never hashed

    def __repr__(self) -> str:
        return f"WarmPlan({self.count!r}, {self.initialization_type!r})"


def warm_plan(config: EmulatorConfig) -> WarmPlan:
    """The environments pre-warmed at start-up and again after a code change: one Managed
    Instances environment, else ``provisioned`` ones, else one on-demand unless ``lazy_init``."""
    if config.managed_concurrency is not None:
        return WarmPlan(1, INIT_MANAGED)
    if config.provisioned:
        return WarmPlan(config.provisioned, INIT_PROVISIONED)
    return WarmPlan(0 if config.lazy_init else 1, INIT_ON_DEMAND)


class PooledEnvironment(Protocol):
    """The part of ``environment.Environment`` the pool uses (a fake stands in for it in tests)."""

    @property
    def initialized(self) -> bool: ...

    async def start(self) -> InvokeOutcome | None: ...

    async def invoke(self, request: InvokeRequest) -> InvokeOutcome: ...

    async def stop(self, grace_s: float = 2.0) -> None: ...


EnvironmentFactory = Callable[[EnvironmentSpec, str], PooledEnvironment]


class PoolListener(Protocol):
    """What the pool reports; called on the event loop, must not block."""

    def invocation_started(self, env_id: str, request: InvokeRequest) -> None: ...

    def invocation_finished(
        self, env_id: str, request: InvokeRequest, outcome: InvokeOutcome
    ) -> None: ...

    def init_failed(self, env_id: str, outcome: InvokeOutcome) -> None: ...

    def invocation_abandoned(self, env_id: str, request: InvokeRequest) -> None:
        """The invocation ended without an outcome (the environment raised: the emulator could
        not run it); nothing follows for it."""

    async def environment_stopped(self, env_id: str) -> None:
        """A retired environment has stopped; ``env_id`` is never used again."""


class _Slot:
    __slots__ = (
        "env_id",
        "environment",
        "capacity",
        "in_flight",
        "starting",
        "init_failure_reported",
        "configured_address",
        "retired",
        "init_unreported",
    )

    def __init__(
        self,
        env_id: str,
        environment: PooledEnvironment,
        capacity: int,
        configured_address: bool,  # holds the configured Runtime API address
    ) -> None:
        self.env_id = env_id
        self.environment = environment
        self.capacity = capacity
        self.configured_address = configured_address
        self.in_flight = 0
        self.starting: asyncio.Future[InvokeOutcome | None] | None = None
        self.init_failure_reported = False
        self.retired = False  # out of service (code changed): stops once its invocations end
        # Provisioned concurrency: the init ran ahead of any invoke, so (as on the service) the
        # first invoke's REPORT carries no Init Duration and is not billed for it.
        self.init_unreported = False


class EnvironmentPool:
    """Owns every environment of one function; ``stop()`` stops them all (idempotent)."""

    def __init__(
        self,
        spec: EnvironmentSpec,
        factory: EnvironmentFactory,
        listener: PoolListener,
        *,
        max_environments: int = 10,
        per_environment: int = 1,
    ) -> None:
        if max_environments < 1 or per_environment < 1:
            raise ValueError("expected max_environments >= 1 and per_environment >= 1")
        self._spec = spec
        self._factory = factory
        self._listener = listener
        self._max_environments = 1 if per_environment > 1 else max_environments
        self._per_environment = per_environment
        self._slots: list[_Slot] = []
        self._retiring: list[_Slot] = []  # retired, not yet stopped
        self._draining: set[asyncio.Future[None]] = set()
        self._created = 0
        self._freed_condition: asyncio.Condition | None = None
        self._waiting = 0  # invokes blocked in ``wait`` mode until a slot frees up
        self._stopped = False

    @property
    def _freed(self) -> asyncio.Condition:
        # Created on first use, inside the running loop (Python 3.9 binds it at construction).
        if self._freed_condition is None:
            self._freed_condition = asyncio.Condition()
        return self._freed_condition

    @property
    def capacity(self) -> int:
        """How many invokes may run at once."""
        return self._max_environments * self._per_environment

    @property
    def waiting(self) -> int:
        """Invokes blocked in ``wait`` mode until a slot frees up."""
        return self._waiting

    @property
    def in_flight(self) -> int:
        return sum(slot.in_flight for slot in self._slots)

    @property
    def environment_count(self) -> int:
        return len(self._slots)

    def use_spec(self, spec: EnvironmentSpec) -> None:
        """Create environments from ``spec`` from now on (existing ones keep theirs)."""
        self._spec = spec

    async def prewarm(self, count: int, initialization_type: str = INIT_ON_DEMAND) -> None:
        """Create and initialise ``count`` environments now (init failures go to the listener)."""
        count = min(count, self._max_environments - len(self._slots))
        slots = [self._new_slot(initialization_type) for _ in range(count)]
        for slot in slots:
            slot.init_unreported = initialization_type == INIT_PROVISIONED
        await asyncio.gather(*(self._ensure_started(slot) for slot in slots))

    async def invoke(self, request: InvokeRequest, *, wait: bool = False) -> InvokeOutcome:
        """Run ``request`` in a free environment; never raises for function failures.

        Raises ``Throttled`` when every slot is busy at the cap, unless ``wait`` (then it blocks
        until a slot frees up: the Event queue's behaviour); ``EnvironmentStopped`` after ``stop``.
        """
        if self._stopped:
            raise EnvironmentStopped("expected a running environment pool, got a stopped one")
        slot = self._reserve()
        while slot is None:
            if not wait:
                raise Throttled(
                    f"expected a free execution environment, got all {self.capacity} busy"
                )
            self._waiting += 1
            try:
                async with self._freed:
                    await self._freed.wait()
            finally:
                self._waiting -= 1
            if self._stopped:
                raise EnvironmentStopped("expected a running environment pool, got a stopped one")
            slot = self._reserve()
        try:
            await self._ensure_started(slot)
            self._listener.invocation_started(slot.env_id, request)
            try:
                outcome = await slot.environment.invoke(request)
            except BaseException:
                self._listener.invocation_abandoned(slot.env_id, request)
                raise
            if slot.init_unreported:
                slot.init_unreported = False
                outcome = dataclasses.replace(outcome, init_duration_ms=None)
            self._finished(slot.env_id, request, outcome)
            return outcome
        finally:
            slot.in_flight -= 1
            if slot.retired and slot.in_flight == 0 and not self._stopped:
                # In the background: this caller's answer must not wait for the process to exit.
                draining = asyncio.ensure_future(self._stop_retired(slot))
                self._draining.add(draining)
                draining.add_done_callback(self._drained)
            if self._waiting:  # only queued Event invocations wait for a slot
                async with self._freed:
                    self._freed.notify()

    def _finished(self, env_id: str, request: InvokeRequest, outcome: InvokeOutcome) -> None:
        """Report the invoke's end: now, or once its extensions finished it (``settled``: the
        caller's answer goes out first, REPORT counts the extensions' time)."""
        settled = outcome.settled
        if settled is None:
            self._listener.invocation_finished(env_id, request, outcome)
            return
        hide_init = outcome.init_duration_ms is None

        def report(done: asyncio.Future[InvokeOutcome]) -> None:
            final = outcome if done.cancelled() else done.result()
            if hide_init:
                final = dataclasses.replace(final, init_duration_ms=None)
            final = dataclasses.replace(final, settled=None)
            self._listener.invocation_finished(env_id, request, final)

        settled.add_done_callback(report)

    def _reserve(self) -> _Slot | None:
        free = [slot for slot in self._slots if slot.in_flight < slot.capacity]
        warm = [slot for slot in free if slot.environment.initialized]
        chosen: _Slot | None = (warm or free)[0] if free else None
        if chosen is None and len(self._slots) < self._max_environments and not self._stopped:
            chosen = self._new_slot(INIT_MANAGED if self._per_environment > 1 else INIT_ON_DEMAND)
        if chosen is not None:
            chosen.in_flight += 1
        return chosen

    def _new_slot(self, initialization_type: str) -> _Slot:
        # Ids are never reused: a retired environment's late output must not reach a new one's.
        self._created += 1
        env_id = f"env-{self._created}"
        # One environment at a time holds the configured Runtime API port; the others get :0.
        configured = not any(slot.configured_address for slot in (*self._slots, *self._retiring))
        environment = self._factory(self._spec_for(initialization_type, configured), env_id)
        slot = _Slot(env_id, environment, self._per_environment, configured_address=configured)
        self._slots.append(slot)
        return slot

    def _spec_for(self, initialization_type: str, configured_address: bool) -> EnvironmentSpec:
        env = dict(self._spec.env)
        env[ENV_INITIALIZATION_TYPE] = initialization_type
        address = self._spec.runtime_api_address
        if not configured_address:
            address = address.rpartition(":")[0] + ":0"
        return dataclasses.replace(self._spec, env=env, runtime_api_address=address)

    async def _ensure_started(self, slot: _Slot) -> None:
        """Start ``slot``'s environment once; concurrent callers share the one start."""
        if slot.starting is None:
            slot.starting = asyncio.ensure_future(slot.environment.start())
        starting = slot.starting
        outcome = starting.result() if starting.done() else await asyncio.shield(starting)
        if outcome is not None and not slot.init_failure_reported:
            slot.init_failure_reported = True
            self._listener.init_failed(slot.env_id, outcome)

    async def retire(self, grace_s: float = 2.0) -> int:
        """Take every environment out of service (the code changed): none gets another invoke;
        idle ones stop now, busy ones once their in-flight invocations end; the next invoke or
        ``prewarm`` creates fresh ones. Returns how many environments were retired."""
        retired, self._slots = self._slots, []
        for slot in retired:
            slot.retired = True
        self._retiring.extend(retired)
        async with self._freed:  # waiting Event invocations may now get a fresh environment
            self._freed.notify_all()
        idle = [slot for slot in retired if slot.in_flight == 0]
        await asyncio.gather(*(self._stop_retired(slot, grace_s) for slot in idle))
        return len(retired)

    async def _stop_retired(self, slot: _Slot, grace_s: float = 2.0) -> None:
        try:
            await slot.environment.stop(grace_s)
        finally:
            self._retiring.remove(slot)
            await self._listener.environment_stopped(slot.env_id)

    def _drained(self, task: asyncio.Future[None]) -> None:
        self._draining.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("stopping a retired environment failed: %s", task.exception())

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop every environment, retired ones included: SIGTERM, then SIGKILL after
        ``grace_s``. Idempotent."""
        self._stopped = True
        async with self._freed:
            self._freed.notify_all()
        slots = (*self._slots, *self._retiring)
        await asyncio.gather(*(slot.environment.stop(grace_s) for slot in slots))
        await asyncio.gather(*self._draining, return_exceptions=True)
