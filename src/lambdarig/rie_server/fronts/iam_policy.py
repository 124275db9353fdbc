"""The IAM policy a Lambda authorizer returns, matched against a request's ARN (sans-IO).

Only ``execute-api:Invoke`` statements count; ``*`` and ``?`` are IAM's wildcards; a matching
Deny wins and no matching Allow is an implicit deny
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

INVOKE_ACTION = "execute-api:invoke"
MAX_ARN_PATTERN = 1600  # API Gateway's method ARN length limit bounds what we match against


class PolicyError(ValueError):
    """A ``policyDocument`` of the wrong shape."""


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]


def _listed(value: Any, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise PolicyError(f"expected {what} to be a string or a list of strings")
    return tuple(items)


def statements(document: Any) -> tuple[Statement, ...]:
    if not isinstance(document, dict):
        raise PolicyError("expected policyDocument to be an object")
    raw = document.get("Statement")
    raw = raw if isinstance(raw, list) else [raw]
    statements = []
    for item in raw:
        if not isinstance(item, dict) or item.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError("expected statements with Effect Allow or Deny")
        actions = _listed(item.get("Action"), "Action")
        resources = _listed(item.get("Resource"), "Resource")
        statements.append(Statement(item["Effect"], actions, resources))
    return tuple(statements)


def evaluate(statements: Sequence[Statement], arn: str) -> Optional[str]:  # noqa: UP045
    """``"Deny"`` when a matching statement denies, ``"Allow"`` when one allows, else None."""
    allowed = False
    for statement in statements:
        if not any(wildcard_match(a.lower(), INVOKE_ACTION) for a in statement.actions):
            continue
        if any(wildcard_match(resource, arn) for resource in statement.resources):
            if statement.effect == "Deny":
                return "Deny"
            allowed = True
    return "Allow" if allowed else None


def wildcard_match(pattern: str, text: str) -> bool:
    """IAM's ``*`` (any run, ``/`` included) and ``?`` (one character), in linear space and
    O(len(pattern) * len(text)) time whatever the pattern (no regex built from the answer)."""
    if len(pattern) > MAX_ARN_PATTERN or len(text) > MAX_ARN_PATTERN:
        return False
    p = t = 0
    star, mark = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, mark = p, t
            p += 1
        elif p < len(pattern) and pattern[p] in ("?", text[t]):
            p += 1
            t += 1
        elif star >= 0:
            p, mark = star + 1, mark + 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)
