"""The read-only control plane's lists: pages of at most 50 functions, versions, the errors
(https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html,
API_ListVersionsByFunction.html)."""

from __future__ import annotations

import json
from typing import Any

from lambdarig.rie_server.choices import FunctionIdentity
from lambdarig.rie_server.invoke.control import FunctionRecord, answer
from lambdarig.rie_server.invoke.protocol import HttpResponse, RawRequest


def record(name: str, alias: str | None = None) -> FunctionRecord:
    qualifiers = ("1", alias) if alias else ()
    identity = FunctionIdentity(name, qualifiers=qualifiers)
    return FunctionRecord(identity, "app.handler", "python3.12", 3, 128, alias=alias)


RECORDS = [record("aliased", "live"), *(record(f"fn-{index:02}") for index in range(59))]


def get(path: str, **query: str) -> HttpResponse:
    found = answer(RawRequest("GET", "/2015-03-31/functions" + path, query, {}, b""), RECORDS, "r")
    assert found is not None
    return found


def body(response: HttpResponse) -> Any:
    assert response.status == 200, response.body
    return json.loads(response.body)


def test_list_functions_returns_at_most_50_whatever_max_items_says() -> None:
    first = body(get("/", MaxItems="1000"))
    assert len(first["Functions"]) == 50
    rest = body(get("/", MaxItems="1000", Marker=first["NextMarker"]))
    assert len(rest["Functions"]) == 10 and "NextMarker" not in rest
    names = [f["FunctionName"] for page in (first, rest) for f in page["Functions"]]
    assert names == [r.identity.name for r in RECORDS]


def test_function_version_all_lists_the_published_versions() -> None:
    listed = body(get("/", FunctionVersion="ALL", MaxItems="3"))["Functions"]
    assert [(f["FunctionName"], f["Version"]) for f in listed] == [
        ("aliased", "$LATEST"),
        ("aliased", "1"),
        ("fn-00", "$LATEST"),
    ]
    refused = get("/", FunctionVersion="LATEST")
    assert refused.status == 400
    assert refused.header("x-amzn-ErrorType") == "ValidationException"


def test_list_versions_by_function() -> None:
    versions = body(get("/aliased/versions"))["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    assert versions[1]["FunctionArn"].endswith(":function:aliased:1")
    assert [v["Version"] for v in body(get("/fn-00/versions"))["Versions"]] == ["$LATEST"]
    assert get("/nope/versions").status == 404


def test_list_aliases_honours_max_items_up_to_10000() -> None:
    assert [a["Name"] for a in body(get("/aliased/aliases", MaxItems="10000"))["Aliases"]] == [
        "live"
    ]
    assert body(get("/fn-00/aliases")) == {"Aliases": []}
    # FunctionVersion keeps the aliases that point to that version.
    assert [a["Name"] for a in body(get("/aliased/aliases", FunctionVersion="1"))["Aliases"]] == [
        "live"
    ]
    assert body(get("/aliased/aliases", FunctionVersion="$LATEST")) == {"Aliases": []}
    assert get("/aliased/aliases", MaxItems="0").status == 400
