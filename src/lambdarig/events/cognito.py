"""Cognito user-pool Lambda triggers: pre sign-up, post confirmation, pre token generation.

All triggers share one envelope: ``version``, ``triggerSource``, ``region``, ``userPoolId``,
``userName``, ``callerContext`` (``awsSdkVersion``, ``clientId``), ``request`` and ``response``
(pre-filled with the defaults Cognito sends; the handler edits and returns the event). Attribute
values are all strings, as Cognito sends them (``"email_verified": "true"``).
``clientMetadata`` appears only when the app passed ``ClientMetadata``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lambdarig.events._common import DEFAULT_REGION, Ids

_PRE_SIGN_UP_SOURCES = (
    "PreSignUp_SignUp",
    "PreSignUp_AdminCreateUser",
    "PreSignUp_ExternalProvider",
)
_POST_CONFIRMATION_SOURCES = (
    "PostConfirmation_ConfirmSignUp",
    "PostConfirmation_ConfirmForgotPassword",
)
_TOKEN_SOURCES = (
    "TokenGeneration_HostedAuth",
    "TokenGeneration_Authentication",
    "TokenGeneration_NewPasswordChallenge",
    "TokenGeneration_AuthenticateDevice",
    "TokenGeneration_RefreshTokens",
)


def _envelope(
    *,
    trigger_source: str,
    allowed: Sequence[str],
    version: str,
    user_name: str | None,
    user_pool_id: str | None,
    client_id: str | None,
    region: str,
    ids: Ids,
) -> tuple[dict[str, Any], str]:
    if trigger_source not in allowed:
        raise ValueError(f"expected trigger_source in {tuple(allowed)}, got {trigger_source!r}")
    sub = ids.uuid()
    event = {
        "version": version,
        "triggerSource": trigger_source,
        "region": region,
        "userPoolId": user_pool_id or f"{region}_{ids.alnum(9)}",
        "userName": user_name or sub,
        "callerContext": {
            "awsSdkVersion": "aws-sdk-unknown-unknown",
            "clientId": client_id or ids.lower_alnum(26),
        },
    }
    return event, sub


def _attributes(
    user_attributes: Mapping[str, str] | None, sub: str, status: str | None
) -> dict[str, str]:
    attributes = {"sub": sub}
    if status is not None:
        attributes["cognito:user_status"] = status
    attributes.update({"email_verified": "false", "email": "user@example.com"})
    attributes.update({str(k): str(v) for k, v in (user_attributes or {}).items()})
    return attributes


def _with_metadata(request: dict[str, Any], client_metadata: Mapping[str, str] | None) -> None:
    if client_metadata is not None:
        request["clientMetadata"] = {str(k): str(v) for k, v in client_metadata.items()}


def cognito_pre_sign_up_event(
    *,
    user_attributes: Mapping[str, str] | None = None,
    validation_data: Mapping[str, str] | None = None,
    client_metadata: Mapping[str, str] | None = None,
    trigger_source: str = "PreSignUp_SignUp",
    user_name: str | None = None,
    user_pool_id: str | None = None,
    client_id: str | None = None,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A pre sign-up trigger event; ``response`` holds the three ``auto…`` flags, all false.

    ``user_attributes`` are merged over ``sub``, ``email`` and ``email_verified``;
    ``validationData`` is ``null`` unless ``validation_data`` is given. ``now`` is accepted for
    a uniform signature (the event carries no timestamp).
    """
    del now
    event, sub = _envelope(
        trigger_source=trigger_source,
        allowed=_PRE_SIGN_UP_SOURCES,
        version="1",
        user_name=user_name,
        user_pool_id=user_pool_id,
        client_id=client_id,
        region=region,
        ids=Ids(seed),
    )
    request: dict[str, Any] = {
        "userAttributes": _attributes(user_attributes, sub, None),
        "validationData": dict(validation_data) if validation_data is not None else None,
    }
    _with_metadata(request, client_metadata)
    event["request"] = request
    event["response"] = {
        "autoConfirmUser": False,
        "autoVerifyEmail": False,
        "autoVerifyPhone": False,
    }
    return event


def cognito_post_confirmation_event(
    *,
    user_attributes: Mapping[str, str] | None = None,
    client_metadata: Mapping[str, str] | None = None,
    trigger_source: str = "PostConfirmation_ConfirmSignUp",
    user_name: str | None = None,
    user_pool_id: str | None = None,
    client_id: str | None = None,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A post confirmation trigger event (user status ``CONFIRMED``; ``response`` is ``{}``)."""
    del now
    event, sub = _envelope(
        trigger_source=trigger_source,
        allowed=_POST_CONFIRMATION_SOURCES,
        version="1",
        user_name=user_name,
        user_pool_id=user_pool_id,
        client_id=client_id,
        region=region,
        ids=Ids(seed),
    )
    request: dict[str, Any] = {"userAttributes": _attributes(user_attributes, sub, "CONFIRMED")}
    _with_metadata(request, client_metadata)
    event["request"] = request
    event["response"] = {}
    return event


def cognito_pre_token_generation_event(
    *,
    user_attributes: Mapping[str, str] | None = None,
    groups: Sequence[str] = (),
    iam_roles: Sequence[str] = (),
    preferred_role: str | None = None,
    scopes: Sequence[str] | None = None,
    client_metadata: Mapping[str, str] | None = None,
    trigger_source: str = "TokenGeneration_Authentication",
    version: str = "1",
    user_name: str | None = None,
    user_pool_id: str | None = None,
    client_id: str | None = None,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A pre token generation trigger event.

    ``version="1"`` (ID-token customisation): ``response.claimsOverrideDetails`` is ``null``.
    ``version="2"`` or ``"3"`` (access-token customisation) adds ``request.scopes`` (default
    ``["openid", "email"]``) and answers with ``response.claimsAndScopeOverrideDetails: null``.
    """
    del now
    if version not in ("1", "2", "3"):
        raise ValueError(f"expected version '1', '2' or '3', got {version!r}")
    event, sub = _envelope(
        trigger_source=trigger_source,
        allowed=_TOKEN_SOURCES,
        version=version,
        user_name=user_name,
        user_pool_id=user_pool_id,
        client_id=client_id,
        region=region,
        ids=Ids(seed),
    )
    request: dict[str, Any] = {
        "userAttributes": _attributes(user_attributes, sub, "CONFIRMED"),
        "groupConfiguration": {
            "groupsToOverride": list(groups),
            "iamRolesToOverride": list(iam_roles),
            "preferredRole": preferred_role,
        },
    }
    if version != "1":
        request["scopes"] = list(scopes) if scopes is not None else ["openid", "email"]
    _with_metadata(request, client_metadata)
    event["request"] = request
    key = "claimsOverrideDetails" if version == "1" else "claimsAndScopeOverrideDetails"
    event["response"] = {key: None}
    return event
