from __future__ import annotations

from tests.rie_race import ATTEMPTS, lost_to_gate_race, send

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


def _sends(answers: list[bytes]) -> tuple[bytes, int, int]:
    """What ``send`` returns for these successive answers, how many it sent, how many it lost."""
    left = list(answers)
    lost: list[bytes] = []

    def invoke() -> bytes:
        return left.pop(0)

    got = send(invoke, lambda body: (502 if body == RACE else 200, body), lost.append)
    return got, len(answers) - len(left), len(lost)


def test_an_invoke_lost_to_the_race_is_sent_again_and_only_then() -> None:
    assert _sends([b"ok"]) == (b"ok", 1, 0)
    assert _sends([RACE, b"ok", b"unused"]) == (b"ok", 2, 1)


def test_sends_are_bounded_and_the_last_answer_is_returned_as_it_is() -> None:
    assert _sends([RACE] * (ATTEMPTS + 1)) == (RACE, ATTEMPTS, ATTEMPTS - 1)
