"""Cognito user-pool triggers. SAM ships no sample for these, so the reference shapes below are
written from the Amazon Cognito Developer Guide ("Lambda trigger parameters" pages for pre sign-up,
post confirmation and pre token generation, including the shared parameters)."""

from __future__ import annotations

from typing import Any

import pytest

from lambdarig.events import (
    cognito_post_confirmation_event,
    cognito_pre_sign_up_event,
    cognito_pre_token_generation_event,
)
from tests.events.shapes import shape_diff

ENVELOPE: dict[str, Any] = {
    "version": "1",
    "triggerSource": "",
    "region": "",
    "userPoolId": "",
    "userName": "",
    "callerContext": {"awsSdkVersion": "", "clientId": ""},
}
ATTRIBUTE_MAPS = frozenset({"request.userAttributes", "request.clientMetadata"})


def test_pre_sign_up_matches_the_documented_shape() -> None:
    reference = {
        **ENVELOPE,
        "request": {"userAttributes": {"email": ""}, "validationData": None, "clientMetadata": {}},
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    }
    event = cognito_pre_sign_up_event(client_metadata={"k": "v"}, seed=1)
    assert shape_diff(event, reference, ATTRIBUTE_MAPS) == set()
    assert event["triggerSource"] == "PreSignUp_SignUp"
    assert "clientMetadata" not in cognito_pre_sign_up_event()["request"]


def test_post_confirmation_matches_the_documented_shape() -> None:
    reference = {
        **ENVELOPE,
        "request": {"userAttributes": {"email": ""}, "clientMetadata": {}},
        "response": {},
    }
    event = cognito_post_confirmation_event(client_metadata={"k": "v"}, seed=1)
    assert shape_diff(event, reference, ATTRIBUTE_MAPS) == set()
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"


def test_pre_token_generation_v1_matches_the_documented_shape() -> None:
    reference = {
        **ENVELOPE,
        "request": {
            "userAttributes": {"email": ""},
            "groupConfiguration": {
                "groupsToOverride": [""],
                "iamRolesToOverride": [""],
                "preferredRole": "",
            },
        },
        "response": {"claimsOverrideDetails": None},
    }
    event = cognito_pre_token_generation_event(
        groups=["admins"], iam_roles=["arn:aws:iam::123456789012:role/r"], preferred_role="r"
    )
    assert shape_diff(event, reference, ATTRIBUTE_MAPS) == set()
    assert event["triggerSource"] == "TokenGeneration_Authentication"


def test_pre_token_generation_v2_adds_scopes_and_the_v2_response() -> None:
    event = cognito_pre_token_generation_event(
        version="2", scopes=["openid", "aws.cognito.signin.user.admin"]
    )
    assert event["version"] == "2"
    assert event["request"]["scopes"] == ["openid", "aws.cognito.signin.user.admin"]
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}
    assert event["request"]["groupConfiguration"]["preferredRole"] is None


def test_user_attributes_are_strings_merged_over_the_defaults() -> None:
    event = cognito_pre_sign_up_event(
        user_attributes={"email": "a@example.com", "custom:age": 30},  # type: ignore[dict-item]
        user_name="alice",
        user_pool_id="us-east-1_abc",
        client_id="client",
        region="us-east-1",
    )
    attributes = event["request"]["userAttributes"]
    assert attributes["email"] == "a@example.com"
    assert attributes["custom:age"] == "30"
    assert attributes["email_verified"] == "false"
    assert event["userName"] == "alice" and event["userPoolId"] == "us-east-1_abc"
    assert event["callerContext"]["clientId"] == "client"


def test_default_user_name_is_the_sub() -> None:
    event = cognito_post_confirmation_event(seed=4)
    assert event["userName"] == event["request"]["userAttributes"]["sub"]
    assert event["userPoolId"].startswith("us-east-1_")


@pytest.mark.parametrize(
    ("builder", "source"),
    [
        (cognito_pre_sign_up_event, "PostConfirmation_ConfirmSignUp"),
        (cognito_post_confirmation_event, "PreSignUp_SignUp"),
        (cognito_pre_token_generation_event, "PreSignUp_SignUp"),
    ],
)
def test_trigger_sources_are_checked(builder: Any, source: str) -> None:
    with pytest.raises(ValueError, match=f"expected trigger_source in .*got '{source}'"):
        builder(trigger_source=source)


def test_pre_token_generation_versions_are_checked() -> None:
    with pytest.raises(ValueError, match="expected version '1', '2' or '3', got '4'"):
        cognito_pre_token_generation_event(version="4")
