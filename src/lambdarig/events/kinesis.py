"""Kinesis Data Streams records as the event source mapping delivers them.

``kinesis.data`` is the record payload base64-encoded; decode it with ``base64.b64decode``.
``approximateArrivalTimestamp`` is epoch seconds as a float.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lambdarig.events._common import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    Body,
    Ids,
    arn,
    b64,
    resolve_now,
    to_bytes,
)


def kinesis_record(
    *,
    data: Body = "Hello, this is a test 123.",
    partition_key: str = "partitionKey-03",
    sequence_number: str | None = None,
    stream: str = "example-stream",
    shard_id: str = "shardId-000000000000",
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    ids: Ids | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One Kinesis record; ``data`` bytes are sent as-is, text UTF-8, other values as JSON."""
    ids = ids or Ids()
    sequence = sequence_number or ids.digits(56)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence,
            "data": b64(to_bytes(data)),
            "approximateArrivalTimestamp": round(resolve_now(now).timestamp(), 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{account_id}:role/lambda-kinesis-role",
        "awsRegion": region,
        "eventSourceARN": arn("kinesis", f"stream/{stream}", region=region, account_id=account_id),
    }


def kinesis_event(
    *,
    data: Body = "Hello, this is a test 123.",
    payloads: Sequence[Body] | None = None,
    records: Sequence[Mapping[str, Any]] | None = None,
    partition_key: str = "partitionKey-03",
    stream: str = "example-stream",
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A Kinesis batch: one record for ``data``, one per item of ``payloads``, or ``records``.

    Generated sequence numbers increase through the batch, as in a shard.
    """
    if records is not None:
        return {"Records": [dict(record) for record in records]}
    ids = Ids(seed)
    base = int(ids.digits(56))
    return {
        "Records": [
            kinesis_record(
                data=item,
                partition_key=partition_key,
                sequence_number=str(base + index),
                stream=stream,
                account_id=account_id,
                region=region,
                ids=ids,
                now=now,
            )
            for index, item in enumerate(payloads if payloads is not None else [data])
        ]
    }
