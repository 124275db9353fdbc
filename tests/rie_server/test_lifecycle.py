"""The Runtime API state table: every legal row, every illegal pair, the invocation book."""

from __future__ import annotations

import itertools

import pytest

from lambdarig.rie_server.errors import InvalidTransition
from lambdarig.rie_server.lifecycle import (
    EVENT_TARGET,
    TRANSITIONS,
    Event,
    InvocationBook,
    Lifecycle,
    State,
    Verdict,
)

ILLEGAL = [pair for pair in itertools.product(State, Event) if pair not in TRANSITIONS]


@pytest.mark.parametrize(("start", "event"), sorted(TRANSITIONS, key=str))
def test_every_legal_row(start: State, event: Event) -> None:
    machine = Lifecycle(start, since_ms=0)
    assert machine.allows(event)
    assert machine.apply(event, now_ms=5) is TRANSITIONS[(start, event)]
    assert machine.state is TRANSITIONS[(start, event)]
    assert machine.since_ms == (0 if machine.state is start else 5)


@pytest.mark.parametrize(("start", "event"), ILLEGAL)
def test_every_illegal_pair_raises_with_rapid_names(start: State, event: Event) -> None:
    machine = Lifecycle(start, since_ms=0)
    assert not machine.allows(event)
    with pytest.raises(InvalidTransition) as caught:
        machine.apply(event, now_ms=5)
    assert caught.value.from_state == start.value
    assert caught.value.to_state == EVENT_TARGET[event].value
    assert machine.state is start and machine.since_ms == 0


def test_the_table_is_not_trivially_small() -> None:
    assert len(TRANSITIONS) == 10 and len(ILLEGAL) == 7 * 6 - 10


def test_state_names_are_rapids() -> None:
    assert [s.value for s in State] == [
        "Started",
        "Ready",
        "Running",
        "InvocationResponse",
        "InvocationErrorResponse",
        "RuntimeResponseSentState",
        "InitError",
    ]


def test_runtime_and_invocation_start_states() -> None:
    assert Lifecycle.initial(1).state is State.STARTED
    assert Lifecycle.for_invocation(1).state is State.READY


def test_book_accepts_one_post_then_refuses() -> None:
    book = InvocationBook()
    book.deliver("r1", "inv-1", now_ms=1)
    assert book.state_of("r1") is State.RUNNING
    accepted = book.post("r1", "inv-1", Event.RESPONSE, now_ms=2)
    assert accepted.verdict is Verdict.ACCEPTED and accepted.invocation_id == "inv-1"
    assert book.state_of("r1") is State.RESPONSE_SENT
    again = book.post("r1", None, Event.ERROR, now_ms=3)
    assert again.verdict is Verdict.INVALID_TRANSITION and again.error is not None
    assert (again.error.from_state, again.error.to_state) == (
        "RuntimeResponseSentState",
        "InvocationErrorResponse",
    )


def test_book_unknown_and_stale() -> None:
    book = InvocationBook()
    assert book.post("nope", None, Event.RESPONSE, 1).verdict is Verdict.UNKNOWN_REQUEST_ID
    book.deliver("r1", "inv-1", 1)
    book.deliver("r1", "inv-2", 2)  # the caller reused the request id
    assert book.post("r1", "inv-1", Event.RESPONSE, 3).verdict is Verdict.STALE_INVOCATION
    assert book.state_of("r1") is State.RUNNING  # the stale post moved nothing
    assert book.post("r1", "inv-2", Event.ERROR, 4).verdict is Verdict.ACCEPTED


def test_book_forgets_oldest_beyond_keep() -> None:
    book = InvocationBook(keep=2)
    for i in range(3):
        book.deliver(f"r{i}", f"i{i}", i)
    assert book.state_of("r0") is None and book.state_of("r2") is State.RUNNING
    book.forget("r2")
    assert book.state_of("r2") is None


def test_book_expired_invocation_is_stale_even_without_the_header() -> None:
    book = InvocationBook()
    book.deliver("r1", "inv-1", 1)
    book.expire("r1", "other")  # not this invocation: no effect
    book.expire("r1", "inv-1")
    assert book.post("r1", None, Event.RESPONSE, 2).verdict is Verdict.STALE_INVOCATION
    assert book.post("r1", "inv-1", Event.ERROR, 2).verdict is Verdict.STALE_INVOCATION
    book.expire("unknown", "x")  # harmless
