"""aws-lambda-rie's own race after a reset, which tests that compare against it must step around.

After a reset (a timeout or a crash), ``watchEvents`` in its ``internal/lambda/rapid/handlers.go``
reports the killed runtime's exit to the reset (``handleProcessExit``) and only then cancels the
init and invoke flows (``CancelFlows``). When the reset has returned and the next invoke's init
has started in between, that late cancel fails the new init, and the caller gets a 502
``Sandbox.Failure`` with ``ErrGateCanceled``. It happens under load (a CI run on two busy cores
saw it once). The runtime behind the emulator plays no part in it, and nothing outside the
emulator shows when the window has closed, so the only remedy is to send that invoke again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

Sent = TypeVar("Sent")

_GATE_CANCELED = re.compile(
    rb'\{"errorType":"Sandbox\.Failure",'
    rb'"errorMessage":"RequestId: [0-9a-f-]{36} Error: ErrGateCanceled"\}'
)
# Sends of one invoke at most: the race needs a reset just before, so a second loss is rare and
# a third would be a real failure worth seeing.
ATTEMPTS = 3


def lost_to_gate_race(status: int, body: bytes) -> bool:
    """Whether aws-lambda-rie failed this invoke by its own race, not by the runtime's doing."""
    return status == 502 and _GATE_CANCELED.fullmatch(body) is not None


def send(
    invoke: Callable[[], Sent],
    answer: Callable[[Sent], tuple[int, bytes]],
    on_lost: Callable[[Sent], object] = lambda sent: None,
) -> Sent:
    """``invoke()``, and again while aws-lambda-rie lost it to its race (``ATTEMPTS`` sends at
    most; the last one is returned whatever it answered). ``answer`` gives a send's status and
    body; ``on_lost`` is told of each lost send."""
    for _ in range(ATTEMPTS - 1):
        sent = invoke()
        if not lost_to_gate_race(*answer(sent)):
            return sent
        on_lost(sent)
    return invoke()
