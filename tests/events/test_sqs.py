from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lambdarig.events import batch_item_failures, kinesis_event, sqs_event, sqs_record
from lambdarig.events.dynamodb import dynamodb_event
from lambdarig.events.sqs import md5_of_message_attributes, message_attribute
from tests.events.shapes import render, shape_diff

NOW = datetime(2018, 4, 9, 0, 0, tzinfo=timezone.utc)


@pytest.mark.peers
def test_sqs_event_has_the_shape_of_sams_sqs_sample(sam_events_dir: Path) -> None:
    ours = sqs_event(seed=1)
    sam = render(sam_events_dir, "sqs/Sqs.json")
    assert shape_diff(ours, sam, frozenset({"Records[].messageAttributes"})) == set()
    record, sam_record = ours["Records"][0], sam["Records"][0]
    for key in ("body", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"):
        assert record[key] == sam_record[key], key
    assert set(record["attributes"]) == set(sam_record["attributes"])


def test_body_round_trips_and_md5_matches() -> None:
    event = sqs_event(body={"a": 1})
    record = event["Records"][0]
    assert json.loads(record["body"]) == {"a": 1}
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()


def test_bodies_make_a_batch_with_distinct_message_ids() -> None:
    event = sqs_event(bodies=["a", "b", "c"], seed=5)
    assert [r["body"] for r in event["Records"]] == ["a", "b", "c"]
    assert len({r["messageId"] for r in event["Records"]}) == 3


def test_timestamps_come_from_now() -> None:
    record = sqs_event(now=NOW)["Records"][0]
    assert record["attributes"]["SentTimestamp"] == "1523232000000"
    assert int(record["attributes"]["ApproximateFirstReceiveTimestamp"]) >= 1523232000000


def test_message_attributes_are_encoded_as_lambda_receives_them() -> None:
    assert message_attribute("v") == {
        "stringValue": "v",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert message_attribute(3)["dataType"] == "Number"
    assert message_attribute(3)["stringValue"] == "3"
    assert message_attribute(b"xx")["binaryValue"] == "eHg="
    with pytest.raises(ValueError, match="expected a message attribute with a 'dataType'"):
        message_attribute({"stringValue": "x"})


def test_md5_of_message_attributes_matches_sqs() -> None:
    # Reference digest computed with moto's SQS Message.attribute_md5 for the same attributes.
    record = sqs_record(message_attributes={"k": "v", "n": 3, "b": b"xx"})
    assert record["md5OfMessageAttributes"] == "7a353b13e138383fa6977b614912f2d6"
    assert md5_of_message_attributes(record["messageAttributes"]) == (
        "7a353b13e138383fa6977b614912f2d6"
    )
    assert "md5OfMessageAttributes" not in sqs_record()


def test_fifo_queues_add_the_fifo_attributes() -> None:
    record = sqs_record(queue_name="orders.fifo", message_group_id="g1")
    attributes = record["attributes"]
    assert attributes["MessageGroupId"] == "g1"
    assert attributes["SequenceNumber"].isdigit()
    assert attributes["MessageDeduplicationId"]
    assert record["eventSourceARN"].endswith(":orders.fifo")
    assert "MessageGroupId" not in sqs_record()["attributes"]


def test_records_are_passed_through() -> None:
    records = [sqs_record(body="x"), sqs_record(body="y")]
    assert sqs_event(records=records) == {"Records": records}


def test_batch_item_failures_from_ids_and_records_of_every_stream_source() -> None:
    sqs = sqs_event(bodies=["a", "b"])["Records"]
    kinesis = kinesis_event()["Records"][0]
    dynamo = dynamodb_event()["Records"][0]
    assert batch_item_failures([sqs[1], "id-1", kinesis, dynamo]) == {
        "batchItemFailures": [
            {"itemIdentifier": sqs[1]["messageId"]},
            {"itemIdentifier": "id-1"},
            {"itemIdentifier": kinesis["kinesis"]["sequenceNumber"]},
            {"itemIdentifier": dynamo["dynamodb"]["SequenceNumber"]},
        ]
    }
    assert batch_item_failures([]) == {"batchItemFailures": []}


def test_batch_item_failures_rejects_unknown_mappings() -> None:
    with pytest.raises(ValueError, match=r"got a mapping with keys \['a'\]"):
        batch_item_failures([{"a": 1}])


def test_bytes_bodies_are_refused_because_sqs_carries_text() -> None:
    with pytest.raises(TypeError, match="got bytes"):
        sqs_event(body=b"x")
