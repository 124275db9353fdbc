"""CloudFormation intrinsic functions, resolved the way a local run needs them. No I/O.

Resolution is lazy: only the properties a local run reads are resolved, so an ``!ImportValue`` in
an IAM policy never stops a function from running, while one in an environment variable is named
in one line (``UnresolvableError``, with the template path of the value).

``Ref`` and ``Fn::GetAtt`` to resources of the template give what the service would give for a
resource named after its logical id (a function's name is its ``FunctionName`` or logical id; a
queue's ``Ref`` is its URL; ``.Arn`` is the ARN in the configured region and account):
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-ref.html
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdarig.project.errors import UnresolvableError

NO_VALUE = object()  # AWS::NoValue: the key it stands in is removed
MISSING = object()  # a declared parameter with no Default and no override
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")

# Resource type -> (what Ref gives, {attribute: format}); formats see name/region/account.
_ARN = "arn:aws:{service}:{region}:{account}:{name}"
_REFS: dict[str, tuple[str, dict[str, str]]] = {
    "AWS::Serverless::Function": (
        "{name}",
        {"Arn": "arn:aws:lambda:{region}:{account}:function:{name}"},
    ),
    "AWS::Lambda::Function": (
        "{name}",
        {"Arn": "arn:aws:lambda:{region}:{account}:function:{name}"},
    ),
    "AWS::SQS::Queue": (
        "https://sqs.{region}.amazonaws.com/{account}/{name}",
        {"Arn": "arn:aws:sqs:{region}:{account}:{name}", "QueueName": "{name}"},
    ),
    "AWS::SNS::Topic": (
        "arn:aws:sns:{region}:{account}:{name}",
        {"TopicArn": "arn:aws:sns:{region}:{account}:{name}", "TopicName": "{name}"},
    ),
    "AWS::Events::EventBus": (
        "{name}",
        {"Arn": "arn:aws:events:{region}:{account}:event-bus/{name}", "Name": "{name}"},
    ),
    "AWS::Serverless::SimpleTable": (
        "{name}",
        {"Arn": "arn:aws:dynamodb:{region}:{account}:table/{name}"},
    ),
    "AWS::DynamoDB::Table": (
        "{name}",
        {"Arn": "arn:aws:dynamodb:{region}:{account}:table/{name}"},
    ),
    "AWS::S3::Bucket": ("{name}", {"Arn": "arn:aws:s3:::{name}"}),
    "AWS::Serverless::LayerVersion": (
        "arn:aws:lambda:{region}:{account}:layer:{name}:1",
        {},
    ),
    "AWS::Lambda::LayerVersion": (
        "arn:aws:lambda:{region}:{account}:layer:{name}:1",
        {},
    ),
}
# The property that names a resource, when the template sets it.
_NAME_PROPERTIES = {
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Events::EventBus": "Name",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Lambda::LayerVersion": "LayerName",
}


@dataclass
class Scope:
    """What intrinsics can see: parameter values (after overrides), pseudo parameters, and the
    template's resources, conditions and mappings."""

    parameters: Mapping[str, Any]
    region: str
    account: str
    stack_name: str
    resources: Mapping[str, Any] = field(default_factory=dict)
    conditions: Mapping[str, Any] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)
    _evaluated: dict[str, bool] = field(default_factory=dict)

    def pseudo(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/"
                "00000000-0000-0000-0000-000000000000"
            ),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        return values[name] if name in values else None

    def condition(self, name: str, where: str) -> bool:
        if name not in self._evaluated:
            if name not in self.conditions:
                raise UnresolvableError(where, f"expected a condition named {name!r}, got none")
            self._evaluated[name] = bool(resolve(self.conditions[name], self, f"Conditions.{name}"))
        return self._evaluated[name]

    def resource_name(self, logical_id: str, where: str) -> str:
        resource = self.resources[logical_id]
        prop = _NAME_PROPERTIES.get(str(resource.get("Type")))
        properties = resource.get("Properties") or {}
        if prop and prop in properties:
            return str(resolve(properties[prop], self, f"Resources.{logical_id}.Properties.{prop}"))
        return logical_id

    def _fill(self, template: str, logical_id: str, where: str) -> str:
        return template.format(
            name=self.resource_name(logical_id, where), region=self.region, account=self.account
        )

    def ref(self, name: str, where: str) -> Any:
        if name in self.parameters:
            if self.parameters[name] is MISSING:
                raise UnresolvableError(
                    where,
                    f"parameter {name} has no Default: pass --parameter-overrides {name}=VALUE",
                )
            return self.parameters[name]
        value = self.pseudo(name)
        if value is not None:
            return value
        if name in self.resources:
            kind = str(self.resources[name].get("Type"))
            known = _REFS.get(kind)
            return self._fill(known[0] if known else "{name}", name, where)
        raise UnresolvableError(where, f"expected a parameter or resource named {name!r}, got none")

    def get_att(self, logical_id: str, attribute: str, where: str) -> str:
        if logical_id not in self.resources:
            raise UnresolvableError(
                where, f"expected a resource named {logical_id!r} for GetAtt, got none"
            )
        kind = str(self.resources[logical_id].get("Type"))
        formats = _REFS.get(kind, ("", {}))[1]
        if attribute not in formats:
            raise UnresolvableError(
                where, f"GetAtt {logical_id}.{attribute} ({kind}) has no local value"
            )
        return self._fill(formats[attribute], logical_id, where)


def resolve(value: Any, scope: Scope, where: str) -> Any:
    """``value`` with every intrinsic function replaced by its local value (raises
    ``UnresolvableError`` naming ``where`` for one that has none)."""
    if isinstance(value, list):
        items = [resolve(item, scope, f"{where}[{i}]") for i, item in enumerate(value)]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref" or key.startswith("Fn::") or key == "Condition":
            return _function(key, argument, scope, where)
    resolved = {k: resolve(v, scope, f"{where}.{k}") for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def _function(key: str, argument: Any, scope: Scope, where: str) -> Any:
    if key == "Ref":
        return scope.ref(str(argument), where)
    if key == "Condition":
        return scope.condition(str(argument), where)
    handler = _FUNCTIONS.get(key)
    if handler is None:
        raise UnresolvableError(where, f"{key} has no local value")
    return handler(argument, scope, where)


def _sub(argument: Any, scope: Scope, where: str) -> str:
    if isinstance(argument, list) and len(argument) == 2:
        text, variables = argument[0], resolve(argument[1], scope, where)
    else:
        text, variables = argument, {}
    if not isinstance(text, str):
        raise UnresolvableError(where, f"expected a string for Fn::Sub, got {type(text).__name__}")

    def one(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name in variables:
            return str(variables[name])
        if "." in name and name.split(".", 1)[0] in scope.resources:
            logical_id, attribute = name.split(".", 1)
            return scope.get_att(logical_id, attribute, where)
        value = scope.ref(name, where)
        return ",".join(map(str, value)) if isinstance(value, list) else str(value)

    return _SUB_VARIABLE.sub(one, text).replace("${!", "${")


def _get_att(argument: Any, scope: Scope, where: str) -> str:
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    parts = resolve(argument, scope, where)
    if not isinstance(parts, list) or len(parts) != 2:
        raise UnresolvableError(where, f"expected Fn::GetAtt [Resource, Attribute], got {parts!r}")
    return scope.get_att(str(parts[0]), str(parts[1]), where)


def _join(argument: Any, scope: Scope, where: str) -> str:
    delimiter, items = resolve(argument, scope, where)
    return str(delimiter).join(str(item) for item in items)


def _select(argument: Any, scope: Scope, where: str) -> Any:
    index, items = resolve(argument, scope, where)
    try:
        return items[int(index)]
    except (IndexError, ValueError, TypeError) as exc:
        raise UnresolvableError(where, f"Fn::Select index {index!r} out of {items!r}") from exc


def _split(argument: Any, scope: Scope, where: str) -> list[str]:
    delimiter, text = resolve(argument, scope, where)
    return str(text).split(str(delimiter))


def _if(argument: Any, scope: Scope, where: str) -> Any:
    name, when_true, when_false = argument
    chosen = when_true if scope.condition(str(name), where) else when_false
    return resolve(chosen, scope, where)


def _find_in_map(argument: Any, scope: Scope, where: str) -> Any:
    name, top, second = resolve(argument, scope, where)
    try:
        return scope.mappings[name][top][second]
    except (KeyError, TypeError) as exc:
        raise UnresolvableError(where, f"Fn::FindInMap {name}.{top}.{second} not found") from exc


def _equals(argument: Any, scope: Scope, where: str) -> bool:
    left, right = resolve(argument, scope, where)
    return str(left) == str(right)


def _base64(argument: Any, scope: Scope, where: str) -> str:
    return base64.b64encode(str(resolve(argument, scope, where)).encode()).decode()


_FUNCTIONS = {
    "Fn::Sub": _sub,
    "Fn::GetAtt": _get_att,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::FindInMap": _find_in_map,
    "Fn::Equals": _equals,
    "Fn::Not": lambda a, s, w: not resolve(a, s, w)[0],
    "Fn::And": lambda a, s, w: all(resolve(a, s, w)),
    "Fn::Or": lambda a, s, w: any(resolve(a, s, w)),
    "Fn::Base64": _base64,
}
