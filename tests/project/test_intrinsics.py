"""Intrinsic functions resolved as CloudFormation resolves them, without AWS."""

from __future__ import annotations

from typing import Any

import pytest

from lambdarig.project.errors import UnresolvableError
from lambdarig.project.intrinsics import MISSING, Scope, resolve

RESOURCES: dict[str, Any] = {
    "Fn": {"Type": "AWS::Serverless::Function", "Properties": {}},
    "Named": {"Type": "AWS::Serverless::Function", "Properties": {"FunctionName": "named-fn"}},
    "Queue": {"Type": "AWS::SQS::Queue"},
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Stage"}}},
    "Table": {"Type": "AWS::Serverless::SimpleTable"},
    "Role": {"Type": "AWS::IAM::Role"},
}


def scope(**parameters: Any) -> Scope:
    return Scope(
        parameters={"Stage": "dev", "Names": ["a", "b"], **parameters},
        region="eu-west-1",
        account="123456789012",
        stack_name="app",
        resources=RESOURCES,
        conditions={"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        mappings={"Sizes": {"dev": {"Memory": 256}}},
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "AWS::Region"}, "eu-west-1"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "AWS::StackName"}, "app"),
        ({"Ref": "Fn"}, "Fn"),
        ({"Ref": "Named"}, "named-fn"),
        ({"Ref": "Queue"}, "https://sqs.eu-west-1.amazonaws.com/123456789012/Queue"),
        ({"Ref": "Topic"}, "arn:aws:sns:eu-west-1:123456789012:dev"),
        ({"Ref": "Role"}, "Role"),
        (
            {"Fn::GetAtt": ["Named", "Arn"]},
            "arn:aws:lambda:eu-west-1:123456789012:function:named-fn",
        ),
        ({"Fn::GetAtt": "Queue.Arn"}, "arn:aws:sqs:eu-west-1:123456789012:Queue"),
        (
            {"Fn::Sub": "${Stage}-${AWS::Region}-${Queue.Arn}"},
            "dev-eu-west-1-arn:aws:sqs:eu-west-1:123456789012:Queue",
        ),
        ({"Fn::Sub": ["${X}/${Stage}", {"X": {"Ref": "Fn"}}]}, "Fn/dev"),
        ({"Fn::Sub": "literal ${!Stage}"}, "literal ${Stage}"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}, "a-dev"),
        ({"Fn::Select": [1, {"Ref": "Names"}]}, "b"),
        ({"Fn::Split": [",", "x,y"]}, ["x", "y"]),
        ({"Fn::If": ["IsProd", 1024, 128]}, 128),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 256),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"A": 1, "B": {"Ref": "AWS::NoValue"}}, {"A": 1}),
        ([1, {"Ref": "AWS::NoValue"}, 2], [1, 2]),
    ],
)
def test_resolves(value: Any, expected: Any) -> None:
    assert resolve(value, scope(), "Resources.X") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::ImportValue": "Shared"}, "Resources.X: Fn::ImportValue has no local value"),
        ({"Ref": "Nope"}, "Resources.X: expected a parameter or resource named 'Nope', got none"),
        (
            {"Fn::GetAtt": ["Role", "Arn"]},
            "Resources.X: GetAtt Role.Arn (AWS::IAM::Role) has no local value",
        ),
        (
            {"Ref": "Needed"},
            "Resources.X: parameter Needed has no Default: pass --parameter-overrides Needed=VALUE",
        ),
        (
            {"Fn::If": ["Unknown", 1, 2]},
            "Resources.X: expected a condition named 'Unknown', got none",
        ),
    ],
)
def test_unresolvable_values_are_named_in_one_line(value: Any, message: str) -> None:
    with pytest.raises(UnresolvableError) as caught:
        resolve(value, scope(Needed=MISSING), "Resources.X")
    assert str(caught.value) == message
