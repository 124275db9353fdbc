from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lambdarig.events import (
    deserialize,
    deserialize_item,
    dynamodb_event,
    dynamodb_record,
    serialize,
    serialize_item,
)
from lambdarig.events._common import Ids
from tests.events.shapes import render, shape_diff

IMAGES = frozenset(
    {"Records[].dynamodb.Keys", "Records[].dynamodb.NewImage", "Records[].dynamodb.OldImage"}
)


@pytest.mark.peers
def test_stream_records_have_the_shape_of_sams_sample(sam_events_dir: Path) -> None:
    ids = Ids(1)
    records = [
        dynamodb_record(
            event_name=name, new_image={"Message": "new"}, old_image={"Message": "old"}, ids=ids
        )
        for name in ("INSERT", "MODIFY", "REMOVE")
    ]
    ours = dynamodb_event(records=records)
    sam = render(sam_events_dir, "dynamodb/DynamoDBUpdate.json")
    assert shape_diff(ours, sam, IMAGES) == set()
    for record, sam_record in zip(ours["Records"], sam["Records"]):
        assert record["dynamodb"]["Keys"] == sam_record["dynamodb"]["Keys"]
        assert (
            record["eventSourceARN"].split("/stream/")[0]
            == (sam_record["eventSourceARN"].split("/stream/")[0])
        )
        assert set(record["dynamodb"]) == set(sam_record["dynamodb"])


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("s", {"S": "s"}),
        (1, {"N": "1"}),
        (1.5, {"N": "1.5"}),
        (Decimal("10.01"), {"N": "10.01"}),
        (True, {"BOOL": True}),
        (None, {"NULL": True}),
        (b"\x00", {"B": "AA=="}),
        ({"b", "a"}, {"SS": ["a", "b"]}),
        ({2, 1}, {"NS": ["1", "2"]}),
        ({b"a"}, {"BS": ["YQ=="]}),
        ([1, "x"], {"L": [{"N": "1"}, {"S": "x"}]}),
        ({"k": {"n": None}}, {"M": {"k": {"M": {"n": {"NULL": True}}}}}),
    ],
)
def test_attribute_values_round_trip(value: Any, encoded: dict[str, Any]) -> None:
    assert serialize(value) == encoded
    back = deserialize(encoded)
    assert back == (Decimal("1.5") if value == 1.5 and not isinstance(value, Decimal) else value)


def test_unsupported_values_are_refused_with_the_type_name() -> None:
    with pytest.raises(TypeError, match="got object"):
        serialize(object())
    with pytest.raises(TypeError, match="non-empty set"):
        serialize(set())
    with pytest.raises(ValueError, match="expected an AttributeValue type"):
        deserialize({"Q": "x"})


def test_items_round_trip() -> None:
    item = {"Id": 101, "Tags": {"a"}, "Nested": {"List": [1, 2]}}
    assert deserialize_item(serialize_item(item)) == item


def test_images_follow_event_name_and_view_type() -> None:
    insert = dynamodb_record(event_name="INSERT", new_image={"A": 1}, old_image={"A": 0})
    assert "OldImage" not in insert["dynamodb"]
    assert deserialize_item(insert["dynamodb"]["NewImage"]) == {"Id": 101, "A": 1}
    remove = dynamodb_record(event_name="REMOVE", old_image={"A": 0})
    assert "NewImage" not in remove["dynamodb"] and "OldImage" in remove["dynamodb"]
    keys_only = dynamodb_record(event_name="MODIFY", keys={"pk": "x"}, stream_view_type="KEYS_ONLY")
    assert set(keys_only["dynamodb"]) == {
        "ApproximateCreationDateTime",
        "Keys",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    }
    assert keys_only["dynamodb"]["Keys"] == {"pk": {"S": "x"}}


def test_invalid_names_are_refused() -> None:
    with pytest.raises(ValueError, match="expected event_name in"):
        dynamodb_record(event_name="UPDATE")
    with pytest.raises(ValueError, match="expected stream_view_type in"):
        dynamodb_record(stream_view_type="ALL")
