"""SQS event-source-mapping batches, and the ``batchItemFailures`` partial-batch response.

Message attributes are encoded as SQS delivers them to Lambda (``stringValue`` /
``binaryValue`` base64, ``dataType``, empty ``stringListValues``/``binaryListValues``), and
``md5OfBody`` / ``md5OfMessageAttributes`` are the real digests SQS computes.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Union

from lambdarig.events._common import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    Body,
    Ids,
    arn,
    b64,
    body_text,
    epoch_ms,
    resolve_now,
)

#: An attribute value: ``str`` (String), ``int``/``float`` (Number), ``bytes`` (Binary), or an
#: already-encoded ``{"dataType": ..., "stringValue"|"binaryValue": ...}`` mapping.
AttributeValue = Union[str, int, float, bytes, Mapping[str, Any]]


def message_attribute(value: AttributeValue) -> dict[str, Any]:
    """One entry of ``messageAttributes`` as Lambda receives it."""
    if isinstance(value, Mapping):
        encoded = dict(value)
        if "dataType" not in encoded:
            raise ValueError(f"expected a message attribute with a 'dataType', got {value!r}")
    elif isinstance(value, bool):
        raise TypeError("expected str, int, float, bytes or a mapping, got bool")
    elif isinstance(value, bytes):
        encoded = {"binaryValue": b64(value), "dataType": "Binary"}
    elif isinstance(value, (int, float)):
        encoded = {"stringValue": str(value), "dataType": "Number"}
    else:
        encoded = {"stringValue": value, "dataType": "String"}
    encoded.setdefault("stringListValues", [])
    encoded.setdefault("binaryListValues", [])
    ordered_keys = ("stringValue", "binaryValue", "stringListValues", "binaryListValues")
    return {
        **{key: encoded[key] for key in ordered_keys if key in encoded},
        **{key: val for key, val in encoded.items() if key not in ordered_keys},
    }


def md5_of_message_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """The MD5 SQS reports for encoded attributes (its documented length-prefixed encoding)."""
    digest = hashlib.md5()
    for name in sorted(attributes):
        attribute = attributes[name]
        data_type = str(attribute["dataType"])
        for part in (name.encode("utf-8"), data_type.encode("utf-8")):
            digest.update(struct.pack(">I", len(part)) + part)
        if "binaryValue" in attribute:
            value = base64.b64decode(attribute["binaryValue"])
            digest.update(b"\x02")
        else:
            value = str(attribute["stringValue"]).encode("utf-8")
            digest.update(b"\x01")
        digest.update(struct.pack(">I", len(value)) + value)
    return digest.hexdigest()


def sqs_record(
    *,
    body: Body = "Hello from SQS!",
    message_attributes: Mapping[str, AttributeValue] | None = None,
    queue_name: str = "MyQueue",
    receive_count: int = 1,
    message_group_id: str | None = None,
    message_deduplication_id: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    ids: Ids | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One SQS record. ``body`` is text (JSON values are serialised); SQS carries no bytes.

    A ``queue_name`` ending in ``.fifo`` adds the FIFO attributes (``SequenceNumber``,
    ``MessageGroupId`` defaulting to ``"default"``, ``MessageDeduplicationId``).
    """
    ids = ids or Ids()
    when = resolve_now(now)
    text = body_text(body)
    sent = epoch_ms(when)
    attributes = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": str(sent),
        "SenderId": "AIDA" + ids.upper_alnum(17),
        "ApproximateFirstReceiveTimestamp": str(sent + 2),
    }
    if queue_name.endswith(".fifo"):
        attributes["SequenceNumber"] = ids.digits(20)
        attributes["MessageGroupId"] = message_group_id or "default"
        attributes["MessageDeduplicationId"] = message_deduplication_id or ids.hex(64)
    encoded = {name: message_attribute(v) for name, v in (message_attributes or {}).items()}
    record: dict[str, Any] = {
        "messageId": ids.uuid(),
        "receiptHandle": "AQEB" + ids.alnum(120),
        "body": text,
        "attributes": attributes,
        "messageAttributes": encoded,
        "md5OfBody": hashlib.md5(text.encode("utf-8")).hexdigest(),
    }
    if encoded:
        record["md5OfMessageAttributes"] = md5_of_message_attributes(encoded)
    record["eventSource"] = "aws:sqs"
    record["eventSourceARN"] = arn("sqs", queue_name, region=region, account_id=account_id)
    record["awsRegion"] = region
    return record


def sqs_event(
    *,
    body: Body = "Hello from SQS!",
    bodies: Sequence[Body] | None = None,
    records: Sequence[Mapping[str, Any]] | None = None,
    message_attributes: Mapping[str, AttributeValue] | None = None,
    queue_name: str = "MyQueue",
    message_group_id: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An SQS batch ``{"Records": [...]}``.

    One record carrying ``body``; or one per item of ``bodies``; or ``records`` verbatim (e.g.
    built with :func:`sqs_record`). The per-record options apply to every generated record.
    """
    if records is not None:
        return {"Records": [dict(record) for record in records]}
    ids = Ids(seed)
    return {
        "Records": [
            sqs_record(
                body=item,
                message_attributes=message_attributes,
                queue_name=queue_name,
                message_group_id=message_group_id,
                account_id=account_id,
                region=region,
                ids=ids,
                now=now,
            )
            for item in (bodies if bodies is not None else [body])
        ]
    }


def batch_item_failures(failed: Iterable[str | Mapping[str, Any]]) -> dict[str, Any]:
    """The partial-batch response ``{"batchItemFailures": [{"itemIdentifier": ...}, ...]}``.

    ``failed`` holds identifiers or whole records: an SQS record contributes its ``messageId``,
    a Kinesis record ``kinesis.sequenceNumber``, a DynamoDB stream record
    ``dynamodb.SequenceNumber``. Works for all three sources (``ReportBatchItemFailures``).
    """
    return {"batchItemFailures": [{"itemIdentifier": _identifier(item)} for item in failed]}


def _identifier(item: str | Mapping[str, Any]) -> str:
    if isinstance(item, str):
        return item
    if "messageId" in item:
        return str(item["messageId"])
    if "kinesis" in item:
        return str(item["kinesis"]["sequenceNumber"])
    if "dynamodb" in item:
        return str(item["dynamodb"]["SequenceNumber"])
    raise ValueError(
        "expected an id or an SQS, Kinesis or DynamoDB stream record, "
        f"got a mapping with keys {sorted(item)}"
    )
