"""S3 event notifications (``ObjectCreated:*``, ``ObjectRemoved:*``) delivered to Lambda.

The object key is sent URL-encoded the way S3 does it (form encoding: spaces become ``+``,
``/`` stays): decode with ``urllib.parse.unquote_plus``. AWS's SAM sample renders keys with
``quote`` (spaces as ``%20``); the service uses ``+``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from lambdarig.events._common import (
    DEFAULT_PARTITION,
    DEFAULT_REGION,
    SOURCE_IP,
    Ids,
    iso_ms,
    resolve_now,
)


def encode_key(key: str) -> str:
    """An object key as it appears in ``s3.object.key``."""
    return quote_plus(key, safe="/")


def s3_event(
    *,
    event_name: str = "ObjectCreated:Put",
    bucket: str = "example-bucket",
    key: str = "test/key",
    size: int | None = 1024,
    etag: str | None = None,
    version_id: str | None = None,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An S3 notification with one record for ``event_name`` (e.g. ``"ObjectCreated:Copy"``).

    ``size`` and ``eTag`` appear for ``ObjectCreated:*`` events only (``etag`` defaults to a
    random MD5-like hex); ``versionId`` only when ``version_id`` is given (versioned buckets).
    """
    ids = Ids(seed)
    when = resolve_now(now)
    principal = "AWS:AIDA" + ids.upper_alnum(17)
    obj: dict[str, Any] = {"key": encode_key(key)}
    if event_name.startswith("ObjectCreated:"):
        if size is not None:
            obj["size"] = size
        obj["eTag"] = etag or ids.hex(32)
    if version_id is not None:
        obj["versionId"] = version_id
    obj["sequencer"] = ids.hex(18).upper()
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": iso_ms(when),
        "eventName": event_name,
        "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": SOURCE_IP},
        "responseElements": {
            "x-amz-request-id": ids.hex(16).upper(),
            "x-amz-id-2": ids.alnum(76),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "lambdarig-notification",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": ids.upper_alnum(14)},
                "arn": f"arn:{DEFAULT_PARTITION}:s3:::{bucket}",
            },
            "object": obj,
        },
    }
    return {"Records": [record]}


def s3_put_event(
    *,
    bucket: str = "example-bucket",
    key: str = "test/key",
    size: int = 1024,
    etag: str | None = None,
    version_id: str | None = None,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An ``ObjectCreated:Put`` notification for ``s3://bucket/key``."""
    return s3_event(
        event_name="ObjectCreated:Put",
        bucket=bucket,
        key=key,
        size=size,
        etag=etag,
        version_id=version_id,
        region=region,
        seed=seed,
        now=now,
    )


def s3_delete_event(
    *,
    bucket: str = "example-bucket",
    key: str = "test/key",
    version_id: str | None = None,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An ``ObjectRemoved:Delete`` notification (no ``size``/``eTag``, as S3 sends it)."""
    return s3_event(
        event_name="ObjectRemoved:Delete",
        bucket=bucket,
        key=key,
        version_id=version_id,
        region=region,
        seed=seed,
        now=now,
    )
