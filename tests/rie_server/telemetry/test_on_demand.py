"""OnDemandTelemetry: a hub made late (an extension registered, a subscription request came)
knows what a hub made at the start would know: the init's backlog and the invocations in flight,
with their own times."""

from __future__ import annotations

import datetime
import itertools
from typing import Callable

from lambdarig.rie_server.environments.outcomes import InvokeRequest, OutcomeKind, failure
from lambdarig.rie_server.telemetry import MAX_BACKLOG
from lambdarig.rie_server.telemetry.hub import Clock, FunctionFacts, TelemetryHub
from lambdarig.rie_server.telemetry.on_demand import OnDemandTelemetry

START = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
OK = failure(OutcomeKind.SUCCESS, None, None, body=b"{}", duration_ms=1.5, memory=41)
BEFORE = InvokeRequest(request_id="11111111-e9f4-11e8-9739-2dfe598c3fcd", payload=b"{}")
DURING = InvokeRequest(request_id="22222222-e9f4-11e8-9739-2dfe598c3fcd", payload=b"{}")
DONE = InvokeRequest(request_id="33333333-e9f4-11e8-9739-2dfe598c3fcd", payload=b"{}")


def _ticking() -> Clock:
    seconds = itertools.count()
    return lambda: START + datetime.timedelta(seconds=next(seconds))


def _ticking_seconds() -> Callable[[], float]:
    """``_ticking`` in seconds since the epoch (``OnDemandTelemetry``'s clock)."""
    seconds = itertools.count()
    return lambda: START.timestamp() + next(seconds)


def _hub(clock: Clock) -> TelemetryHub:
    return TelemetryHub(FunctionFacts("fn", "$LATEST", 128), None, clock)


def _tell(target: TelemetryHub | OnDemandTelemetry, lines: int) -> None:
    target.invocation_started(DONE)
    target.invocation_finished(DONE, OK)
    target.output("before the init: nobody to tell")
    target.invocation_started(BEFORE)
    target.init_started("on-demand", "invoke")
    for number in range(lines):
        target.output(f"line {number}")
    target.invocation_started(DURING)
    target.output("extension line", "extension")


def _compare(lines: int) -> None:
    eager = _hub(_ticking())
    _tell(eager, lines)
    eager.extension_registered("ext", ["INVOKE"])

    clock = _ticking_seconds()
    clock()  # the tick the eager hub's construction took
    late = OnDemandTelemetry(_hub, clock)
    _tell(late, lines)
    assert not late.created
    late.extension_registered("ext", ["INVOKE"])  # makes the hub
    made = late.hub()
    assert late.created
    *kept, registered = made._backlog
    *eager_kept, eager_registered = eager._backlog
    assert kept == eager_kept  # the platform.extension event is later: the hub was made first
    assert registered.type == eager_registered.type == "platform.extension"
    assert made._starts == eager._starts
    assert made.listening and made._init_started == eager._init_started


def test_a_hub_made_during_the_init_gets_the_backlog_a_hub_made_before_has() -> None:
    _compare(3)


def test_the_kept_backlog_is_bounded_as_the_hubs() -> None:
    _compare(MAX_BACKLOG + 5)
    late = OnDemandTelemetry(_hub, _ticking_seconds())
    late.init_started("on-demand")
    for number in range(3 * MAX_BACKLOG):
        late.output(f"line {number}")
    assert len(late._since_init) == MAX_BACKLOG


def test_without_a_hub_an_ended_init_and_ended_invocations_keep_nothing() -> None:
    made: list[TelemetryHub] = []

    def create(clock: Clock) -> TelemetryHub:
        made.append(_hub(clock))
        return made[-1]

    late = OnDemandTelemetry(create, _ticking_seconds())
    late.init_started("on-demand")
    late.output("a line")
    late.init_finished(None, 12.0)
    late.invocation_started(DONE)
    late.output("a warm line: nobody to tell")
    late.restore_started()
    late.invocation_finished(DONE, OK)
    late.invocation_abandoned(BEFORE)
    assert late._init is None and not late._since_init and late._starts == {}
    assert made == []  # nothing of that made the hub
