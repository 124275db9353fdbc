"""Lambda authorizers and Cors of an API, per route, as SAM's translator reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdarig.project import load_project
from lambdarig.project.errors import UnresolvableError
from lambdarig.project.model import Authorizer

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    Cors:
      AllowOrigin: "'*'"
  HttpApi:
    CorsConfiguration: true
Resources:
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Auth:
        DefaultAuthorizer: Token
        Authorizers:
          Token:
            FunctionArn: !GetAtt AuthFn.Arn
            Identity:
              Header: X-Token
              ValidationExpression: "Bearer .*"
          Request:
            FunctionPayloadType: REQUEST
            FunctionArn: !Sub "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:auth-fn"
            Identity:
              Headers: [X-User]
              QueryStrings: [tenant]
              ReauthorizeEvery: 0
          Pool:
            UserPoolArn: arn:aws:cognito-idp:us-east-1:123456789012:userpool/x
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Simple
        Authorizers:
          Simple:
            FunctionArn: !GetAtt AuthFn.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity:
              Headers: [Authorization]
              Context: [routeKey]
              ReauthorizeEvery: 60
          Policy:
            FunctionArn: !GetAtt AuthFn.Arn
            AuthorizerPayloadFormatVersion: "1.0"
  AuthFn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: auth-fn
      CodeUri: src/
      Handler: auth.handler
      Runtime: python3.12
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Default:
          Type: Api
          Properties: {RestApiId: !Ref Rest, Path: /a, Method: get}
        ByRequest:
          Type: Api
          Properties:
            RestApiId: !Ref Rest
            Path: /b
            Method: get
            Auth: {Authorizer: Request}
        Open:
          Type: Api
          Properties:
            RestApiId: !Ref Rest
            Path: /c
            Method: get
            Auth: {Authorizer: NONE}
        Cognito:
          Type: Api
          Properties:
            RestApiId: !Ref Rest
            Path: /d
            Method: get
            Auth: {Authorizer: Pool}
        HttpDefault:
          Type: HttpApi
          Properties: {ApiId: !Ref Http, Path: /h, Method: get}
        HttpPolicy:
          Type: HttpApi
          Properties:
            ApiId: !Ref Http
            Path: /p
            Method: get
            Auth: {Authorizer: Policy}
        Implicit:
          Type: Api
          Properties: {Path: /i, Method: get}
"""


def load(tmp_path: Path, text: str = TEMPLATE) -> dict[str, object]:
    (tmp_path / "src").mkdir(exist_ok=True)
    template = tmp_path / "template.yaml"
    template.write_text(text)
    project = load_project(template, region="us-east-1")
    return {route.event_id: route for route in project.function("Fn").routes}


def test_rest_token_and_request_authorizers(tmp_path: Path) -> None:
    routes = load(tmp_path)
    default = routes["Default"]
    assert default.authorizer == "Token"  # type: ignore[attr-defined]
    assert default.lambda_authorizer == Authorizer(  # type: ignore[attr-defined]
        "Token",
        "AuthFn",
        "TOKEN",
        ("method.request.header.X-Token",),
        300,
        validation_expression="Bearer .*",
    )
    assert routes["ByRequest"].lambda_authorizer == Authorizer(  # type: ignore[attr-defined]
        "Request",
        "AuthFn",  # found by the function name in the ARN
        "REQUEST",
        ("method.request.header.X-User", "method.request.querystring.tenant"),
        0,
    )
    assert routes["Open"].lambda_authorizer is None  # type: ignore[attr-defined]
    cognito = routes["Cognito"]
    assert (cognito.authorizer, cognito.lambda_authorizer) == ("Pool", None)  # type: ignore[attr-defined]
    assert routes["Implicit"].lambda_authorizer is None  # type: ignore[attr-defined]


def test_http_api_authorizers(tmp_path: Path) -> None:
    routes = load(tmp_path)
    assert routes["HttpDefault"].lambda_authorizer == Authorizer(  # type: ignore[attr-defined]
        "Simple",
        "AuthFn",
        "REQUEST",
        ("$request.header.Authorization", "$context.routeKey"),
        60,
        payload_version="2.0",
        simple_responses=True,
    )
    policy = routes["HttpPolicy"].lambda_authorizer  # type: ignore[attr-defined]
    assert policy == Authorizer("Policy", "AuthFn", "REQUEST", (), 0, payload_version="1.0")


def test_cors_per_api_with_globals(tmp_path: Path) -> None:
    routes = load(tmp_path)
    assert routes["Default"].cors == {"AllowOrigin": "'*'"}  # type: ignore[attr-defined]
    assert routes["Implicit"].cors == {"AllowOrigin": "'*'"}  # type: ignore[attr-defined]
    assert routes["HttpDefault"].cors is True  # type: ignore[attr-defined]


def test_cors_absent_is_none(tmp_path: Path) -> None:
    text = TEMPLATE.replace("    Cors:\n      AllowOrigin: \"'*'\"\n", "    Cors: null\n")
    text = text.replace("    CorsConfiguration: true\n", "    CorsConfiguration: null\n")
    routes = load(tmp_path, text)
    assert routes["Default"].cors is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("Auth: {Authorizer: Request}", "Auth: {Authorizer: Nope}"),
            "expected an authorizer named 'Nope' on Rest, got Pool, Request, Token",
        ),
        (
            (
                "FunctionArn: !GetAtt AuthFn.Arn\n            Identity:\n              Header",
                "FunctionArn: arn:aws:lambda:us-east-1:1:function:elsewhere\n"
                "            Identity:\n              Header",
            ),
            "expected a function of this template",
        ),
        (
            ('ValidationExpression: "Bearer .*"', 'ValidationExpression: "("'),
            "expected a regular expression",
        ),
        (("ReauthorizeEvery: 60", "ReauthorizeEvery: 7200"), "from 0 to 3600, got 7200"),
        (
            ('AuthorizerPayloadFormatVersion: "1.0"', 'AuthorizerPayloadFormatVersion: "3.0"'),
            "expected 1.0 or 2.0",
        ),
        (("Headers: [X-User]", "Headers: X-User"), "expected a list of names"),
    ],
)
def test_bad_authorizers_are_one_line_errors(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    assert change[0] in TEMPLATE
    with pytest.raises(UnresolvableError, match="Auth.Authorizers") as caught:
        load(tmp_path, TEMPLATE.replace(change[0], change[1]))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
