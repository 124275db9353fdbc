"""The Runtime API state machine, as data (sans-IO; the caller passes ``now_ms``).

Theory
------
A Lambda runtime walks through the states RAPID names in ``internal/lambda/core/states.go``
(aws-lambda-runtime-interface-emulator)::

    Started --/next--> Ready --invoke delivered--> Running --/response--> InvocationResponse
       |                 ^                            |                         |
       |                 |                            +--/error--> InvocationErrorResponse
       |                 |                                                  |   (response sent)
       |                 +------------------/next---- RuntimeResponseSentState <+
       +--/init/error--> InitError   (terminal: only a new process leaves it)

SnapStart (``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``, snapstart-runtime-hooks.html): init
ends with ``GET /restore/next`` instead of ``/next``::

    Started --/restore/next--> RestoreReady --platform restores--> Restoring --/next--> Ready
                                                                       |
                                                                       +--/restore/error-->
                                                                          RuntimeRestoreErrorState

Two kinds of machine use the one table below:

* the *runtime* machine of an environment (``Lifecycle.initial()``): ``Started`` until the first
  ``/next`` (init done) or ``/init/error``; then ``Ready`` for good (each later ``/next`` polls);
* one *invocation* machine per delivered event (``Lifecycle.for_invocation()``), born ``Ready``:
  ``deliver`` makes it ``Running``, a post moves it on. Posts are checked against the machine of
  the invocation they name, so in Managed Instances mode (N concurrent polls) one invocation's
  misbehaviour never moves another's state.

``RuntimeState`` owns both kinds for one runtime process, and every other fact the Runtime API
rules depend on (which invocation a single-concurrency ``/next`` re-delivers, which were handed
over, which timed out): it is the only holder of that state. ``generation`` keeps only the asyncio
side (the futures and the waiting polls) and asks ``RuntimeState`` for every verdict.

Invariants
----------
1. Every legal move is a row of ``TRANSITIONS``; anything else raises ``InvalidTransition`` whose
   names are the RAPID state names, so the 403 body reads exactly like the service's.
2. Each event has one nominal target (``EVENT_TARGET``), used in the error message even when the
   move is refused.
3. This module never reads the clock and does no I/O: ``now_ms`` is given, ``since_ms`` records it.
4. ``RuntimeState.post`` decides 400 (unknown request id), 403 (state), 410 (stale invocation
   id); the HTTP layer only renders its verdicts.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from typing import NamedTuple

from lambdarig import runtime_api
from lambdarig.rie_server.errors import InvalidTransition


class State(enum.Enum):
    """Runtime/invocation states; values are RAPID's names (they appear in 403 bodies)."""

    STARTED = "Started"
    READY = "Ready"
    RUNNING = "Running"
    INVOCATION_RESPONSE = "InvocationResponse"
    INVOCATION_ERROR_RESPONSE = "InvocationErrorResponse"
    RESPONSE_SENT = "RuntimeResponseSentState"
    INIT_ERROR = "InitError"
    RESTORE_READY = "RestoreReady"
    RESTORING = "Restoring"
    RESTORE_ERROR = "RuntimeRestoreErrorState"

    # Members are singletons compared by identity: hash them by identity too, in C. (Enum's own
    # ``__hash__`` is Python code; every ``TRANSITIONS`` lookup hashes a state and an event.)
    __hash__ = object.__hash__


class Event(enum.Enum):
    """What the runtime (or the platform, for ``DELIVER``/``RESPONSE_SENT``) did."""

    NEXT = "next"  # GET /runtime/invocation/next
    INIT_ERROR = "init_error"  # POST /runtime/init/error
    DELIVER = "deliver"  # platform handed an event to a waiting /next
    RESPONSE = "response"  # POST /runtime/invocation/{id}/response
    ERROR = "error"  # POST /runtime/invocation/{id}/error
    RESPONSE_SENT = "response_sent"  # platform forwarded the posted result
    RESTORE_NEXT = "restore_next"  # GET /runtime/restore/next (SnapStart: init is done)
    RESTORE = "restore"  # platform answered /restore/next: the snapshot was restored
    RESTORE_ERROR = "restore_error"  # POST /runtime/restore/error

    __hash__ = object.__hash__  # as ``State``'s


EVENT_TARGET: dict[Event, State] = {
    Event.NEXT: State.READY,
    Event.INIT_ERROR: State.INIT_ERROR,
    Event.DELIVER: State.RUNNING,
    Event.RESPONSE: State.INVOCATION_RESPONSE,
    Event.ERROR: State.INVOCATION_ERROR_RESPONSE,
    Event.RESPONSE_SENT: State.RESPONSE_SENT,
    Event.RESTORE_NEXT: State.RESTORE_READY,
    Event.RESTORE: State.RESTORING,
    Event.RESTORE_ERROR: State.RESTORE_ERROR,
}

TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.STARTED, Event.NEXT): State.READY,
    (State.STARTED, Event.INIT_ERROR): State.INIT_ERROR,
    (State.READY, Event.NEXT): State.READY,
    (State.READY, Event.DELIVER): State.RUNNING,
    # RAPID's Running.Ready() is a no-op: a /next before posting re-delivers the same event.
    (State.RUNNING, Event.NEXT): State.RUNNING,
    (State.RUNNING, Event.RESPONSE): State.INVOCATION_RESPONSE,
    (State.RUNNING, Event.ERROR): State.INVOCATION_ERROR_RESPONSE,
    (State.INVOCATION_RESPONSE, Event.RESPONSE_SENT): State.RESPONSE_SENT,
    (State.INVOCATION_ERROR_RESPONSE, Event.RESPONSE_SENT): State.RESPONSE_SENT,
    (State.RESPONSE_SENT, Event.NEXT): State.READY,
    (State.STARTED, Event.RESTORE_NEXT): State.RESTORE_READY,
    (State.RESTORE_READY, Event.RESTORE): State.RESTORING,
    (State.RESTORING, Event.NEXT): State.READY,
    (State.RESTORING, Event.RESTORE_ERROR): State.RESTORE_ERROR,
}

# Enum members read on every invoke, bound once: a member read off its class goes through the
# metaclass's attribute hook (``EnumType.__getattr__``), about five times a module global.
_READY, _RUNNING = State.READY, State.RUNNING
_NEXT, _DELIVER, _RESPONSE_SENT = Event.NEXT, Event.DELIVER, Event.RESPONSE_SENT


class Lifecycle:
    """One state machine instance: ``state`` and the ``now_ms`` at which it was entered."""

    __slots__ = ("state", "since_ms")

    def __init__(self, state: State, since_ms: int) -> None:
        self.state = state
        self.since_ms = since_ms

    @classmethod
    def initial(cls, now_ms: int) -> Lifecycle:
        """A fresh runtime process, not yet polled."""
        return cls(State.STARTED, now_ms)

    @classmethod
    def for_invocation(cls, now_ms: int) -> Lifecycle:
        """An invocation about to be delivered to a polling runtime."""
        return cls(_READY, now_ms)

    def apply(self, event: Event, now_ms: int) -> State:
        """Move on ``event``; raises ``InvalidTransition`` (state unchanged) when illegal."""
        target = TRANSITIONS.get((self.state, event))
        if target is None:
            raise InvalidTransition(self.state.value, EVENT_TARGET[event].value)
        if target is not self.state:
            self.since_ms = now_ms
        self.state = target
        return target


class Verdict(enum.Enum):
    """How ``RuntimeState.post`` judged a runtime's post for an invocation."""

    ACCEPTED = "accepted"
    UNKNOWN_REQUEST_ID = "unknown_request_id"  # 400 InvalidRequestID
    STALE_INVOCATION = "stale_invocation"  # 410 InvokeTimeout
    INVALID_TRANSITION = "invalid_transition"  # 403 InvalidStateTransition


_ACCEPTED = Verdict.ACCEPTED  # as _READY above


class PostResult(NamedTuple):
    """A verdict and, for ``INVALID_TRANSITION``, the refused move."""

    verdict: Verdict
    error: InvalidTransition | None = None
    invocation_id: str | None = None  # the invocation finished by an ACCEPTED post


class _Entry:
    __slots__ = ("invocation_id", "lifecycle", "expired")

    def __init__(self, invocation_id: str, lifecycle: Lifecycle) -> None:
        self.invocation_id = invocation_id
        self.lifecycle = lifecycle
        self.expired = False


class RuntimeState:
    """The Runtime API state of one runtime process: its own machine, and one machine per
    invocation it may still post for (those in flight plus the last ``keep`` finished ones).

    Invocations are keyed by request id; a newer invocation reusing a request id replaces the
    older entry, and a post that echoes the older ``Lambda-Runtime-Invocation-Id`` is then
    ``STALE_INVOCATION``, as is any post for an invocation that ``expire`` marked timed out.
    """

    def __init__(self, now_ms: int, max_concurrency: int = 1, keep: int = 64) -> None:
        self.runtime = Lifecycle.initial(now_ms)
        self.max_concurrency = max_concurrency
        self.keep = keep
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._running: runtime_api.Invocation | None = None  # the last one handed over
        self._delivered: set[str] = set()  # invocation ids handed to a /next, not yet withdrawn

    def next(self, now_ms: int) -> runtime_api.Invocation | None:
        """A ``/next``: ends init on the first one (raises ``InvalidTransition`` when polling is
        illegal). Returns the invocation to hand over again, when a single-concurrency runtime
        polls before posting (RAPID's ``Running.Ready()`` re-delivers the same event)."""
        self.runtime.apply(_NEXT, now_ms)
        running = self._running
        if self.max_concurrency == 1 and running is not None:
            if self.state_of(running.request_id) is _RUNNING:
                return running
        return None

    def init_error(self, now_ms: int) -> None:
        """``/init/error``; raises ``InvalidTransition`` once init is over."""
        self.runtime.apply(Event.INIT_ERROR, now_ms)

    def restore_next(self, now_ms: int) -> None:
        """``GET /restore/next``: init (and the before-snapshot hooks) are done; raises
        ``InvalidTransition`` unless the runtime is still initialising."""
        self.runtime.apply(Event.RESTORE_NEXT, now_ms)

    def restore(self, now_ms: int) -> None:
        """The platform restored the snapshot and answers the waiting ``/restore/next``."""
        self.runtime.apply(Event.RESTORE, now_ms)

    def restore_error(self, now_ms: int) -> None:
        """``POST /restore/error``; raises ``InvalidTransition`` outside the restore phase."""
        self.runtime.apply(Event.RESTORE_ERROR, now_ms)

    def deliver(self, invocation: runtime_api.Invocation, now_ms: int) -> None:
        """Record that ``invocation`` was handed to the runtime (``Ready`` -> ``Running``)."""
        request_id, invocation_id = invocation.request_id, invocation.invocation_id
        assert invocation_id is not None
        lifecycle = Lifecycle.for_invocation(now_ms)
        lifecycle.apply(_DELIVER, now_ms)
        self._entries.pop(request_id, None)
        self._entries[request_id] = _Entry(invocation_id, lifecycle)
        while len(self._entries) > self.keep:
            self._entries.popitem(last=False)
        self._delivered.add(invocation_id)
        self._running = invocation

    def withdraw(self, invocation_id: str) -> bool:
        """The front end is done with the invocation; returns whether a ``/next`` ever took it."""
        if invocation_id in self._delivered:
            self._delivered.discard(invocation_id)
            return True
        return False

    def state_of(self, request_id: str) -> State | None:
        """The state of ``request_id``'s invocation, or ``None`` if unknown."""
        entry = self._entries.get(request_id)
        return None if entry is None else entry.lifecycle.state

    def post(
        self, request_id: str, invocation_id: str | None, event: Event, now_ms: int
    ) -> PostResult:
        """Judge a ``/response`` or ``/error`` post; on ``ACCEPTED`` the result is recorded sent.

        ``invocation_id`` is the echoed header, ``None`` when absent (validation skipped).
        """
        entry = self._entries.get(request_id)
        if entry is None:
            return PostResult(Verdict.UNKNOWN_REQUEST_ID)
        if entry.expired or (invocation_id is not None and invocation_id != entry.invocation_id):
            return PostResult(Verdict.STALE_INVOCATION)
        try:
            entry.lifecycle.apply(event, now_ms)
        except InvalidTransition as exc:
            return PostResult(Verdict.INVALID_TRANSITION, exc)
        entry.lifecycle.apply(_RESPONSE_SENT, now_ms)
        return PostResult(_ACCEPTED, None, entry.invocation_id)

    def expire(self, request_id: str, invocation_id: str) -> None:
        """The invocation timed out but its runtime lives on (Managed Instances): a late post for
        it is ``STALE_INVOCATION`` (410), echoed invocation id or not."""
        entry = self._entries.get(request_id)
        if entry is not None and entry.invocation_id == invocation_id:
            entry.expired = True
