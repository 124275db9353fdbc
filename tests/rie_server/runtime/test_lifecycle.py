"""The Runtime API state table: every legal row, every illegal pair, and ``RuntimeState``."""

from __future__ import annotations

import itertools

import pytest

from lambdarig import runtime_api as wire
from lambdarig.rie_server.errors import InvalidTransition
from lambdarig.rie_server.runtime.lifecycle import (
    EVENT_TARGET,
    TRANSITIONS,
    Event,
    Lifecycle,
    RuntimeState,
    State,
    Verdict,
)

ILLEGAL = [pair for pair in itertools.product(State, Event) if pair not in TRANSITIONS]


@pytest.mark.parametrize(("start", "event"), sorted(TRANSITIONS, key=str))
def test_every_legal_row(start: State, event: Event) -> None:
    machine = Lifecycle(start, since_ms=0)
    assert machine.apply(event, now_ms=5) is TRANSITIONS[(start, event)]
    assert machine.state is TRANSITIONS[(start, event)]
    assert machine.since_ms == (0 if machine.state is start else 5)


@pytest.mark.parametrize(("start", "event"), ILLEGAL)
def test_every_illegal_pair_raises_with_rapid_names(start: State, event: Event) -> None:
    machine = Lifecycle(start, since_ms=0)
    with pytest.raises(InvalidTransition) as caught:
        machine.apply(event, now_ms=5)
    assert caught.value.from_state == start.value
    assert caught.value.to_state == EVENT_TARGET[event].value
    assert machine.state is start and machine.since_ms == 0


def test_the_table_is_not_trivially_small() -> None:
    assert len(TRANSITIONS) == 14 and len(ILLEGAL) == 10 * 9 - 14


def test_state_names_are_rapids() -> None:
    assert [s.value for s in State] == [
        "Started",
        "Ready",
        "Running",
        "InvocationResponse",
        "InvocationErrorResponse",
        "RuntimeResponseSentState",
        "InitError",
        "RestoreReady",
        "Restoring",
        "RuntimeRestoreErrorState",
    ]


def test_snapstart_init_ends_at_restore_next_and_the_restore_at_next() -> None:
    state = RuntimeState(0)
    state.restore_next(1)
    assert state.runtime.state is State.RESTORE_READY
    with pytest.raises(InvalidTransition):  # not restored yet: no invocation may be polled
        state.next(2)
    state.restore(3)
    assert state.runtime.state is State.RESTORING
    assert state.next(4) is None and state.runtime.state is State.READY
    with pytest.raises(InvalidTransition) as caught:  # /restore/error after the restore
        state.restore_error(5)
    assert caught.value.from_state == "Ready"
    assert caught.value.to_state == "RuntimeRestoreErrorState"


def test_a_restore_error_is_only_taken_while_restoring() -> None:
    state = RuntimeState(0)
    with pytest.raises(InvalidTransition):
        state.restore_error(1)
    state.restore_next(2)
    state.restore(3)
    state.restore_error(4)
    assert state.runtime.state is State.RESTORE_ERROR


def test_runtime_and_invocation_start_states() -> None:
    assert Lifecycle.initial(1).state is State.STARTED
    assert Lifecycle.for_invocation(1).state is State.READY


def invocation(request_id: str, invocation_id: str) -> wire.Invocation:
    return wire.Invocation(
        request_id, 0, "arn:aws:lambda:::function:f", b"{}", invocation_id=invocation_id
    )


def delivered(state: RuntimeState, request_id: str, invocation_id: str, now_ms: int) -> None:
    state.deliver(invocation(request_id, invocation_id), now_ms)


def test_one_post_is_accepted_then_refused() -> None:
    state = RuntimeState(0)
    delivered(state, "r1", "inv-1", now_ms=1)
    assert state.state_of("r1") is State.RUNNING
    accepted = state.post("r1", "inv-1", Event.RESPONSE, now_ms=2)
    assert accepted.verdict is Verdict.ACCEPTED and accepted.invocation_id == "inv-1"
    assert state.state_of("r1") is State.RESPONSE_SENT
    again = state.post("r1", None, Event.ERROR, now_ms=3)
    assert again.verdict is Verdict.INVALID_TRANSITION and again.error is not None
    assert (again.error.from_state, again.error.to_state) == (
        "RuntimeResponseSentState",
        "InvocationErrorResponse",
    )


def test_unknown_and_stale_posts() -> None:
    state = RuntimeState(0)
    assert state.post("nope", None, Event.RESPONSE, 1).verdict is Verdict.UNKNOWN_REQUEST_ID
    delivered(state, "r1", "inv-1", 1)
    delivered(state, "r1", "inv-2", 2)  # the caller reused the request id
    assert state.post("r1", "inv-1", Event.RESPONSE, 3).verdict is Verdict.STALE_INVOCATION
    assert state.state_of("r1") is State.RUNNING  # the stale post moved nothing
    assert state.post("r1", "inv-2", Event.ERROR, 4).verdict is Verdict.ACCEPTED


def test_the_oldest_invocations_are_forgotten_beyond_keep() -> None:
    state = RuntimeState(0, keep=2)
    for i in range(3):
        delivered(state, f"r{i}", f"i{i}", i)
    assert state.state_of("r0") is None and state.state_of("r2") is State.RUNNING


def test_an_expired_invocation_is_stale_even_without_the_header() -> None:
    state = RuntimeState(0)
    delivered(state, "r1", "inv-1", 1)
    state.expire("r1", "other")  # not this invocation: no effect
    state.expire("r1", "inv-1")
    assert state.post("r1", None, Event.RESPONSE, 2).verdict is Verdict.STALE_INVOCATION
    assert state.post("r1", "inv-1", Event.ERROR, 2).verdict is Verdict.STALE_INVOCATION
    state.expire("unknown", "x")  # harmless


def test_the_first_next_ends_init_and_init_error_is_refused_after() -> None:
    state = RuntimeState(0)
    assert state.runtime.state is State.STARTED
    assert state.next(1) is None
    assert state.runtime.state is State.READY
    with pytest.raises(InvalidTransition):
        state.init_error(2)


def test_init_error_ends_the_runtime() -> None:
    state = RuntimeState(0)
    state.init_error(1)
    with pytest.raises(InvalidTransition):
        state.next(2)


def test_a_next_before_posting_gets_the_same_invocation_again_single_concurrency_only() -> None:
    single = RuntimeState(0)
    single.next(1)
    first = invocation("r1", "inv-1")
    single.deliver(first, 2)
    assert single.next(3) is first
    single.post("r1", "inv-1", Event.RESPONSE, 4)
    assert single.next(5) is None  # posted: the next /next waits for a new event
    managed = RuntimeState(0, max_concurrency=4)
    managed.next(1)
    delivered(managed, "r1", "inv-1", 2)
    assert managed.next(3) is None


def test_withdraw_says_whether_a_next_took_the_invocation() -> None:
    state = RuntimeState(0)
    delivered(state, "r1", "inv-1", 1)
    assert state.withdraw("inv-1") is True
    assert state.withdraw("inv-1") is False
    assert state.withdraw("never-delivered") is False
