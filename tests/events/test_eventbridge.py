from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from lambdarig.events import eventbridge_event, scheduled_event
from tests.events.shapes import render, shape_diff


@pytest.mark.peers
def test_scheduled_event_has_the_shape_of_sams_sample(sam_events_dir: Path) -> None:
    ours = scheduled_event(seed=1, now=datetime(1970, 1, 1, tzinfo=timezone.utc))
    sam = render(sam_events_dir, "cloudwatch/ScheduledEvent.json")
    # The service sends "version": "0" on every event; SAM's sample leaves it out.
    assert shape_diff(ours, sam) == {"+version"}
    for key in ("detail-type", "source", "account", "time", "region", "resources", "detail"):
        assert ours[key] == sam[key], key


def test_custom_event_carries_detail_and_resources() -> None:
    event = eventbridge_event(
        detail={"orderId": 1},
        detail_type="Order Placed",
        source="com.shop",
        resources=["arn:aws:s3:::b"],
        now=datetime(2024, 5, 6, 7, 8, 9, 999999, tzinfo=timezone.utc),
    )
    assert event["detail"] == {"orderId": 1}
    assert event["detail-type"] == "Order Placed"
    assert event["source"] == "com.shop"
    assert event["resources"] == ["arn:aws:s3:::b"]
    assert event["time"] == "2024-05-06T07:08:09Z"
    assert event["version"] == "0"


def test_scheduled_event_rule_arn() -> None:
    event = scheduled_event(rule="nightly", region="eu-west-1", account_id="111122223333")
    assert event["resources"] == ["arn:aws:events:eu-west-1:111122223333:rule/nightly"]


@pytest.mark.peers
def test_custom_events_share_the_envelope_of_sams_sample(sam_events_dir: Path) -> None:
    ours = eventbridge_event(detail={"k": "v"}, resources=["arn:aws:s3:::b"])
    sam = render(sam_events_dir, "cloudwatch/ScheduledEvent.json")
    # "detail" is free-form: only its type is compared.
    assert shape_diff(ours, sam, frozenset({"detail"})) == {"+version"}
