"""IAM policy matching of Lambda authorizer answers (the allow/deny cases run through
test_authorizers.py's ``decide``)."""

from __future__ import annotations

import pytest

from lambdarig.rie_server.fronts.iam_policy import (
    PolicyError,
    Statement,
    evaluate,
    statements,
    wildcard_match,
)

ARN = "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/items"


def test_wildcard_matching_is_bounded() -> None:
    hostile = "*a" * 700 + "b"
    assert not wildcard_match(hostile, "a" * 1500)  # quick: no regex backtracking
    assert not wildcard_match("*", "x" * 2000)  # beyond the ARN length limit
    assert wildcard_match("a*b?d", "aXXbcd") and not wildcard_match("a*b?d", "abd")


def test_a_matching_deny_wins_and_no_match_is_no_decision() -> None:
    allow = Statement("Allow", ("execute-api:Invoke",), ("arn:aws:execute-api:*",))
    deny = Statement("Deny", ("execute-api:*",), ("*/GET/*",))
    assert evaluate([allow], ARN) == "Allow"
    assert evaluate([allow, deny], ARN) == "Deny"
    assert evaluate([Statement("Allow", ("s3:GetObject",), ("*",))], ARN) is None


@pytest.mark.parametrize(
    "document",
    [None, [], {"Statement": [{"Effect": "Maybe"}]}, {"Statement": {"Effect": "Allow"}}],
)
def test_malformed_documents_are_refused(document: object) -> None:
    with pytest.raises(PolicyError):
        statements(document)
