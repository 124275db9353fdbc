"""``lambdarig serve -t`` with a ``PackageType: Image`` function, written as ``sam init`` writes
one (``ImageConfig``, ``Metadata`` for ``sam build``, an ``HttpApi`` event) with ``ImageUri`` naming
a local image: each execution environment is a container of it, as with ``serve --image``. One
image, built here with ``lambdarig image build`` from the offline base and removed at the end."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lambdarig.build.images import BUILD_LABEL
from lambdarig.rie_server.environments.containers import LABEL
from tests.images.conftest import FUNCTION, require_base, session_tag, wheel_cache
from tests.rie_server.emulator_process import Running, emulator

pytestmark = pytest.mark.docker

SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")

# As sam init's image template (python3.x, Hello World Example), ImageUri added (sam build would).
# The image's CMD is a handler that does not exist: ImageConfig.Command must replace it.
TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: sam-app (image)
Globals:
  Function:
    Timeout: 10
    MemorySize: 256
Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: {image}
      ImageConfig:
        Command: ["app.handler"]
      Architectures:
        - x86_64
      Events:
        HelloWorld:
          Type: HttpApi
          Properties:
            Path: /hello
            Method: get
    Metadata:
      Dockerfile: Dockerfile
      DockerContext: ./hello_world
      DockerTag: python3.11-v1
"""


@pytest.fixture(scope="module")
def image(docker_client: Any) -> Iterator[str]:
    """tests/images/fixtures/function on lambdarig-base:bookworm, CMD app.missing, built by the
    CLI; removed (by its tag: nothing else) at the end."""
    base = require_base(docker_client, "bookworm")
    tag = session_tag("template-fn:bookworm")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lambdarig.cli", "image", "build", str(FUNCTION), "--tag", tag,
             "--base", base, "--python", "3.11", "--handler", "app.missing",
             "--wheel-cache", str(wheel_cache())],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert BUILD_LABEL in docker_client.images.get(tag).labels
        yield tag
    finally:
        import docker

        try:
            docker_client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass


@pytest.fixture(scope="module")
def project(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp_path = tmp_path_factory.mktemp("image-project")
    template = tmp_path / "sam-app" / "template.yaml"
    template.parent.mkdir()
    template.write_text(TEMPLATE.format(image=image))
    argv = ["-t", str(template), "--port", "0", "--http-port", "0"]
    with emulator(argv, tmp_path, cwd=tmp_path, entry=SERVE, ready_timeout_s=120) as running:
        yield running


def test_invoke_api_by_logical_id_runs_the_image(
    project: Running, image: str, docker_client: Any
) -> None:
    url = f"{project.url}/2015-03-31/functions/HelloWorldFunction/invocations"
    answer = httpx.post(url, content=b'{"n": 1}', timeout=60)
    assert answer.status_code == 200, answer.text
    assert "x-amz-function-error" not in answer.headers, answer.text
    body = answer.json()
    assert body["event"] == {"n": 1}
    assert body["function_name"] == "HelloWorldFunction"
    assert (body["python"], body["task_root"]) == ("3.11", "/var/task")  # inside the image
    running = docker_client.containers.list(filters={"label": LABEL, "ancestor": image})
    assert running, "no container of the image runs the function"
    assert "hello from the function" in project.stdout()


def test_the_http_api_route_reaches_the_container(project: Running) -> None:
    table = "\n".join(project.stderr_lines)
    match = re.search(r"HelloWorldFunction\s+HelloWorldFunction\s+HTTP API\s+GET\s+(\S+)", table)
    assert match, table
    answer = httpx.get(match.group(1), params={"q": "1"}, timeout=60)
    assert answer.status_code == 200, answer.text
    event = answer.json()["event"]
    assert (event["version"], event["routeKey"], event["rawPath"]) == (
        "2.0",
        "GET /hello",
        "/hello",
    )
    assert event["queryStringParameters"] == {"q": "1"}
