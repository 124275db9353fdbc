from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lambdarig.events import sns_event
from lambdarig.events.sns import sns_message_attribute
from tests.events.shapes import render, shape_diff


@pytest.mark.peers
def test_sns_event_has_the_shape_of_sams_sns_sample(sam_events_dir: Path) -> None:
    ours = sns_event(
        subject="example subject",
        message_attributes={"Test": "TestString", "TestBinary": b"TestBinary"},
        seed=1,
    )
    sam = render(sam_events_dir, "sns/Sns.json")
    assert shape_diff(ours, sam, frozenset({"Records[].Sns.MessageAttributes"})) == set()
    record, sam_record = ours["Records"][0], sam["Records"][0]
    for key in ("Type", "TopicArn", "Subject", "Message", "SignatureVersion"):
        assert record["Sns"][key] == sam_record["Sns"][key], key
    assert (
        record["Sns"]["MessageAttributes"]["Test"] == sam_record["Sns"]["MessageAttributes"]["Test"]
    )


def test_message_round_trips_and_subject_defaults_to_null() -> None:
    record = sns_event(message={"order": 7})["Records"][0]
    assert json.loads(record["Sns"]["Message"]) == {"order": 7}
    assert record["Sns"]["Subject"] is None
    assert record["EventSubscriptionArn"].startswith(record["Sns"]["TopicArn"] + ":")


def test_message_attribute_types() -> None:
    assert sns_message_attribute("s") == {"Type": "String", "Value": "s"}
    assert sns_message_attribute(1.5) == {"Type": "Number", "Value": "1.5"}
    binary = sns_message_attribute(b"\x00\x01")
    assert binary["Type"] == "Binary" and base64.b64decode(binary["Value"]) == b"\x00\x01"
    assert sns_message_attribute(["a", 1]) == {"Type": "String.Array", "Value": '["a", 1]'}
    with pytest.raises(ValueError, match="expected a mapping with 'Type' and 'Value'"):
        sns_message_attribute({"Type": "String"})


def test_timestamp_comes_from_now() -> None:
    when = datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert sns_event(now=when)["Records"][0]["Sns"]["Timestamp"] == "1970-01-01T00:00:00.000Z"


def test_messages_make_several_records() -> None:
    event = sns_event(messages=["a", "b"])
    assert [r["Sns"]["Message"] for r in event["Records"]] == ["a", "b"]
