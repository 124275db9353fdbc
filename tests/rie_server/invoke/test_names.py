"""Which function an Invoke API call names, among a project's functions."""

from __future__ import annotations

import pytest

from lambdarig.rie_server.choices import FunctionIdentity
from lambdarig.rie_server.invoke.names import Resolved, resolve_among

ARN_PREFIX = "arn:aws:lambda:us-east-1:012345678912:function:"

PROJECT = (
    FunctionIdentity("shop-items", other_names=("ItemsFunction",), qualifiers=("1", "live")),
    FunctionIdentity("Sleepy"),
)
INVOKE = "/2015-03-31/functions/{}/invocations"


@pytest.mark.parametrize(
    ("name", "qualifier", "index", "arn_suffix"),
    [
        ("ItemsFunction", None, 0, "shop-items"),
        ("shop-items:live", None, 0, "shop-items:live"),
        ("ItemsFunction", "1", 0, "shop-items:1"),
        ("Sleepy:$LATEST", None, 1, "Sleepy:$LATEST"),
        ("arn:aws:lambda:us-east-1:012345678912:function:Sleepy", None, 1, "Sleepy"),
    ],
)
def test_resolve_among_a_projects_functions(
    name: str, qualifier: str | None, index: int, arn_suffix: str
) -> None:
    found = resolve_among("POST", INVOKE.format(name), qualifier, PROJECT)
    assert isinstance(found, Resolved)
    assert (found.index, found.arn) == (index, ARN_PREFIX + arn_suffix)


@pytest.mark.parametrize("name", ["Sleepy:live", "shop-items:2", "function", "ItemsFunction:dev"])
def test_resolve_among_refuses_what_no_function_has(name: str) -> None:
    found = resolve_among("POST", INVOKE.format(name), None, PROJECT)
    assert isinstance(found, tuple) and found[:2] == (404, "ResourceNotFoundException")
