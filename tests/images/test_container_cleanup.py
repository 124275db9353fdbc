"""Containers never outlive the emulator: Ctrl-C removes them; a SIGKILLed emulator's are swept."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lambdarig.invoke_api import PATH_INVOKE
from lambdarig.rie_server.environments.containers import LABEL, OWNER_LABEL, ContainerFactory
from tests.images.conftest import FUNCTION
from tests.rie_server.emulator_process import READY, StderrReader

pytestmark = pytest.mark.docker
STUB = Path(__file__).parent / "fixtures" / "emulator_stub.py"


def _ours(client: Any, pid: int) -> list[Any]:
    return client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={pid}"})


@pytest.fixture
def emulator(bookworm_image: Any) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, str(STUB), bookworm_image.tag], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_ctrl_c_removes_the_containers(docker_client: Any, emulator: subprocess.Popen[str]) -> None:
    assert len(_ours(docker_client, emulator.pid)) == 1
    emulator.send_signal(signal.SIGINT)
    try:
        emulator.wait(timeout=60)
    except subprocess.TimeoutExpired:
        emulator.send_signal(signal.SIGUSR1)  # its threads' tracebacks go to the captured stderr
        with contextlib.suppress(subprocess.TimeoutExpired):
            emulator.wait(timeout=2)
        pytest.fail("the emulator did not exit within 60 s of SIGINT (tracebacks in stderr)")
    assert _ours(docker_client, emulator.pid) == []


def test_containers_of_a_killed_emulator_are_swept_at_the_next_start(
    docker_client: Any, bookworm_image: Any, emulator: subprocess.Popen[str]
) -> None:
    emulator.kill()
    emulator.wait(timeout=30)
    assert len(_ours(docker_client, emulator.pid)) == 1
    ContainerFactory(bookworm_image.tag, client=docker_client).close()
    assert _ours(docker_client, emulator.pid) == []
    assert docker_client.containers.list(all=True, filters={"label": LABEL}) == []


def test_ctrl_c_on_lambdarig_serve_image_removes_its_containers(
    docker_client: Any, bookworm_image: Any, tmp_path: Path
) -> None:
    """`lambdarig serve --image IMAGE --memory 160`: the environment is a container limited to
    160 MiB (no swap); SIGINT (Ctrl-C) exits 0 and leaves no container labelled for it."""
    argv = [sys.executable, "-m", "lambdarig.cli", "serve", "app.handler", "--code", str(FUNCTION),
            "--image", bookworm_image.tag, "--memory", "160", "--port", "0"]  # fmt: skip
    with (tmp_path / "stdout").open("wb") as stdout:
        process = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    try:
        ready = StderrReader(process).wait_for(READY, timeout_s=30)
        assert ready is not None, f"lambdarig serve never said it was listening ({argv})"
        url = ready.group(1) + PATH_INVOKE.format(name="function")
        answer = httpx.post(url, json={"n": 1}, timeout=30)
        assert answer.status_code == 200 and answer.json()["event"] == {"n": 1}, answer.text
        (container,) = _ours(docker_client, process.pid)
        limits = container.attrs["HostConfig"]
        assert limits["Memory"] == limits["MemorySwap"] == 160 * 1024 * 1024
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert _ours(docker_client, process.pid) == []
    finally:
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()
        for container in _ours(docker_client, process.pid):  # only if an assertion failed
            container.remove(force=True)
