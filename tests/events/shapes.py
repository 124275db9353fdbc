"""Compare an event's structure with AWS's SAM sample events.

``render`` loads one SAM template (``<service>/<Name>.json``) and fills its ``{{{placeholders}}}``
the way ``sam local generate-event`` does with its defaults (values from SAM's
``event-mapping.json``: base64 bodies, URL-encoded keys, MD5 of the SQS body).
``shape_diff`` walks two JSON values and reports structural differences as strings:
``-path`` (in SAM, missing from ours), ``+path`` (ours only), ``~path: ours T, sam T`` (types).
Keys under a path listed in ``maps`` are data (headers, attributes...), so only their value
types are compared.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

_B64_BODY = base64.b64encode(b'{"test":"body"}').decode()
_COMMON = {"account_id": "123456789012", "partition": "aws", "region": "us-east-1"}

# Per-template substitutions: SAM's defaults, already transformed (encoding/hashing).
SAM_VALUES: dict[str, dict[str, str]] = {
    "alb/ALBRequest.json": {
        "body": _B64_BODY,
        "method": "POST",
        "path": "path/to/resource",
        "dns_suffix": "us-east-2.elb.amazonaws.com",
    },
    "apigateway/AwsProxy.json": {
        "body": _B64_BODY,
        "stage": "prod",
        "method": "POST",
        "resource": "/{proxy+}",
        "path": "path/to/resource",
        "dns_suffix": "us-east-1.amazonaws.com",
    },
    "apigateway/HttpApi.json": {
        "body": _B64_BODY,
        "stage": "$default",
        "method": "POST",
        "path": "path/to/resource",
        "dns_suffix": "us-east-1.amazonaws.com",
    },
    "cloudwatch/ScheduledEvent.json": {"rule": "ExampleRule"},
    "dynamodb/DynamoDBUpdate.json": {"table": "ExampleTableWithStream"},
    "kinesis/Kinesis.json": {
        "sequence": "49545115243490985018280067714973144582180062593244200961",
        "data": base64.b64encode(b"Hello, this is a test 123.").decode(),
        "partition_key": "partitionKey-03",
    },
    "s3/S3Put.json": {"bucket": "example-bucket", "key": "test/key"},
    "s3/S3Delete.json": {"bucket": "example-bucket", "key": "test/key"},
    "sns/Sns.json": {
        "topic": "ExampleTopic",
        "subject": "example subject",
        "message": "example message",
    },
    "sqs/Sqs.json": {
        "queue_name": "MyQueue",
        "body": "Hello from SQS!",
        "md5_of_body": hashlib.md5(b"Hello from SQS!").hexdigest(),
    },
}
# SAM's "dict"-typed tags: the whole string placeholder becomes a JSON object.
_DICT_VALUES = {"querystringparameters": {"foo": "bar"}}
_PLACEHOLDER = re.compile(r"\{\{\{([A-Za-z0-9_]+)\}\}\}")


def render(events_dir: Path, template: str) -> Any:
    """The SAM sample ``template`` with its placeholders filled with SAM's defaults."""
    values = {**_COMMON, **SAM_VALUES[template]}
    data = json.loads((events_dir / template).read_text(encoding="utf-8"))
    return _fill(data, values)


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in _DICT_VALUES:
            return _DICT_VALUES[whole.group(1)]
        # Unknown placeholders render empty, as chevron does.
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), value)
    return value


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def shape_diff(ours: Any, sam: Any, maps: frozenset[str] = frozenset(), path: str = "") -> set[str]:
    """Structural differences between ``ours`` and ``sam`` (see the module docstring)."""
    label = path or "."
    ours_type, sam_type = type_name(ours), type_name(sam)
    if ours_type != sam_type:
        return {f"~{label}: ours {ours_type}, sam {sam_type}"}
    if ours_type == "array":
        if not (ours and sam):
            return set()
        # Same length: compare item by item (SAM's DynamoDB sample has INSERT, MODIFY, REMOVE);
        # otherwise every item of ours against SAM's first.
        refs = sam if len(sam) == len(ours) else [sam[0]] * len(ours)
        return set().union(*(shape_diff(o, r, maps, path + "[]") for o, r in zip(ours, refs)))
    if ours_type != "object":
        return set()
    if path in maps:
        ours_values = {type_name(v) for v in ours.values()}
        sam_values = {type_name(v) for v in sam.values()}
        if ours_values and sam_values and ours_values != sam_values:
            return {f"~{label}{{}}: ours {sorted(ours_values)}, sam {sorted(sam_values)}"}
        return set()
    diffs: set[str] = set()
    for key in sam.keys() | ours.keys():
        child = f"{path}.{key}" if path else key
        if key not in ours:
            diffs.add(f"-{child}")
        elif key not in sam:
            diffs.add(f"+{child}")
        else:
            diffs |= shape_diff(ours[key], sam[key], maps, child)
    return diffs
