"""TelemetryHub: what it builds when nobody listens (the warm path of a function without
extensions) and when someone does."""

from __future__ import annotations

import datetime

from lambdarig.rie_server.environments.outcomes import InvokeRequest, OutcomeKind, failure
from lambdarig.rie_server.telemetry import events
from lambdarig.rie_server.telemetry.hub import FunctionFacts, TelemetryHub

NOW = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
RID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
OK = failure(OutcomeKind.SUCCESS, None, None, body=b"{}", duration_ms=1.5, memory=41)
REQUEST = InvokeRequest(request_id=RID, payload=b"{}")


def _hub(published: list[events.Event]) -> TelemetryHub:
    hub = TelemetryHub(FunctionFacts("fn", "$LATEST", 128), None, clock=lambda: NOW)
    hub.publish = published.append  # type: ignore[method-assign]
    return hub


def test_after_the_init_without_subscribers_nothing_is_built() -> None:
    published: list[events.Event] = []
    hub = _hub(published)
    hub.init_started("on-demand")
    hub.init_finished(None, 12.0)
    published.clear()
    hub.invocation_started(REQUEST)
    hub.output("a line the function printed")
    hub.invocation_finished(REQUEST, OK)
    assert published == []
    assert not hub.listening


def test_during_the_init_events_are_built_for_the_backlog() -> None:
    published: list[events.Event] = []
    hub = _hub(published)
    hub.init_started("on-demand")
    hub.invocation_started(REQUEST)  # an on-demand init runs inside the first invocation
    hub.output("printed at import")
    types = [event.type for event in published]
    assert types == ["platform.initStart", "platform.start", "function"]
    hub.init_finished(None, 12.0)
    hub.invocation_finished(REQUEST, OK)  # nobody subscribed during the init: nothing more
    assert [event.type for event in published][3:] == [
        "platform.initRuntimeDone",
        "platform.initReport",
    ]
