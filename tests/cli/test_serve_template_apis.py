"""``lambdarig serve --template``: the control plane's pagination, ``X-Amz-Executed-Version`` and a
Function URL's ``Cors``, against a real process (boto3 and httpx).

https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html
https://docs.aws.amazon.com/lambda/latest/api/API_ListAliases.html
https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html (ExecutedVersion)
https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors
https://docs.aws.amazon.com/lambda/latest/api/API_Cors.html
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.cli.serving import lambda_client
from tests.rie_server.emulator_process import Running, emulator

SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")
RUNTIME = f"python3.{sys.version_info[1]}"
PLAIN = [f"Plain{index}" for index in range(5)]
ORIGIN = "https://app.example"

TEMPLATE = f"""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: {RUNTIME}
    Timeout: 10
    CodeUri: code/
    Handler: app.handler
Resources:
  WebFunction:
    Type: AWS::Serverless::Function
    Properties:
      AutoPublishAlias: live
      FunctionUrlConfig:
        AuthType: NONE
        Cors:
          AllowOrigins: ["{ORIGIN}", "http://localhost:8080"]
          AllowMethods: [get, PUT]
          AllowHeaders: [X-Token, content-type]
          ExposeHeaders: [X-Total]
          MaxAge: 300
          AllowCredentials: true
""" + "".join(
    f"""\
  {name}:
    Type: AWS::Serverless::Function
"""
    for name in PLAIN
)

CODE = """\
def handler(event, context):
    headers = {"X-Total": "7", "Content-Type": "application/json"}
    if "own-cors" in (event.get("rawQueryString") or ""):
        headers["Access-Control-Allow-Origin"] = "https://own.example"
    return {"statusCode": 200, "headers": headers, "body": '{"ok": true}'}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("apis")
    (root / "code").mkdir()
    (root / "code" / "app.py").write_text(CODE)
    (root / "template.yaml").write_text(TEMPLATE)
    argv = ["-t", str(root / "template.yaml"), "--port", "0", "--http-port", "0"]
    with emulator(argv, root, cwd=root, entry=SERVE) as running:
        yield running


@pytest.fixture(scope="module")
def client(project: Running) -> Any:
    return lambda_client(project)


def function_url(project: Running) -> str:
    for line in project.stderr_lines:
        match = re.search(r"Function URL\s+ANY\s+(http://\S+)", line)
        if match:
            return match.group(1).rstrip("/")
    raise AssertionError(f"no Function URL in the start table: {project.stderr_lines!r}")


# --- ListFunctions / ListAliases / ListVersionsByFunction pagination


def test_list_functions_pages_with_marker_and_max_items(client: Any) -> None:
    first = client.list_functions(MaxItems=2)
    assert [f["FunctionName"] for f in first["Functions"]] == ["WebFunction", "Plain0"]
    second = client.list_functions(MaxItems=2, Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in second["Functions"]] == ["Plain1", "Plain2"]
    last = client.list_functions(MaxItems=5, Marker=second["NextMarker"])
    assert [f["FunctionName"] for f in last["Functions"]] == ["Plain3", "Plain4"]
    assert "NextMarker" not in last
    assert "NextMarker" not in client.list_functions()  # one page of at most 50


def test_the_paginators_walk_every_function_alias_and_version(client: Any) -> None:
    pages = client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2})
    sizes, names = [], []
    for page in pages:
        sizes.append(len(page["Functions"]))
        names += [function["FunctionName"] for function in page["Functions"]]
    assert sizes == [2, 2, 2]
    assert names == ["WebFunction", *PLAIN]
    every = client.get_paginator("list_functions").paginate(
        FunctionVersion="ALL", PaginationConfig={"PageSize": 1}
    )
    arns = [f["FunctionArn"] for page in every for f in page["Functions"]]
    assert arns[:2] == [
        "arn:aws:lambda:us-east-1:123456789012:function:WebFunction",
        "arn:aws:lambda:us-east-1:123456789012:function:WebFunction:1",
    ]
    assert len(arns) == 7
    aliases = client.get_paginator("list_aliases").paginate(
        FunctionName="WebFunction", PaginationConfig={"PageSize": 1}
    )
    assert [alias["Name"] for page in aliases for alias in page["Aliases"]] == ["live"]
    versions = client.get_paginator("list_versions_by_function").paginate(
        FunctionName="WebFunction", PaginationConfig={"PageSize": 1}
    )
    listed = [version["Version"] for page in versions for version in page["Versions"]]
    assert listed == ["$LATEST", "1"]


@pytest.mark.parametrize(
    ("max_items", "message"),
    [
        (
            "0",
            "Value '0' at 'maxItems' failed to satisfy constraint: Member must have value "
            "greater than or equal to 1",
        ),
        (
            "10001",
            "Value '10001' at 'maxItems' failed to satisfy constraint: Member must have "
            "value less than or equal to 10000",
        ),
        ("many", "Member must be an integer"),
    ],
)
def test_a_bad_max_items_is_the_services_validation_error(
    project: Running, max_items: str, message: str
) -> None:
    for path in ("/functions/", "/functions/WebFunction/aliases", "/functions/Plain0/versions"):
        answer = httpx.get(
            f"{project.url}/2015-03-31{path}", params={"MaxItems": max_items}, timeout=30
        )
        assert answer.status_code == 400
        assert answer.headers["x-amzn-ErrorType"] == "ValidationException"
        assert answer.json()["Type"] == "User"
        assert message in answer.json()["Message"]


def test_boto3_sees_the_validation_error(client: Any) -> None:
    with pytest.raises(ClientError) as raised:
        client.list_aliases(FunctionName="WebFunction", MaxItems=10001)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # 10000 is allowed (ListAliases has no 50 cap; ListFunctions' page stays at 50).
    assert client.list_aliases(FunctionName="WebFunction", MaxItems=10000)["Aliases"]


@pytest.mark.parametrize(
    "marker",
    [
        "nonsense",
        "bGFtYmRhcmlnOk5vcGU=",  # base64 of a well-formed marker for a function that is not there
        "%00%ff\u2028" * 10,
        "A" * 5000,
    ],
)
def test_a_forged_marker_is_400_never_500(project: Running, marker: str) -> None:
    for path in ("/functions/", "/functions/WebFunction/aliases", "/functions/Plain0/versions"):
        answer = httpx.get(f"{project.url}/2015-03-31{path}", params={"Marker": marker}, timeout=30)
        assert answer.status_code == 400, answer.text
        assert answer.headers["x-amzn-ErrorType"] == "InvalidParameterValueException"
        assert marker[:20] not in answer.text  # nothing of it is echoed


# --- X-Amz-Executed-Version


@pytest.mark.parametrize(
    ("name", "qualifier", "version"),
    [
        ("WebFunction", "live", "1"),
        ("WebFunction", "1", "1"),
        ("WebFunction:live", None, "1"),
        ("arn:aws:lambda:us-east-1:123456789012:function:WebFunction:1", None, "1"),
        ("WebFunction", "$LATEST", "$LATEST"),
        ("WebFunction", None, "$LATEST"),
        ("Plain0", None, "$LATEST"),
    ],
)
def test_executed_version_is_the_version_that_ran(
    client: Any, name: str, qualifier: str | None, version: str
) -> None:
    extra = {"Qualifier": qualifier} if qualifier else {}
    answer = client.invoke(FunctionName=name, Payload=b"{}", **extra)
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == version


def test_event_and_dry_run_send_no_executed_version(client: Any) -> None:
    # The service's 202 for an Event carries x-amzn-RequestId and no X-Amz-Executed-Version
    # (observed responses), and the 204 of a DryRun neither: nothing has run yet.
    for invocation_type, status in (("Event", 202), ("DryRun", 204)):
        answer = client.invoke(
            FunctionName="WebFunction", Qualifier="live", InvocationType=invocation_type
        )
        assert answer["StatusCode"] == status
        assert "ExecutedVersion" not in answer


# --- Function URL Cors


def preflight(url: str, **headers: str) -> httpx.Response:
    asked = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "X-Token",
        **headers,
    }
    return httpx.options(url + "/items", headers=asked, timeout=30)


def test_an_allowed_preflight_is_answered_from_the_configuration(project: Running) -> None:
    answer = preflight(function_url(project))
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["access-control-allow-methods"] == "GET,PUT"
    assert answer.headers["access-control-allow-headers"] == "x-token"
    assert answer.headers["access-control-max-age"] == "300"
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["vary"] == "Origin"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": ORIGIN.upper()},  # origins are compared exactly
        {"Access-Control-Request-Method": "DELETE"},
        {"Access-Control-Request-Headers": "X-Other"},
    ],
)
def test_a_refused_preflight_has_no_cors_headers(project: Running, headers: dict[str, str]) -> None:
    answer = preflight(function_url(project), **headers)
    assert answer.status_code == 200
    assert not [name for name in answer.headers if name.startswith("access-control-")]


def test_a_simple_request_gets_origin_credentials_and_expose_headers(project: Running) -> None:
    answer = httpx.get(function_url(project) + "/", headers={"Origin": ORIGIN}, timeout=30)
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["access-control-expose-headers"] == "x-total"
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["vary"] == "Origin"
    assert "access-control-max-age" not in answer.headers  # a preflight's header only
    other = httpx.get(function_url(project) + "/", headers={"Origin": "https://x.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers


def test_the_functions_own_cors_headers_are_kept_beside_the_configured_ones(
    project: Running,
) -> None:
    answer = httpx.get(function_url(project) + "/?own-cors", headers={"Origin": ORIGIN}, timeout=30)
    assert answer.headers.get_list("access-control-allow-origin") == [
        "https://own.example",
        ORIGIN,
    ]


def test_an_options_request_that_is_not_a_preflight_reaches_the_function(
    project: Running,
) -> None:
    answer = httpx.options(function_url(project) + "/", headers={"Origin": ORIGIN}, timeout=30)
    assert answer.status_code == 200 and answer.json() == {"ok": True}


def test_a_bad_cors_value_is_one_line(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text(CODE)
    template = TEMPLATE.replace("MaxAge: 300", "MaxAge: 86401")
    (tmp_path / "template.yaml").write_text(template)
    done = subprocess.run(
        [*SERVE, "-t", "template.yaml", "--port", "0", "--http-port", "0"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "lambdarig: error: WebFunction: expected FunctionUrlConfig.Cors.MaxAge in 0-86400, "
        "got 86401"
    ]
