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


def test_all_names_every_public_builder() -> None:
    """The list itself is pinned in tests/test_public_api.py; here: nothing public is left out."""
    public = {n for n in vars(lambdarig.events) if n.isidentifier() and not n.startswith("_")}
    modules = {
        "alb", "apigateway", "cognito", "dynamodb", "eventbridge", "function_url", "kinesis",
        "proxy", "s3", "sns", "sqs", "annotations",
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
