"""Containers never outlive the emulator: Ctrl-C removes them; a SIGKILLed emulator's are swept."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdarig.rie_server.containers import LABEL, OWNER_LABEL, ContainerFactory

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
    emulator.wait(timeout=30)
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
