"""EventBridge (CloudWatch Events) events, including scheduled-rule events.

Every EventBridge event has the same envelope: ``version`` ("0"), ``id``, ``detail-type``,
``source``, ``account``, ``time`` (ISO-8601, seconds, ``Z``), ``region``, ``resources`` and
``detail``. AWS's SAM scheduled-event sample omits ``version``; the service sends it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lambdarig.events._common import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    Ids,
    arn,
    iso_seconds,
    resolve_now,
)


def eventbridge_event(
    *,
    detail: Mapping[str, Any] | None = None,
    detail_type: str = "Custom Event",
    source: str = "com.example.app",
    resources: Sequence[str] = (),
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An EventBridge event as a rule target receives it (``detail`` defaults to ``{}``)."""
    ids = Ids(seed)
    return {
        "version": "0",
        "id": ids.uuid(),
        "detail-type": detail_type,
        "source": source,
        "account": account_id,
        "time": iso_seconds(resolve_now(now)),
        "region": region,
        "resources": list(resources),
        "detail": dict(detail or {}),
    }


def scheduled_event(
    *,
    rule: str = "ExampleRule",
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The event a scheduled rule (``rate(...)``/``cron(...)``) sends: source ``aws.events``."""
    return eventbridge_event(
        detail={},
        detail_type="Scheduled Event",
        source="aws.events",
        resources=[arn("events", f"rule/{rule}", region=region, account_id=account_id)],
        account_id=account_id,
        region=region,
        seed=seed,
        now=now,
    )
