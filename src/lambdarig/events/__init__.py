"""``lambdarig.events``: realistic Lambda event payloads for tests (stdlib only).

Each builder takes the few fields a test cares about as keyword arguments and fills in the rest
so the event has the shape AWS sends (names, nesting, encodings); it returns a plain ``dict``.
Pass ``seed=`` for reproducible ids and ``now=`` for fixed timestamps::

    from lambdarig.events import sqs_event, batch_item_failures

    event = sqs_event(bodies=['{"id": 1}', '{"id": 2}'], seed=7)
    assert handler(event, None) == batch_item_failures([event["Records"][1]])

Unusable arguments raise ``ValueError`` (a value) or ``TypeError`` (a type) saying what was
expected and what arrived; this package defines no exceptions of its own.
"""

from __future__ import annotations

from lambdarig.events._common import Body, Ids
from lambdarig.events._registry import EVENT_BUILDERS, build_event
from lambdarig.events.alb import alb_event
from lambdarig.events.apigateway import api_gateway_rest_event, http_api_event
from lambdarig.events.cognito import (
    cognito_post_confirmation_event,
    cognito_pre_sign_up_event,
    cognito_pre_token_generation_event,
)
from lambdarig.events.dynamodb import (
    deserialize,
    deserialize_item,
    dynamodb_event,
    dynamodb_record,
    serialize,
    serialize_item,
)
from lambdarig.events.eventbridge import eventbridge_event, scheduled_event
from lambdarig.events.function_url import function_url_event
from lambdarig.events.kinesis import kinesis_event, kinesis_record
from lambdarig.events.s3 import s3_delete_event, s3_event, s3_put_event
from lambdarig.events.sns import sns_event, sns_record
from lambdarig.events.sqs import batch_item_failures, sqs_event, sqs_record

__all__ = [
    "EVENT_BUILDERS",
    "Body",
    "Ids",
    "alb_event",
    "api_gateway_rest_event",
    "batch_item_failures",
    "build_event",
    "cognito_post_confirmation_event",
    "cognito_pre_sign_up_event",
    "cognito_pre_token_generation_event",
    "deserialize",
    "deserialize_item",
    "dynamodb_event",
    "dynamodb_record",
    "eventbridge_event",
    "function_url_event",
    "http_api_event",
    "kinesis_event",
    "kinesis_record",
    "s3_delete_event",
    "s3_event",
    "s3_put_event",
    "scheduled_event",
    "serialize",
    "serialize_item",
    "sns_event",
    "sns_record",
    "sqs_event",
    "sqs_record",
]
