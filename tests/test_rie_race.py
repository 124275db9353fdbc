from __future__ import annotations

from tests.rie_race import lost_to_gate_race

# The answer aws-lambda-rie gave in a CI run when its reset raced with the next invoke.
RACE = (
    b'{"errorType":"Sandbox.Failure",'
    b'"errorMessage":"RequestId: 2bda1731-c295-4e0f-bfd2-4b89f1b7e513 Error: ErrGateCanceled"}'
)


def test_the_emulators_own_race_is_recognised() -> None:
    assert lost_to_gate_race(502, RACE)


def test_a_runtimes_own_failure_is_compared_as_it_is() -> None:
    crashed = RACE.replace(b"ErrGateCanceled", b"Runtime exited without providing a reason")
    assert not lost_to_gate_race(502, crashed)
    assert not lost_to_gate_race(200, RACE)  # a handler returning those words
    assert not lost_to_gate_race(502, RACE.replace(b"Sandbox.Failure", b"Exception"))
    assert not lost_to_gate_race(502, RACE + b"\n")
