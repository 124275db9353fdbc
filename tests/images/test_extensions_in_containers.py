"""External extensions in an image's /opt/extensions: in container mode (``lambdarig serve
--image``: ``container_execs``) and with lambdarig-rie as the image's entrypoint (process mode
inside the container). One image, built once for the module from the session's function image."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lambdarig.rie_server.environments.containers import LABEL, ContainerFactory
from lambdarig.rie_server.environments.environment import (
    Environment,
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
    OutcomeKind,
)
from tests.images.conftest import INVOKE_PATH, session_tag

pytestmark = pytest.mark.docker

TEST_LABEL = "lambdarig.test"
EXTENSION = r"""#!/usr/bin/env python3
import json, os, sys, urllib.request
BASE = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2020-01-01/extension"

def call(path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=60) as resp:
        return resp.status, resp.headers, json.loads(resp.read() or b"null")

name = os.path.basename(__file__)
status, headers, body = call("/register", {"events": ["INVOKE", "SHUTDOWN"]},
                             {"Lambda-Extension-Name": name})
ident = headers["Lambda-Extension-Identifier"]
print("ext-line registered", status, body["functionName"], flush=True)
while True:
    _, _, event = call("/event/next", headers={"Lambda-Extension-Identifier": ident})
    detail = event.get("requestId") or event.get("shutdownReason")
    print("ext-line got", event["eventType"], detail, flush=True)
    if event["eventType"] == "SHUTDOWN":
        if "stubborn" in name:  # ignores SHUTDOWN and SIGTERM: only SIGKILL ends it
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(120)
        sys.exit(0)
    if "quitter" in name:  # exits during its first invoke
        sys.exit(5)
"""


@pytest.fixture(scope="module")
def extension_image(docker_client: Any, bookworm_image: Any) -> Iterator[str]:
    """The session's function image plus /opt/extensions/ext-probe."""
    tag = session_tag("ext:bookworm")
    with tempfile.TemporaryDirectory(prefix="lambdarig-ext-image-") as context:
        script = Path(context, "ext-probe")
        script.write_text(EXTENSION)
        script.chmod(0o755)
        Path(context, "Dockerfile").write_text(
            f"FROM {bookworm_image.tag}\nCOPY ext-probe /opt/extensions/ext-probe\n"
        )
        docker_client.images.build(
            path=context, tag=tag, labels={TEST_LABEL: str(os.getpid())}, rm=True
        )
    try:
        yield tag
    finally:
        docker_client.images.remove(tag, force=True)


def _spec(factory: ContainerFactory) -> EnvironmentSpec:
    return EnvironmentSpec(
        command=(),
        cwd=None,
        env={"AWS_LAMBDA_FUNCTION_NAME": "boxed", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST"},
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:boxed",
        timeout_s=20.0,
        memory_mb=256,
        init_timeout_s=30.0,
        process_factory=factory,
    )


def test_container_mode_starts_the_images_extensions(
    docker_client: Any, extension_image: str
) -> None:
    factory = ContainerFactory(extension_image, client=docker_client)
    lines: list[str] = []

    async def go() -> list[InvokeOutcome]:
        environment = Environment(_spec(factory), "boxed", lambda _env, line: lines.append(line))
        try:
            return [
                await environment.invoke(InvokeRequest(f"req-{n}", json.dumps({"n": n}).encode()))
                for n in range(2)
            ]
        finally:
            await environment.stop()

    try:
        outcomes = asyncio.run(go())
    finally:
        factory.close()
    assert [o.kind for o in outcomes] == [OutcomeKind.SUCCESS] * 2, outcomes
    ours = [line for line in lines if line.startswith("ext-line")]
    assert ours == [
        "ext-line registered 200 boxed",
        "ext-line got INVOKE req-0",
        "ext-line got INVOKE req-1",
        "ext-line got SHUTDOWN spindown",
    ], lines
    assert lines.index("ext-line registered 200 boxed") < lines.index("hello from the function")
    assert docker_client.containers.list(all=True, filters={"label": LABEL}) == []


def test_a_crashing_extension_in_a_container_is_extension_crash(
    docker_client: Any, extension_image: str, tmp_path: Path
) -> None:
    """Layers mounted at /opt replace the image's: their extension exits at once."""
    from lambdarig.rie_server.environments.layers import prepare_opt

    crash = tmp_path / "layer" / "extensions" / "crasher"
    crash.parent.mkdir(parents=True)
    crash.write_text("#!/bin/sh\necho ext-line crashing\nexit 3\n")
    crash.chmod(0o755)
    opt = prepare_opt([tmp_path / "layer"], tmp_path / "opt")
    factory = ContainerFactory(extension_image, client=docker_client, opt_dir=opt)
    lines: list[str] = []

    async def go() -> InvokeOutcome:
        environment = Environment(_spec(factory), "boxed", lambda _env, line: lines.append(line))
        try:
            return await environment.invoke(InvokeRequest("req-0", b"{}"))
        finally:
            await environment.stop()

    try:
        outcome = asyncio.run(go())
    finally:
        factory.close()
    assert outcome.kind is OutcomeKind.INIT_ERROR
    assert outcome.error_type == "Extension.Crash"
    assert "ext-line crashing" in lines
    assert docker_client.containers.list(all=True, filters={"label": LABEL}) == []


def test_lambdarig_rie_as_the_entrypoint_starts_the_images_extensions(
    docker_client: Any, extension_image: str
) -> None:
    container = docker_client.containers.run(
        extension_image, detach=True, ports={"8080/tcp": ("127.0.0.1", None)}
    )
    try:
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
        url = f"http://127.0.0.1:{port}{INVOKE_PATH}"
        give_up = time.monotonic() + 60.0
        while True:
            try:
                answer = httpx.post(url, content=b'{"n": 7}', timeout=30.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > give_up:
                    raise
                time.sleep(0.1)  # poll interval while the emulator starts
        assert answer.status_code == 200
        request_id = answer.json()["request_id"]
        container.stop(timeout=10)
        logs = container.logs().decode(errors="replace").splitlines()
    finally:
        container.remove(force=True)
    ours = [line for line in logs if line.startswith("ext-line")]
    assert ours == [
        "ext-line registered 200 test_function",
        f"ext-line got INVOKE {request_id}",
        "ext-line got SHUTDOWN spindown",
    ], logs


def _layer_factory(docker_client: Any, image: str, tmp_path: Path, name: str) -> ContainerFactory:
    from lambdarig.rie_server.environments.layers import prepare_opt

    script = tmp_path / "layer" / "extensions" / name
    script.parent.mkdir(parents=True)
    script.write_text(EXTENSION)
    script.chmod(0o755)
    opt = prepare_opt([tmp_path / "layer"], tmp_path / "opt")
    return ContainerFactory(image, client=docker_client, opt_dir=opt)


def test_an_extension_ignoring_shutdown_is_killed_at_the_deadline(
    docker_client: Any, extension_image: str, tmp_path: Path
) -> None:
    factory = _layer_factory(docker_client, extension_image, tmp_path, "stubborn")
    lines: list[str] = []

    async def go() -> tuple[InvokeOutcome, float]:
        environment = Environment(_spec(factory), "boxed", lambda _env, line: lines.append(line))
        try:
            outcome = await environment.invoke(InvokeRequest("req-0", b"{}"))
        finally:
            started = time.monotonic()
            await environment.stop()
        return outcome, time.monotonic() - started

    try:
        outcome, stopping_s = asyncio.run(go())
    finally:
        factory.close()
    assert outcome.kind is OutcomeKind.SUCCESS
    assert "ext-line got SHUTDOWN spindown" in lines
    assert 1.5 <= stopping_s < 10.0  # the 2 s shutdown phase, then SIGKILL (not its 120 s)
    assert docker_client.containers.list(all=True, filters={"label": LABEL}) == []


def test_an_extension_exiting_during_an_invoke_is_extension_crash(
    docker_client: Any, extension_image: str, tmp_path: Path
) -> None:
    factory = _layer_factory(docker_client, extension_image, tmp_path, "quitter")

    async def go() -> list[InvokeOutcome]:
        environment = Environment(_spec(factory), "boxed", lambda _env, _line: None)
        try:
            # the function sleeps: the extension's exit comes before the runtime's answer
            slow = json.dumps({"action": "sleep", "seconds": 3}).encode()
            crashed = await environment.invoke(InvokeRequest("req-0", slow))
            return [crashed, await environment.invoke(InvokeRequest("req-1", b"{}"))]
        finally:
            await environment.stop()

    try:
        crashed, again = asyncio.run(go())
    finally:
        factory.close()
    assert crashed.error_type == "Extension.Crash", crashed
    expected = "RequestId: req-0 Error: extension quitter exited: exit status 5"
    assert crashed.error_message == expected
    assert again.init_duration_ms is not None  # the crash reset it: a new container's init
    assert docker_client.containers.list(all=True, filters={"label": LABEL}) == []
