from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from lambdarig.events._common import (
    Ids,
    arn,
    clf_time,
    encode_body,
    epoch_ms,
    iso_ms,
    iso_seconds,
    resolve_now,
)


def test_ids_are_deterministic_with_a_seed_and_well_formed() -> None:
    first, second = Ids(9), Ids(9)
    assert [first.uuid(), first.hex(8), first.digits(5)] == [
        second.uuid(),
        second.hex(8),
        second.digits(5),
    ]
    uuid = Ids(1).uuid()
    assert len(uuid) == 36 and uuid[14] == "4"
    assert Ids(1).digits(30)[0] != "0"
    assert Ids().uuid() != Ids().uuid()


def test_ids_uuid_is_the_uuid_modules_version_4_of_the_same_bits() -> None:
    for seed in range(200):
        expected = str(uuid.UUID(int=random.Random(seed).getrandbits(128), version=4))
        assert Ids(seed).uuid() == expected


def test_time_formats() -> None:
    when = datetime(2015, 4, 9, 12, 34, 56, 789000, tzinfo=timezone.utc)
    assert clf_time(when) == "09/Apr/2015:12:34:56 +0000"
    assert iso_ms(when) == "2015-04-09T12:34:56.789Z"
    assert iso_seconds(when) == "2015-04-09T12:34:56Z"
    assert epoch_ms(when) == 1428582896789


def test_resolve_now_normalises_to_utc() -> None:
    naive = datetime(2020, 1, 1, 0, 0)
    assert resolve_now(naive) == datetime(2020, 1, 1, tzinfo=timezone.utc)
    plus_two = datetime(2020, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert resolve_now(plus_two).hour == 0 and resolve_now(plus_two).tzinfo == timezone.utc
    assert resolve_now(None).tzinfo == timezone.utc


def test_arn() -> None:
    assert arn("sqs", "q", region="r", account_id="1") == "arn:aws:sqs:r:1:q"


def test_encode_body() -> None:
    assert encode_body("x") == ("x", False)
    assert encode_body("x", base64_encoded=True) == ("eA==", True)
    assert encode_body(b"x") == ("eA==", True)
    assert encode_body({"a": 1}) == ('{"a": 1}', False)
    with pytest.raises(ValueError, match="expected base64_encoded=None or True for a bytes body"):
        encode_body(b"x", base64_encoded=False)
