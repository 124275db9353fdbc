"""``lambdarig serve --template``: a SAM project's functions behind one emulator (real processes,
real HTTP: httpx and boto3)."""

from __future__ import annotations

import concurrent.futures
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lambdarig.cli.serve_template import parameter_overrides
from tests.cli.serving import lambda_client, served
from tests.probes import wait_until
from tests.rie_server.emulator_process import Running, emulator

SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")
RUNTIME = f"python3.{sys.version_info[1]}"

TEMPLATE = f"""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: two functions, Globals, a parameter, a local layer and an alias
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Runtime: {RUNTIME}
    Timeout: 10
    MemorySize: 256
    Environment:
      Variables:
        GREETING: !Ref Greeting
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/shared/
  ItemsFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${{AWS::StackName}}-items"
      CodeUri: items/
      Handler: app.handler
      AutoPublishAlias: live
      ReservedConcurrentExecutions: 1
      Layers: [!Ref SharedLayer]
      FunctionUrlConfig:
        AuthType: NONE
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /items/{{id}}
            Method: GET
  SleepyFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: sleepy.zip
      Handler: app.handler
      Events:
        Hello:
          Type: Api
          Properties:
            Path: /hello
            Method: get
"""

ITEMS = """\
import json, os, time
import shared

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    body = {
        "greeting": os.environ["GREETING"],
        "layer": shared.WORD,
        "function": context.function_name,
        "arn": context.invoked_function_arn,
        "id": (event.get("pathParameters") or {}).get("id"),
    }
    print("items called")
    return body
"""

SLEEPY = """\
import os, time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    if "httpMethod" in event:
        return {"statusCode": 200, "body": "hi from " + event["path"]}
    return {"pid": os.getpid(), "root": os.environ["LAMBDA_TASK_ROOT"]}
"""


def write_project(root: Path) -> Path:
    (root / "items").mkdir(parents=True)
    (root / "items" / "app.py").write_text(ITEMS)
    (root / "layers" / "shared" / "python").mkdir(parents=True)
    (root / "layers" / "shared" / "python" / "shared.py").write_text("WORD = 'from-layer'\n")
    with zipfile.ZipFile(root / "sleepy.zip", "w") as archive:
        archive.writestr("app.py", SLEEPY)
    template = root / "template.yaml"
    template.write_text(TEMPLATE)
    return template


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp_path = tmp_path_factory.mktemp("project")
    template = write_project(tmp_path / "shop")
    argv = ["-t", str(template), "--port", "0", "--http-port", "0", "--stack-name", "shop"]
    argv += ["--parameter-overrides", "Greeting=hey", "--region", "eu-west-1"]
    with emulator(argv, tmp_path, cwd=tmp_path, entry=SERVE) as running:
        yield running


def invoke(running: Running, name: str, body: str = "{}", **params: str) -> httpx.Response:
    url = f"{running.url}/2015-03-31/functions/{name}/invocations"
    return httpx.post(url, content=body, params=params, timeout=30)


def test_the_start_table_names_every_function_and_route(project: Running) -> None:
    table = "\n".join(project.stderr_lines)
    assert re.search(r"ItemsFunction\s+shop-items\s+HTTP API\s+GET\s+http://", table)
    assert re.search(r"SleepyFunction\s+SleepyFunction\s+REST API\s+GET\s+http://", table)
    assert set(served(project)) == {"HTTP API GET", "REST API GET", "Function URL ANY"}


@pytest.mark.parametrize(
    ("name", "params", "arn_suffix"),
    [
        ("ItemsFunction", {}, ""),
        ("shop-items", {}, ""),
        ("arn:aws:lambda:eu-west-1:123456789012:function:shop-items", {}, ""),
        ("shop-items:live", {}, ":live"),
        ("shop-items", {"Qualifier": "1"}, ":1"),
        ("ItemsFunction:$LATEST", {}, ":$LATEST"),
    ],
)
def test_every_function_by_name_arn_and_qualifier(
    project: Running, name: str, params: dict[str, str], arn_suffix: str
) -> None:
    response = invoke(project, name, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["greeting"] == "hey"  # Globals + --parameter-overrides
    assert body["layer"] == "from-layer"  # the local layer, mounted
    assert body["function"] == "shop-items"
    assert body["arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:shop-items" + arn_suffix


@pytest.mark.parametrize("name", ["shop-items:2", "shop-items:dev", "Nope", "function"])
def test_unknown_functions_and_qualifiers_are_404(project: Running, name: str) -> None:
    response = invoke(project, name)
    assert response.status_code == 404
    assert response.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"


def test_a_zip_code_uri_is_extracted_once_and_outputs_are_prefixed(project: Running) -> None:
    first = invoke(project, "SleepyFunction").json()
    second = invoke(project, "SleepyFunction").json()
    assert first == second  # one warm environment, one extracted tree
    assert Path(first["root"], "app.py").is_file()
    invoke(project, "ItemsFunction")
    stdout = project.stdout()
    assert "[shop-items] items called" in stdout
    assert re.search(r"^\[SleepyFunction\] REPORT RequestId: ", stdout, re.MULTILINE)


def test_parallel_invokes_run_in_parallel_environments(project: Running) -> None:
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        calls = [pool.submit(invoke, project, "SleepyFunction", '{"sleep": 1}') for _ in range(2)]
        pids = {call.result().json()["pid"] for call in calls}
    assert len(pids) == 2


def test_reserved_concurrency_throttles_with_429(project: Running) -> None:
    started = project.stdout().count("[shop-items] START RequestId")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(invoke, project, "ItemsFunction", '{"sleep": 2}')
        # the slow call holds the one environment once its handler runs: probe from then on
        wait_until(
            lambda: project.stdout().count("[shop-items] START RequestId") > started or slow.done(),
            "the slow call's START line",
        )
        statuses = set()
        while 429 not in statuses and not slow.done():
            statuses.add(invoke(project, "shop-items").status_code)
        assert slow.result().status_code == 200
    assert 429 in statuses


def test_http_routes_and_the_function_url(project: Running) -> None:
    urls = served(project)
    item = httpx.get(urls["HTTP API GET"].replace("{id}", "42"), timeout=30)
    assert item.status_code == 200
    assert item.json()["id"] == "42"
    hello = httpx.get(urls["REST API GET"], timeout=30)
    assert (hello.status_code, hello.text) == (200, "hi from /hello")
    function_url = httpx.get(urls["Function URL ANY"].split(" ")[0], timeout=30)
    assert function_url.json()["function"] == "shop-items"


def test_the_control_plane_answers_boto3(project: Running) -> None:
    client = lambda_client(project, region="eu-west-1")
    names = [function["FunctionName"] for function in client.list_functions()["Functions"]]
    assert names == ["shop-items", "SleepyFunction"]
    got = client.get_function(FunctionName="ItemsFunction")
    assert got["Configuration"]["MemorySize"] == 256
    assert got["Configuration"]["Environment"]["Variables"]["GREETING"] == "hey"
    assert got["Concurrency"]["ReservedConcurrentExecutions"] == 1
    config = client.get_function_configuration(FunctionName="shop-items", Qualifier="live")
    assert (config["Version"], config["Runtime"], config["Handler"]) == (
        "1",
        RUNTIME,
        "app.handler",
    )
    assert [
        alias["Name"] for alias in client.list_aliases(FunctionName="shop-items")["Aliases"]
    ] == ["live"]
    assert client.get_alias(FunctionName="shop-items", Name="live")["FunctionVersion"] == "1"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_alias(FunctionName="shop-items", Name="dev")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="Nope")
    answer = client.invoke(FunctionName="shop-items", Qualifier="live", Payload=b"{}")
    assert answer["StatusCode"] == 200


def run_serve(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SERVE, *argv], capture_output=True, text=True, check=False, timeout=30, cwd=cwd
    )


def test_project_errors_are_one_line(tmp_path: Path) -> None:
    template = write_project(tmp_path)
    bad_json = tmp_path / "env.json"
    bad_json.write_text("{nope")
    cases = [
        (["-t", str(tmp_path / "missing.yaml")], "lambdarig: error: "),
        (["-t", str(template), "--env-vars", str(bad_json)], "lambdarig: error: expected --env"),
        (["-t", str(template), "--parameter-overrides", "x"], "lambdarig: error: expected --para"),
        (["app.handler", "-t", str(template)], "lambdarig: error: expected HANDLER or --template"),
    ]
    for argv, start in cases:
        done = run_serve(*argv, "--port", "0", cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(start) and done.stderr.count("\n") == 1, done.stderr
    template.write_text(TEMPLATE.replace(RUNTIME, "nodejs20.x"))
    done = run_serve("-t", str(template), cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        "lambdarig: error: expected a Runtime in python3.9-python3.13, got 'nodejs20.x'\n",
    )


def test_parameter_overrides_as_sam_spells_them() -> None:
    assert parameter_overrides(["A=1 B='x y'", "ParameterKey=C,ParameterValue=3"]) == {
        "A": "1",
        "B": "x y",
        "C": "3",
    }
