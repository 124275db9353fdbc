"""SNS notifications delivered to a Lambda subscription.

``MessageAttributes`` use SNS's Lambda encoding ``{"Type": ..., "Value": ...}``: ``String``,
``Number`` (value as a string), ``Binary`` (value base64) and ``String.Array`` (value a JSON
array text). ``Subject`` is ``null`` when none was published.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
    iso_ms,
    resolve_now,
)

#: ``str`` (String), ``int``/``float`` (Number), ``bytes`` (Binary), a list (String.Array), or an
#: already-encoded ``{"Type": ..., "Value": ...}`` mapping.
SnsAttribute = Union[str, int, float, bytes, Sequence[Any], Mapping[str, Any]]


def sns_message_attribute(value: SnsAttribute) -> dict[str, Any]:
    """One entry of ``MessageAttributes`` as Lambda receives it."""
    if isinstance(value, Mapping):
        if "Type" not in value or "Value" not in value:
            raise ValueError(f"expected a mapping with 'Type' and 'Value', got {dict(value)!r}")
        return {"Type": value["Type"], "Value": value["Value"]}
    if isinstance(value, bool):
        raise TypeError("expected str, int, float, bytes, a list or a mapping, got bool")
    if isinstance(value, str):
        return {"Type": "String", "Value": value}
    if isinstance(value, bytes):
        return {"Type": "Binary", "Value": b64(value)}
    if isinstance(value, (int, float)):
        return {"Type": "Number", "Value": str(value)}
    return {"Type": "String.Array", "Value": json.dumps(list(value))}


def sns_record(
    *,
    message: Body = "example message",
    subject: str | None = None,
    message_attributes: Mapping[str, SnsAttribute] | None = None,
    topic: str = "ExampleTopic",
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    ids: Ids | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One SNS record; ``message`` is text (JSON values are serialised)."""
    ids = ids or Ids()
    topic_arn = arn("sns", topic, region=region, account_id=account_id)
    host = f"https://sns.{region}.amazonaws.com"
    subscription_arn = f"{topic_arn}:{ids.uuid()}"
    message_id = ids.uuid()
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": body_text(message),
            "Timestamp": iso_ms(resolve_now(now)),
            "SignatureVersion": "1",
            "Signature": b64(ids.alnum(256)),
            "SigningCertUrl": f"{host}/SimpleNotificationService-{ids.hex(32)}.pem",
            "UnsubscribeUrl": f"{host}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}",
            "MessageAttributes": {
                name: sns_message_attribute(value)
                for name, value in (message_attributes or {}).items()
            },
        },
    }


def sns_event(
    *,
    message: Body = "example message",
    messages: Sequence[Body] | None = None,
    subject: str | None = None,
    message_attributes: Mapping[str, SnsAttribute] | None = None,
    topic: str = "ExampleTopic",
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An SNS event ``{"Records": [...]}``: one record for ``message`` or one per ``messages``.

    (SNS invokes Lambda with exactly one record; several are only useful for handler loops.)
    """
    ids = Ids(seed)
    return {
        "Records": [
            sns_record(
                message=item,
                subject=subject,
                message_attributes=message_attributes,
                topic=topic,
                account_id=account_id,
                region=region,
                ids=ids,
                now=now,
            )
            for item in (messages if messages is not None else [message])
        ]
    }
