from __future__ import annotations

import base64
from pathlib import Path

import pytest

from lambdarig.events import alb_event
from tests.events.shapes import render, shape_diff

MAPS = frozenset({"headers", "queryStringParameters"})


@pytest.mark.peers
def test_alb_event_has_the_shape_of_sams_alb_sample(sam_events_dir: Path) -> None:
    ours = alb_event(
        method="POST",
        path="/path/to/resource",
        query={"query": "1234ABCD"},
        body='{"test":"body"}',
        is_base64_encoded=True,
        seed=1,
    )
    sam = render(sam_events_dir, "alb/ALBRequest.json")
    assert shape_diff(ours, sam, MAPS) == set()
    for key in ("httpMethod", "path", "queryStringParameters", "body", "isBase64Encoded"):
        assert ours[key] == sam[key], key
    assert set(sam["headers"]) >= set(ours["headers"]) - {"user-agent"}


def test_alb_defaults_send_empty_body_and_empty_query() -> None:
    event = alb_event(seed=1)
    assert event["body"] == "" and event["isBase64Encoded"] is False
    assert event["queryStringParameters"] == {}
    assert event["requestContext"]["elb"]["targetGroupArn"].startswith(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lambda-target/"
    )


def test_alb_lowercases_headers_and_keeps_query_percent_encoded() -> None:
    event = alb_event(headers={"X-Custom": "v"}, query={"q": "a b&c"})
    assert event["headers"]["x-custom"] == "v"
    assert event["queryStringParameters"] == {"q": "a%20b%26c"}


def test_alb_multi_value_mode_replaces_the_single_value_maps() -> None:
    event = alb_event(path="/?a=1&a=2", headers={"X": ["1", "2"]}, multi_value_headers=True)
    assert "headers" not in event and "queryStringParameters" not in event
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["multiValueHeaders"]["x"] == ["1", "2"]


def test_alb_bytes_body_round_trips() -> None:
    event = alb_event(method="PUT", body=b"\x89PNG")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x89PNG"
