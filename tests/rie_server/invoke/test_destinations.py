"""Destination records and dead-letter messages, as the service builds them (no I/O)."""

from __future__ import annotations

import datetime
import json

from lambdarig.rie_server.environments.environment import OutcomeKind
from lambdarig.rie_server.invoke.async_invocations import (
    CONDITION_EVENT_AGE_EXCEEDED,
    CONDITION_RETRIES_EXHAUSTED,
    CONDITION_SUCCESS,
    EventResult,
)
from lambdarig.rie_server.invoke.destinations import (
    DLQ_MESSAGE_BYTES,
    EventDestinations,
    deliveries,
    record,
)
from tests.rie_server.fake_environment import outcome

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:worker"
REQUEST_ID = "11111111-2222-3333-4444-555555555555"
NOW = datetime.datetime(2019, 11, 24, 23, 8, 25, 651000, tzinfo=datetime.timezone.utc)
DESTINATIONS = EventDestinations(
    on_success="arn:aws:sqs:eu-west-1:123456789012:ok",
    on_failure="arn:aws:sns:eu-west-1:123456789012:failed",
    dead_letter="arn:aws:sqs:eu-west-1:123456789012:dead",
)


def test_a_success_record_has_the_services_shape() -> None:
    result = EventResult(CONDITION_SUCCESS, 1, outcome(OutcomeKind.SUCCESS, b'{"ok": 1}'))
    assert record(ARN, REQUEST_ID, b'{"a": 1}', result, NOW) == {
        "version": "1.0",
        "timestamp": "2019-11-24T23:08:25.651Z",
        "requestContext": {
            "requestId": REQUEST_ID,
            "functionArn": ARN + ":$LATEST",
            "condition": "Success",
            "approximateInvokeCount": 1,
        },
        "requestPayload": {"a": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": {"ok": 1},
    }


def test_a_failure_goes_to_on_failure_and_the_dead_letter_queue() -> None:
    error = b'{"errorMessage": "boom", "errorType": "ValueError"}'
    failed = outcome(OutcomeKind.FUNCTION_ERROR, error, error_type="ValueError")
    result = EventResult(CONDITION_RETRIES_EXHAUSTED, 3, failed)
    sent = deliveries(DESTINATIONS, ARN, REQUEST_ID, b'{"a": 1}', result, NOW)
    assert [(d.kind, d.destination) for d in sent] == [
        ("OnFailure", DESTINATIONS.on_failure),
        ("DeadLetterQueue", DESTINATIONS.dead_letter),
    ]
    body = json.loads(sent[0].body)
    assert body["responseContext"]["functionError"] == "Unhandled"
    assert body["responsePayload"]["errorType"] == "ValueError"
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert sent[1].body == '{"a": 1}'
    assert sent[1].attributes == {
        "RequestID": REQUEST_ID,
        "ErrorCode": "200",
        "ErrorMessage": "boom",
    }


def test_an_expired_event_that_never_ran_has_no_response() -> None:
    result = EventResult(CONDITION_EVENT_AGE_EXCEEDED, 0, None)
    sent = deliveries(DESTINATIONS, ARN, REQUEST_ID, b"{}", result, NOW)
    body = json.loads(sent[0].body)
    assert body["requestContext"]["condition"] == "EventAgeExceeded"
    assert "responseContext" not in body and "responsePayload" not in body


def test_the_dead_letter_error_message_is_cut_at_one_kb() -> None:
    error = json.dumps({"errorMessage": "é" * 2000}).encode()
    result = EventResult(CONDITION_RETRIES_EXHAUSTED, 1, outcome(OutcomeKind.FUNCTION_ERROR, error))
    dead = deliveries(DESTINATIONS, ARN, REQUEST_ID, b"{}", result, NOW)[1]
    assert len(dead.attributes["ErrorMessage"].encode()) <= DLQ_MESSAGE_BYTES


def test_a_success_without_on_success_sends_nothing() -> None:
    result = EventResult(CONDITION_SUCCESS, 1, outcome(OutcomeKind.SUCCESS, b"null"))
    assert deliveries(EventDestinations(on_failure=ARN), ARN, REQUEST_ID, b"{}", result, NOW) == []


def test_a_throttled_event_has_no_response_and_a_429_dead_letter() -> None:
    """Reserved concurrency 0: the event goes to OnFailure and the dead-letter queue unrun."""
    result = EventResult(CONDITION_RETRIES_EXHAUSTED, 0, None, throttled=True)
    sent = deliveries(DESTINATIONS, ARN, REQUEST_ID, b'{"a": 1}', result, NOW)
    body = json.loads(sent[0].body)
    assert body["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in body and "responsePayload" not in body
    assert sent[1].attributes == {
        "RequestID": REQUEST_ID,
        "ErrorCode": "429",
        "ErrorMessage": "Rate Exceeded.",
    }
