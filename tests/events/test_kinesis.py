from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from lambdarig.events import kinesis_event, kinesis_record
from tests.events.shapes import render, shape_diff


@pytest.mark.peers
def test_kinesis_event_has_the_shape_of_sams_sample(sam_events_dir: Path) -> None:
    ours = kinesis_event(seed=1)
    sam = render(sam_events_dir, "kinesis/Kinesis.json")
    assert shape_diff(ours, sam) == set()
    record, sam_record = ours["Records"][0], sam["Records"][0]
    for key in ("data", "partitionKey", "kinesisSchemaVersion"):
        assert record["kinesis"][key] == sam_record["kinesis"][key], key
    for key in ("eventSource", "eventName", "eventVersion", "awsRegion"):
        assert record[key] == sam_record[key], key


def test_data_round_trips_through_base64() -> None:
    assert base64.b64decode(kinesis_record(data=b"\x00\x01")["kinesis"]["data"]) == b"\x00\x01"
    encoded = kinesis_record(data={"a": 1})["kinesis"]["data"]
    assert json.loads(base64.b64decode(encoded)) == {"a": 1}


def test_batch_sequence_numbers_increase_and_match_event_ids() -> None:
    records = kinesis_event(payloads=["a", "b", "c"], seed=2)["Records"]
    numbers = [int(r["kinesis"]["sequenceNumber"]) for r in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    for record in records:
        assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
    assert records[0]["eventSourceARN"] == (
        "arn:aws:kinesis:us-east-1:123456789012:stream/example-stream"
    )
