from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lambdarig.events import api_gateway_rest_event, function_url_event, http_api_event
from tests.events.shapes import render, shape_diff

SAM_BODY = '{"test":"body"}'
NOW = datetime(2015, 4, 9, 12, 34, 56, tzinfo=timezone.utc)

V1_MAPS = frozenset(
    {
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
    }
)
V2_MAPS = frozenset(
    {
        "headers",
        "queryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext.authorizer.jwt.claims",
        "requestContext.authentication",
    }
)


def _rest_like_sam() -> dict[str, object]:
    return api_gateway_rest_event(
        method="POST",
        path="/path/to/resource",
        resource="/{proxy+}",
        body=SAM_BODY,
        is_base64_encoded=True,
        query={"foo": "bar"},
        path_parameters={"proxy": "/path/to/resource"},
        stage_variables={"baz": "qux"},
        seed=1,
    )


@pytest.mark.peers
def test_rest_event_has_the_shape_of_sams_aws_proxy_sample(sam_events_dir: Path) -> None:
    ours = _rest_like_sam()
    sam = render(sam_events_dir, "apigateway/AwsProxy.json")
    # The service sends these; SAM's older sample predates them (AWS's payload 1.0 docs list them).
    assert shape_diff(ours, sam, V1_MAPS) == {
        "+requestContext.domainName",
        "+requestContext.domainPrefix",
        "+requestContext.extendedRequestId",
        "+requestContext.identity.principalOrgId",
    }
    for key in ("body", "isBase64Encoded", "httpMethod", "resource", "path"):
        assert ours[key] == sam[key], key
    assert ours["queryStringParameters"] == sam["queryStringParameters"]


@pytest.mark.peers
def test_http_api_event_has_the_shape_of_sams_http_api_sample(sam_events_dir: Path) -> None:
    ours = http_api_event(
        method="POST",
        path="/path/to/resource?parameter1=value1&parameter1=value2&parameter2=value",
        cookies=["cookie1", "cookie2"],
        body=SAM_BODY,
        is_base64_encoded=True,
        path_parameters={"parameter1": "value1"},
        stage_variables={"stageVariable1": "value1"},
        jwt_claims={"claim1": "value1"},
        jwt_scopes=["scope1", "scope2"],
        authentication={"clientCert": {"subjectDN": "www.example.com"}},
        seed=1,
    )
    sam = render(sam_events_dir, "apigateway/HttpApi.json")
    assert shape_diff(ours, sam, V2_MAPS) == set()
    for key in ("rawPath", "rawQueryString", "cookies", "queryStringParameters", "body"):
        assert ours[key] == sam[key], key
    assert ours["requestContext"]["http"]["method"] == sam["requestContext"]["http"]["method"]


@pytest.mark.peers
def test_function_url_event_differs_from_http_api_sample_only_as_documented(
    sam_events_dir: Path,
) -> None:
    ours = function_url_event(
        method="POST",
        path="/path/to/resource?parameter1=value1",
        cookies=["cookie1"],
        body=SAM_BODY,
        auth_type="AWS_IAM",
        seed=1,
    )
    sam = render(sam_events_dir, "apigateway/HttpApi.json")
    # Function URLs: no path parameters, stage variables or mTLS block; IAM (not JWT) authorizer.
    assert shape_diff(ours, sam, V2_MAPS) == {
        "-pathParameters",
        "-stageVariables",
        "-requestContext.authorizer.jwt",
        "+requestContext.authorizer.iam",
        "-requestContext.authentication",
    }


def test_rest_defaults_are_what_the_service_sends_for_a_bare_get() -> None:
    event = api_gateway_rest_event(seed=3)
    assert event["httpMethod"] == "GET"
    assert event["path"] == event["resource"] == "/"
    assert event["body"] is None and event["isBase64Encoded"] is False
    for key in ("queryStringParameters", "multiValueQueryStringParameters"):
        assert event[key] is None
    assert event["pathParameters"] is None and event["stageVariables"] is None
    context = event["requestContext"]
    assert context["path"] == "/prod/" and context["stage"] == "prod"
    assert event["headers"]["Host"] == context["domainName"]
    assert context["domainName"] == f"{context['apiId']}.execute-api.us-east-1.amazonaws.com"


def test_rest_multi_value_headers_and_query_keep_every_value() -> None:
    event = api_gateway_rest_event(
        path="/items?tag=a&tag=b",
        headers={"Accept": ["text/html", "application/json"]},
        query={"page": "2"},
    )
    assert event["queryStringParameters"] == {"tag": "b", "page": "2"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "page": ["2"]}
    assert event["headers"]["Accept"] == "application/json"
    assert event["multiValueHeaders"]["Accept"] == ["text/html", "application/json"]


def test_rest_bytes_body_round_trips_through_base64() -> None:
    payload = bytes(range(256))
    event = api_gateway_rest_event(method="post", body=payload)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
    assert event["httpMethod"] == "POST"


def test_json_body_is_serialised_with_a_json_content_type() -> None:
    event = api_gateway_rest_event(method="POST", body={"a": 1})
    assert json.loads(event["body"]) == {"a": 1}
    assert event["headers"]["Content-Type"] == "application/json"
    given = api_gateway_rest_event(body={"a": 1}, headers={"content-type": "text/plain"})
    assert "Content-Type" not in given["headers"]


def test_rest_templated_resource_and_authorizer() -> None:
    event = api_gateway_rest_event(
        path="/users/42",
        resource="/users/{id}",
        path_parameters={"id": "42"},
        authorizer={"claims": {"sub": "abc"}},
        stage="dev",
        now=NOW,
    )
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/users/{id}"
    assert event["requestContext"]["path"] == "/dev/users/42"
    assert event["requestContext"]["authorizer"] == {"claims": {"sub": "abc"}}
    assert event["requestContext"]["requestTime"] == "09/Apr/2015:12:34:56 +0000"
    assert event["requestContext"]["requestTimeEpoch"] == 1428582896000


def test_http_api_lowercases_headers_joins_values_and_moves_cookies() -> None:
    event = http_api_event(
        path="/p",
        headers={"X-Multi": ["1", "2"], "Cookie": "a=1; b=2"},
        query={"q": ["x y", "z"]},
    )
    assert event["headers"]["x-multi"] == "1,2"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["rawQueryString"] == "q=x%20y&q=z"
    assert event["queryStringParameters"] == {"q": "x y,z"}


def test_http_api_omits_absent_parts_like_the_service() -> None:
    event = http_api_event(seed=1)
    for key in ("cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"):
        assert key not in event, key
    assert event["isBase64Encoded"] is False
    assert event["rawQueryString"] == ""
    assert "authorizer" not in event["requestContext"]


def test_http_api_route_key_is_used_in_event_and_context() -> None:
    event = http_api_event(method="PUT", path="/pets/1", route_key="PUT /pets/{id}")
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "PUT /pets/{id}"
    assert event["requestContext"]["http"]["path"] == "/pets/1"


def test_http_api_bytes_body_round_trips() -> None:
    event = http_api_event(method="POST", body=b"\x00\xff")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"


def test_function_url_defaults_are_anonymous_and_use_the_url_domain() -> None:
    event = function_url_event(url_id="abc123", region="eu-west-1", seed=1)
    context = event["requestContext"]
    assert context["domainName"] == "abc123.lambda-url.eu-west-1.on.aws"
    assert context["apiId"] == context["domainPrefix"] == "abc123"
    assert context["accountId"] == "anonymous"
    assert "authentication" not in context
    assert "authorizer" not in context
    assert event["routeKey"] == context["routeKey"] == context["stage"] == "$default"


def test_function_url_rejects_unknown_auth_types() -> None:
    with pytest.raises(ValueError, match="expected auth_type 'NONE' or 'AWS_IAM', got 'JWT'"):
        function_url_event(auth_type="JWT")
