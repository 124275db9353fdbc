"""The public surface of lambdarig.events: pinned names, the registry, and properties every
builder must have (JSON-serialisable, deterministic with seed and now, stdlib only)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

import pytest

import lambdarig.events
from lambdarig.events import EVENT_BUILDERS, build_event

NOW = datetime(2024, 2, 29, 23, 59, 59, tzinfo=timezone.utc)


def test_all_is_pinned() -> None:
    assert lambdarig.events.__all__ == [
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
    public = {n for n in vars(lambdarig.events) if n.isidentifier() and not n.startswith("_")}
    modules = {
        "alb", "apigateway", "cognito", "dynamodb", "eventbridge", "kinesis", "s3", "sns", "sqs",
        "annotations",
    }  # fmt: skip
    assert public - modules == set(lambdarig.events.__all__)


def test_registry_lists_every_source_family() -> None:
    assert list(EVENT_BUILDERS) == [
        "apigateway-rest",
        "http-api",
        "function-url",
        "alb",
        "sqs",
        "sns",
        "s3",
        "s3-put",
        "s3-delete",
        "eventbridge",
        "scheduled",
        "dynamodb",
        "kinesis",
        "cognito-pre-sign-up",
        "cognito-post-confirmation",
        "cognito-pre-token-generation",
    ]


@pytest.mark.parametrize("name", list(EVENT_BUILDERS))
def test_defaults_are_json_and_deterministic_with_seed_and_now(name: str) -> None:
    builder = EVENT_BUILDERS[name]
    event = builder(seed=42, now=NOW)
    assert json.loads(json.dumps(event)) == event
    assert builder(seed=42, now=NOW) == event
    assert builder(seed=43, now=NOW) != event
    assert (builder.__doc__ or "").strip(), f"{name} builder needs a docstring"


def test_build_event_by_name_and_unknown_names() -> None:
    built = build_event("sqs", body="x", seed=1, now=NOW)
    assert built == EVENT_BUILDERS["sqs"](body="x", seed=1, now=NOW)
    with pytest.raises(
        KeyError, match="expected an event type among apigateway-rest, .*got 'nope'"
    ):
        build_event("nope")


def test_importing_events_pulls_in_no_third_party_module() -> None:
    code = (
        "import sys; import lambdarig.events; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'aiohttp', 'httpx', 'docker', 'boto3', 'botocore', 'pytest', 'yaml'}); print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
