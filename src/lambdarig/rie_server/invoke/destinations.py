"""Where an ``Event`` invocation's outcome goes: destinations and dead-letter queues, as values.

A function's ``EventInvokeConfig`` names an ``OnSuccess`` and an ``OnFailure`` destination (a
function, an SQS queue, an SNS topic or an EventBridge bus, by ARN); when the invocation ends the
service sends the matching one an invocation record (``record``): ``version``, ``timestamp``,
``requestContext`` (``requestId``, the ``$LATEST``-qualified ``functionArn``, ``condition``,
``approximateInvokeCount``), ``requestPayload``, ``responseContext`` (``statusCode``,
``executedVersion``, ``functionError`` on failure) and ``responsePayload``
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html). A
``DeadLetterQueue`` (SQS or SNS) receives a failed invocation's event itself, with the message
attributes ``RequestID``, ``ErrorCode`` and ``ErrorMessage`` (its first KB).

``deliveries`` turns an ended invocation into the messages to send; sending is the caller's (a
function of the project is invoked, other ARNs go to a ``Sender`` the harness provides). No I/O.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from lambdarig import invoke_api
from lambdarig.rie_server.environments.outcomes import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.invoke.async_invocations import CONDITION_SUCCESS, EventResult
from lambdarig.rie_server.invoke.protocol import outcome_body

RECORD_VERSION = "1.0"
DLQ_MESSAGE_BYTES = 1024  # ErrorMessage: the first KB of the error message
# EventBridge: the detail-type of a destination record.
DETAIL_TYPE_SUCCESS = "Lambda Function Invocation Result - Success"
DETAIL_TYPE_FAILURE = "Lambda Function Invocation Result - Failure"
EVENT_SOURCE = "lambda"
KIND_ON_SUCCESS = "OnSuccess"
KIND_ON_FAILURE = "OnFailure"
KIND_DEAD_LETTER = "DeadLetterQueue"


@dataclass(frozen=True)
class EventDestinations:
    """A function's destinations (ARNs; None: none)."""

    on_success: Optional[str] = None  # noqa: UP045 (dataclass field evaluated on 3.9)
    on_failure: Optional[str] = None  # noqa: UP045
    dead_letter: Optional[str] = None  # noqa: UP045

    def __bool__(self) -> bool:
        return any((self.on_success, self.on_failure, self.dead_letter))


@dataclass(frozen=True)
class Delivery:
    """One message for one destination: ``body`` (JSON text) with ``attributes`` (string message
    attributes: a dead-letter message's); ``kind`` is ``KIND_*``, ``detail_type`` EventBridge's."""

    kind: str
    destination: str
    body: str
    source_arn: str
    detail_type: str
    attributes: Mapping[str, str] = field(default_factory=dict)


# Sends one delivery to an ARN outside the project (raises on failure, for the caller to log).
Sender = Callable[[Delivery], Awaitable[None]]


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", errors="replace")


def record(
    function_arn: str,
    request_id: str,
    payload: bytes,
    result: EventResult,
    now: datetime.datetime,
    executed_version: str = invoke_api.LATEST_VERSION,
) -> dict[str, Any]:
    """The invocation record of ``result`` (``function_arn`` unqualified)."""
    document: dict[str, Any] = {
        "version": RECORD_VERSION,
        "timestamp": now.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{now.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:{executed_version}",
            "condition": result.condition,
            "approximateInvokeCount": result.attempts,
        },
        "requestPayload": _json_or_text(payload),
    }
    outcome = result.outcome
    if outcome is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": executed_version}
        if outcome.kind is not OutcomeKind.SUCCESS:
            context["functionError"] = invoke_api.FUNCTION_ERROR_UNHANDLED
        document["responseContext"] = context
        body = outcome_body(outcome)
        document["responsePayload"] = _json_or_text(body) if body else None
    return document


def dead_letter_attributes(
    request_id: str, outcome: InvokeOutcome | None, *, throttled: bool = False
) -> dict[str, str]:
    """``RequestID``, ``ErrorCode`` (the invoke's status code: 429 when ``throttled``) and
    ``ErrorMessage``."""
    message = ""
    if throttled:
        message = invoke_api.MESSAGE_RATE_EXCEEDED
    elif outcome is not None:
        error = _json_or_text(outcome_body(outcome))
        message = str(error.get("errorMessage", "")) if isinstance(error, dict) else str(error)
        message = message or outcome.error_message or outcome.error_type or ""
    else:
        message = "Event age exceeded"
    encoded = message.encode("utf-8")[:DLQ_MESSAGE_BYTES]
    return {
        "RequestID": request_id,
        "ErrorCode": "429" if throttled else "200",
        "ErrorMessage": encoded.decode("utf-8", errors="ignore"),
    }


def deliveries(
    destinations: EventDestinations,
    function_arn: str,
    request_id: str,
    payload: bytes,
    result: EventResult,
    now: datetime.datetime,
) -> list[Delivery]:
    """The messages ``result`` sends: the record to ``OnSuccess`` or ``OnFailure``, and on
    failure the event to the dead-letter queue."""
    success = result.condition == CONDITION_SUCCESS
    out: list[Delivery] = []
    target = destinations.on_success if success else destinations.on_failure
    if target:
        body = json.dumps(record(function_arn, request_id, payload, result, now))
        kind = KIND_ON_SUCCESS if success else KIND_ON_FAILURE
        detail = DETAIL_TYPE_SUCCESS if success else DETAIL_TYPE_FAILURE
        out.append(Delivery(kind, target, body, function_arn, detail))
    if not success and destinations.dead_letter:
        attributes = dead_letter_attributes(request_id, result.outcome, throttled=result.throttled)
        event = payload.decode("utf-8", errors="replace")
        out.append(
            Delivery(
                KIND_DEAD_LETTER,
                destinations.dead_letter,
                event,
                function_arn,
                DETAIL_TYPE_FAILURE,
                attributes,
            )
        )
    return out
