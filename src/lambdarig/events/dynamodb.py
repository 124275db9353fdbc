"""DynamoDB Streams records, with DynamoDB's typed AttributeValue encoding.

:func:`serialize` turns plain Python values into AttributeValues the way boto3's
``TypeSerializer`` does (numbers become strings under ``N``, bytes base64 under ``B`` as the
JSON wire format carries them, sets become ``SS``/``NS``/``BS``); :func:`deserialize` reverses it
(numbers come back as ``int`` when integral, else ``Decimal``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from lambdarig.events._common import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    Ids,
    arn,
    b64,
    iso_ms,
    resolve_now,
)

_EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


def serialize(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB AttributeValue (``{"S": "x"}``, ``{"N": "1"}``, ...)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, float, Decimal)):
        return {"N": _number(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"B": b64(bytes(value))}
    if isinstance(value, (set, frozenset)):
        return _serialize_set(value)
    if isinstance(value, Mapping):
        return {"M": {str(key): serialize(item) for key, item in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(item) for item in value]}
    raise TypeError(f"expected a value DynamoDB can store, got {type(value).__name__}")


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, float) and not value == value:  # NaN
        raise ValueError("expected a finite number, got NaN")
    return str(Decimal(str(value)).normalize()) if isinstance(value, float) else str(value)


def _serialize_set(value: set[Any] | frozenset[Any]) -> dict[str, Any]:
    items = sorted(value, key=repr)
    if items and all(isinstance(item, str) for item in items):
        return {"SS": items}
    if items and all(
        isinstance(i, (int, float, Decimal)) and not isinstance(i, bool) for i in items
    ):
        return {"NS": [_number(item) for item in items]}
    if items and all(isinstance(item, (bytes, bytearray)) for item in items):
        return {"BS": [b64(bytes(item)) for item in items]}
    raise TypeError("expected a non-empty set of only strings, only numbers or only bytes")


def serialize_item(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A whole item (``Keys``, ``NewImage``, ``OldImage``) as ``{name: AttributeValue}``."""
    return {str(name): serialize(value) for name, value in item.items()}


def deserialize(attribute: Mapping[str, Any]) -> Any:
    """One AttributeValue back to Python (sets become ``set``, numbers ``int``/``Decimal``)."""
    if len(attribute) != 1:
        raise ValueError(f"expected an AttributeValue with one type key, got {dict(attribute)!r}")
    ((kind, value),) = attribute.items()
    decoders: dict[str, Any] = {
        "NULL": lambda v: None,
        "BOOL": bool,
        "S": str,
        "N": _parse_number,
        "B": base64.b64decode,
        "SS": set,
        "NS": lambda v: {_parse_number(item) for item in v},
        "BS": lambda v: {base64.b64decode(item) for item in v},
        "M": lambda v: {key: deserialize(item) for key, item in v.items()},
        "L": lambda v: [deserialize(item) for item in v],
    }
    if kind not in decoders:
        raise ValueError(f"expected an AttributeValue type in {sorted(decoders)}, got {kind!r}")
    return decoders[kind](value)


def deserialize_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The inverse of :func:`serialize_item`."""
    return {name: deserialize(value) for name, value in item.items()}


def _parse_number(text: str) -> int | Decimal:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() and "." not in text else number


def dynamodb_record(
    *,
    event_name: str = "INSERT",
    keys: Mapping[str, Any] | None = None,
    new_image: Mapping[str, Any] | None = None,
    old_image: Mapping[str, Any] | None = None,
    stream_view_type: str = "NEW_AND_OLD_IMAGES",
    table: str = "ExampleTableWithStream",
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    ids: Ids | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One stream record. Items are plain Python values, encoded with :func:`serialize`.

    ``keys`` defaults to ``{"Id": 101}``. Images the view type or the event does not carry are
    left out (no ``NewImage`` on ``REMOVE``, no ``OldImage`` on ``INSERT``, none for
    ``KEYS_ONLY``) whatever was passed, as the stream does.
    """
    if event_name not in _EVENT_NAMES:
        raise ValueError(f"expected event_name in {_EVENT_NAMES}, got {event_name!r}")
    if stream_view_type not in _VIEW_TYPES:
        raise ValueError(f"expected stream_view_type in {_VIEW_TYPES}, got {stream_view_type!r}")
    ids = ids or Ids()
    when = resolve_now(now)
    key_item = dict(keys) if keys is not None else {"Id": 101}
    stream: dict[str, Any] = {
        "ApproximateCreationDateTime": int(when.timestamp()),
        "Keys": serialize_item(key_item),
    }
    new = event_name != "REMOVE" and stream_view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    old = event_name != "INSERT" and stream_view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    if new:
        stream["NewImage"] = serialize_item({**key_item, **(new_image or {})})
    if old:
        stream["OldImage"] = serialize_item({**key_item, **(old_image or {})})
    stream["SequenceNumber"] = ids.digits(21)
    stream["SizeBytes"] = len(json.dumps(stream, separators=(",", ":")).encode("utf-8"))
    stream["StreamViewType"] = stream_view_type
    label = iso_ms(when).rstrip("Z")  # the stream label: creation time to the ms, no zone
    return {
        "eventID": ids.hex(32),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": stream,
        "eventSourceARN": arn(
            "dynamodb", f"table/{table}/stream/{label}", region=region, account_id=account_id
        ),
    }


def dynamodb_event(
    *,
    event_name: str = "INSERT",
    keys: Mapping[str, Any] | None = None,
    new_image: Mapping[str, Any] | None = None,
    old_image: Mapping[str, Any] | None = None,
    records: Sequence[Mapping[str, Any]] | None = None,
    stream_view_type: str = "NEW_AND_OLD_IMAGES",
    table: str = "ExampleTableWithStream",
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A DynamoDB Streams batch: one record from the arguments, or ``records`` verbatim."""
    if records is not None:
        return {"Records": [dict(record) for record in records]}
    record = dynamodb_record(
        event_name=event_name,
        keys=keys,
        new_image=new_image,
        old_image=old_image,
        stream_view_type=stream_view_type,
        table=table,
        account_id=account_id,
        region=region,
        ids=Ids(seed),
        now=now,
    )
    return {"Records": [record]}
