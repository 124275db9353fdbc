"""The event types by name, as ``lambdarig event TYPE`` lists them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from lambdarig.events.alb import alb_event
from lambdarig.events.apigateway import api_gateway_rest_event, http_api_event
from lambdarig.events.cognito import (
    cognito_post_confirmation_event,
    cognito_pre_sign_up_event,
    cognito_pre_token_generation_event,
)
from lambdarig.events.dynamodb import dynamodb_event
from lambdarig.events.eventbridge import eventbridge_event, scheduled_event
from lambdarig.events.function_url import function_url_event
from lambdarig.events.kinesis import kinesis_event
from lambdarig.events.s3 import s3_delete_event, s3_event, s3_put_event
from lambdarig.events.sns import sns_event
from lambdarig.events.sqs import sqs_event

#: Event type name -> builder. Every builder takes keyword arguments only and returns a dict.
EVENT_BUILDERS: Mapping[str, Callable[..., dict[str, Any]]] = {
    "apigateway-rest": api_gateway_rest_event,
    "http-api": http_api_event,
    "function-url": function_url_event,
    "alb": alb_event,
    "sqs": sqs_event,
    "sns": sns_event,
    "s3": s3_event,
    "s3-put": s3_put_event,
    "s3-delete": s3_delete_event,
    "eventbridge": eventbridge_event,
    "scheduled": scheduled_event,
    "dynamodb": dynamodb_event,
    "kinesis": kinesis_event,
    "cognito-pre-sign-up": cognito_pre_sign_up_event,
    "cognito-post-confirmation": cognito_post_confirmation_event,
    "cognito-pre-token-generation": cognito_pre_token_generation_event,
}


def build_event(event_type: str, **fields: Any) -> dict[str, Any]:
    """``EVENT_BUILDERS[event_type](**fields)``; a ``KeyError`` names the known types."""
    try:
        builder = EVENT_BUILDERS[event_type]
    except KeyError:
        known = ", ".join(EVENT_BUILDERS)
        raise KeyError(f"expected an event type among {known}; got {event_type!r}") from None
    return builder(**fields)
