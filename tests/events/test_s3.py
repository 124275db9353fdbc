from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote_plus

import pytest

from lambdarig.events import s3_delete_event, s3_event, s3_put_event
from tests.events.shapes import render, shape_diff


@pytest.mark.peers
def test_put_event_has_the_shape_of_sams_s3_put_sample(sam_events_dir: Path) -> None:
    ours = s3_put_event(seed=1)
    sam = render(sam_events_dir, "s3/S3Put.json")
    assert shape_diff(ours, sam) == set()
    record, sam_record = ours["Records"][0], sam["Records"][0]
    assert record["s3"]["object"]["key"] == sam_record["s3"]["object"]["key"]
    assert record["s3"]["bucket"]["arn"] == sam_record["s3"]["bucket"]["arn"]
    assert record["eventName"] == sam_record["eventName"] == "ObjectCreated:Put"


@pytest.mark.peers
def test_delete_event_has_the_shape_of_sams_s3_delete_sample(sam_events_dir: Path) -> None:
    ours = s3_delete_event(seed=1)
    sam = render(sam_events_dir, "s3/S3Delete.json")
    assert shape_diff(ours, sam) == set()
    assert ours["Records"][0]["eventName"] == "ObjectRemoved:Delete"


def test_keys_are_url_encoded_as_s3_sends_them() -> None:
    key = "my folder/ünï cödé+(1).jpg"
    encoded = s3_put_event(key=key)["Records"][0]["s3"]["object"]["key"]
    assert encoded == "my+folder/%C3%BCn%C3%AF+c%C3%B6d%C3%A9%2B%281%29.jpg"
    assert unquote_plus(encoded) == key


def test_put_carries_size_etag_and_version() -> None:
    obj = s3_put_event(size=5, etag="abc", version_id="v1")["Records"][0]["s3"]["object"]
    assert (obj["size"], obj["eTag"], obj["versionId"]) == (5, "abc", "v1")
    assert "versionId" not in s3_put_event()["Records"][0]["s3"]["object"]


def test_other_event_names_and_time() -> None:
    when = datetime(2020, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    record = s3_event(event_name="ObjectCreated:Copy", bucket="b", now=when)["Records"][0]
    assert record["eventName"] == "ObjectCreated:Copy"
    assert record["eventTime"] == "2020-01-02T03:04:05.678Z"
    assert record["s3"]["bucket"] == {
        "name": "b",
        "ownerIdentity": record["s3"]["bucket"]["ownerIdentity"],
        "arn": "arn:aws:s3:::b",
    }
    deleted = s3_event(event_name="ObjectRemoved:DeleteMarkerCreated")["Records"][0]
    assert set(deleted["s3"]["object"]) == {"key", "sequencer"}


@pytest.mark.peers
@pytest.mark.parametrize(
    ("event_name", "template"),
    [
        ("ObjectCreated:Copy", "s3/S3Put.json"),
        ("ObjectCreated:CompleteMultipartUpload", "s3/S3Put.json"),
        ("ObjectRemoved:DeleteMarkerCreated", "s3/S3Delete.json"),
    ],
)
def test_generic_s3_events_follow_the_put_or_delete_shape(
    event_name: str, template: str, sam_events_dir: Path
) -> None:
    ours = s3_event(event_name=event_name, seed=2)
    assert shape_diff(ours, render(sam_events_dir, template)) == set()
