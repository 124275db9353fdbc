"""Lambda authorizers, sans-IO: events, decisions, answers, context, cache.

Sources: event shapes https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
and https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html;
REST 401/403 https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer (the
403 body as API Gateway sends it, ``{"Message":...}``, 82 bytes); REST 500 ``{"message": null}``
https://loige.co/debugging-custom-apigateway-authorizers/; HTTP API 401 for a missing identity
source and 500 for an invalid answer: the HTTP API page above.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from lambdarig.rie_server.fronts.authorizer_cache import AuthorizerCache
from lambdarig.rie_server.fronts.authorizers import (
    AuthorizerError,
    Call,
    LambdaAuthorizer,
    Refusal,
    Verdict,
    answer,
    decide,
    event_context,
    interpret,
    prepare,
)
from lambdarig.rie_server.fronts.events import FrontRequest, event_dict
from lambdarig.rie_server.fronts.routing import Route, RouteError, RouteTable

NOW = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
TOKEN = LambdaAuthorizer("Tok", "AuthFn", "TOKEN", ("method.request.header.Authorization",), 300)
REQUEST = LambdaAuthorizer(
    "Req",
    "AuthFn",
    "REQUEST",
    ("method.request.header.X-User", "method.request.querystring.tenant"),
    300,
)
HTTP_V2 = LambdaAuthorizer(
    "Simple", "AuthFn", "REQUEST", ("$request.header.Authorization",), 0, "2.0", True
)
HTTP_V1 = LambdaAuthorizer("V1", "AuthFn", "REQUEST", ("$request.header.Authorization",), 0)


def base(
    kind: str, target: str = "/items/7?tenant=t1", version: str | None = None, **headers: str
) -> dict[str, Any]:
    path = "/items/{id}"
    route = Route(kind, "GET", path, "Fn", api_id="api123")
    match = RouteTable([route]).match("GET", target.partition("?")[0])
    assert match is not None
    request = FrontRequest(
        "GET", target, list(headers.items()), b"", "127.0.0.1", 3000, "req-1", NOW
    )
    return event_dict(match, request, version=version)


def call(authorizer: LambdaAuthorizer, kind: str, event: dict[str, Any], stage: str) -> Call:
    prepared = prepare(authorizer, kind, event, stage)
    assert isinstance(prepared, Call)
    return prepared


def test_rest_token_event() -> None:
    prepared = call(TOKEN, "rest", base("rest", Authorization="Bearer x"), "Prod")
    assert json.loads(prepared.event) == {
        "type": "TOKEN",
        "authorizationToken": "Bearer x",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api123/Prod/GET/items/7",
    }
    assert prepared.cache_key == ("Tok", "Bearer x")


def test_rest_request_event_is_the_request_without_body() -> None:
    event = base("rest", **{"X-User": "u1"})
    prepared = call(REQUEST, "rest", event, "Prod")
    sent = json.loads(prepared.event)
    assert list(sent)[:2] == ["type", "methodArn"]
    assert sent["type"] == "REQUEST"
    assert sent["resource"] == "/items/{id}" and sent["path"] == "/items/7"
    assert sent["pathParameters"] == {"id": "7"}
    assert sent["queryStringParameters"] == {"tenant": "t1"}
    assert sent["multiValueHeaders"]["X-User"] == ["u1"]
    assert sent["requestContext"] == event["requestContext"]
    assert "body" not in sent
    assert prepared.identity == ("u1", "t1")


def test_http_api_v2_and_v1_events() -> None:
    v2 = json.loads(
        call(HTTP_V2, "http", base("http", version="2.0", Authorization="s"), "$default").event
    )
    assert (v2["version"], v2["type"], v2["identitySource"]) == ("2.0", "REQUEST", ["s"])
    assert v2["routeArn"] == (
        "arn:aws:execute-api:us-east-1:123456789012:api123/$default/GET/items/7"
    )
    assert v2["routeKey"] == "GET /items/{id}" and v2["rawQueryString"] == "tenant=t1"
    assert "body" not in v2 and "isBase64Encoded" not in v2
    v1 = json.loads(
        call(HTTP_V1, "http", base("http", version="1.0", Authorization="s"), "$default").event
    )
    assert (v1["version"], v1["identitySource"], v1["authorizationToken"]) == ("1.0", "s", "s")
    assert v1["methodArn"].endswith("/$default/GET/items/7")
    assert "multiValueHeaders" not in v1


@pytest.mark.parametrize(
    ("authorizer", "headers", "target"),
    [
        (TOKEN, {}, "/items/7"),
        (TOKEN, {"Authorization": ""}, "/items/7"),  # present but empty
        (REQUEST, {"X-User": "u"}, "/items/7"),  # query string source missing
        (REQUEST, {"X-User": "u"}, "/items/7?Tenant=t"),  # query names are case-sensitive
    ],
)
def test_a_missing_identity_source_is_401_without_invoking(
    authorizer: LambdaAuthorizer, headers: dict[str, str], target: str
) -> None:
    assert prepare(authorizer, "rest", base("rest", target, **headers), "Prod") is (
        Refusal.UNAUTHORIZED
    )


def test_header_sources_are_case_insensitive() -> None:
    assert isinstance(prepare(REQUEST, "rest", base("rest", **{"x-user": "u"}), "Prod"), Call)


def test_token_validation_expression() -> None:
    strict = LambdaAuthorizer(
        "Tok",
        "F",
        "TOKEN",
        ("method.request.header.Authorization",),
        0,
        validation_expression="Bearer .+",
    )
    assert prepare(strict, "rest", base("rest", Authorization="Basic x"), "Prod") is (
        Refusal.UNAUTHORIZED
    )
    assert isinstance(prepare(strict, "rest", base("rest", Authorization="Bearer x"), "Prod"), Call)


def test_no_cache_key_without_ttl() -> None:
    prepared = call(HTTP_V2, "http", base("http", version="2.0", Authorization="s"), "$default")
    assert prepared.cache_key is None


def policy(effect: str, resource: Any, action: Any = "execute-api:Invoke", **extra: Any) -> bytes:
    statement = {"Action": action, "Effect": effect, "Resource": resource}
    document = {"Version": "2012-10-17", "Statement": [statement]}
    return json.dumps({"principalId": "user", "policyDocument": document, **extra}).encode()


ARN = "arn:aws:execute-api:us-east-1:123456789012:api123/Prod/GET/items/7"


def verdict(body: bytes, authorizer: LambdaAuthorizer = TOKEN, kind: str = "rest") -> Verdict:
    result = interpret(authorizer, kind, True, body)
    assert isinstance(result, Verdict)
    return result


@pytest.mark.parametrize(
    ("resource", "action", "expected"),
    [
        (ARN, "execute-api:Invoke", None),
        ("arn:aws:execute-api:us-east-1:123456789012:api123/*/GET/*", "execute-api:Invoke", None),
        ("arn:aws:execute-api:*:*:api123/Prod/*", "execute-api:*", None),
        ([ARN.replace("7", "8"), "*"], "*", None),
        (
            "arn:aws:execute-api:us-east-1:123456789012:api123/Prod/GET/items/?",
            "execute-api:invoke",
            None,
        ),
        (ARN.replace("GET", "POST"), "execute-api:Invoke", Refusal.IMPLICIT_DENY),
        (ARN, "execute-api:ManageConnections", Refusal.IMPLICIT_DENY),
        (ARN + "/more", "execute-api:Invoke", Refusal.IMPLICIT_DENY),
    ],
)
def test_allow_policies(resource: Any, action: str, expected: Refusal | None) -> None:
    assert decide(verdict(policy("Allow", resource, action)), ARN) is expected


def test_a_matching_deny_wins() -> None:
    body = json.dumps(
        {
            "principalId": "u",
            "policyDocument": {
                "Statement": [
                    {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                    {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*/GET/*"},
                ]
            },
        }
    ).encode()
    assert decide(verdict(body), ARN) is Refusal.EXPLICIT_DENY
    assert decide(verdict(body), ARN.replace("GET", "PUT")) is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"policyDocument": {"Statement": []}}).encode(),  # no principalId
        json.dumps({"principalId": "u"}).encode(),  # no policy
        policy("Maybe", "*"),
        policy("Allow", 7),
        policy("Allow", "*", context={"nested": {"a": 1}}),  # REST: no objects in context
        policy("Allow", "*", context=["x"]),
    ],
)
def test_malformed_rest_answers_are_failures(body: bytes) -> None:
    assert interpret(TOKEN, "rest", True, body) is Refusal.FAILURE


def test_failures_of_the_authorizer_function() -> None:
    unauthorized = json.dumps({"errorMessage": "Unauthorized", "errorType": "Exception"}).encode()
    other = json.dumps({"errorMessage": "boom", "errorType": "Exception"}).encode()
    assert interpret(TOKEN, "rest", False, unauthorized) is Refusal.UNAUTHORIZED
    assert interpret(TOKEN, "rest", False, other) is Refusal.FAILURE
    assert interpret(HTTP_V2, "http", False, unauthorized) is Refusal.FAILURE


def test_simple_responses() -> None:
    allowed = verdict(
        b'{"isAuthorized": true, "context": {"n": 1, "m": {"a": [1]}}}', HTTP_V2, "http"
    )
    assert decide(allowed, "any") is None
    assert event_context(allowed, "http", "2.0") == {"lambda": {"n": 1, "m": {"a": [1]}}}
    denied = verdict(b'{"isAuthorized": false}', HTTP_V2, "http")
    assert decide(denied, "any") is Refusal.IMPLICIT_DENY
    assert interpret(HTTP_V2, "http", True, b'{"isAuthorized": "yes"}') is Refusal.FAILURE
    # Without simple responses a 2.0 authorizer answers with a policy.
    policy_v2 = LambdaAuthorizer("P", "F", "REQUEST", (), 0, "2.0", False)
    assert interpret(policy_v2, "http", True, b'{"isAuthorized": true}') is Refusal.FAILURE


def test_rest_context_reaches_the_function_as_strings() -> None:
    allowed = verdict(policy("Allow", "*", context={"s": "v", "n": 1, "b": True, "z": None}))
    assert event_context(allowed, "rest", "1.0", 12) == {
        "s": "v",
        "n": "1",
        "b": "true",
        "principalId": "user",
        "integrationLatency": 12,
    }


def test_answers() -> None:
    unauthorized = answer("rest", Refusal.UNAUTHORIZED)
    assert (unauthorized.status, unauthorized.body) == (401, b'{"message":"Unauthorized"}')
    deny = answer("rest", Refusal.EXPLICIT_DENY)
    assert deny.status == 403 and len(deny.body) == 82
    assert deny.body == (
        b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
    )
    implicit = answer("rest", Refusal.IMPLICIT_DENY)
    assert implicit.body == b'{"Message":"User is not authorized to access this resource"}'
    failure = answer("rest", Refusal.FAILURE)
    assert (failure.status, failure.body) == (500, b'{"message": null}')
    assert ("x-amzn-ErrorType", "AuthorizerConfigurationException") in failure.headers
    http = {r: (answer("http", r).status, answer("http", r).body) for r in Refusal}
    assert http == {
        Refusal.UNAUTHORIZED: (401, b'{"message":"Unauthorized"}'),
        Refusal.EXPLICIT_DENY: (403, b'{"message":"Forbidden"}'),
        Refusal.IMPLICIT_DENY: (403, b'{"message":"Forbidden"}'),
        Refusal.FAILURE: (500, b'{"message":"Internal Server Error"}'),
    }


def test_cache_keeps_answers_for_their_ttl() -> None:
    cache: AuthorizerCache[str] = AuthorizerCache(max_entries=2)
    cache.put("a", "A", ttl_s=300, now=1000.0)
    assert cache.get("a", 1299.9) == "A"
    assert cache.get("a", 1300.0) is None  # expired, and dropped
    assert len(cache) == 0
    cache.put("b", "B", ttl_s=0, now=0.0)
    assert cache.get("b", 0.0) is None  # TTL 0: no caching
    for key in ("x", "y", "z"):
        cache.put(key, key.upper(), ttl_s=60, now=0.0)
    assert (cache.get("x", 1.0), cache.get("z", 1.0), len(cache)) == (None, "Z", 2)


def test_bad_definitions() -> None:
    with pytest.raises(AuthorizerError, match="TOKEN or REQUEST"):
        LambdaAuthorizer("A", "F", "COGNITO")
    with pytest.raises(AuthorizerError, match="one header"):
        LambdaAuthorizer("A", "F", "TOKEN")
    with pytest.raises(AuthorizerError, match="identity source expression"):
        LambdaAuthorizer("A", "F", "REQUEST", ("header.X",))
    with pytest.raises(RouteError, match="rest or http"):
        Route("url", "ANY", None, "F", lambda_authorizer=HTTP_V2)
