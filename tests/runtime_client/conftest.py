"""Fixtures for runtime-client tests: a started fake Runtime API and runtime subprocesses.

Both always clean up: the fake releases its port and re-raises server-thread failures at teardown;
every spawned runtime is killed and reaped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from lambdarig.runtime_client.client import RuntimeAPIClient
from lambdarig.runtime_client.transport import SocketTransport
from tests.runtime_client.fake_runtime_api import FakeRuntimeAPI

Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def fake_api() -> Iterator[FakeRuntimeAPI]:
    fake = FakeRuntimeAPI().start()
    try:
        yield fake
    finally:
        fake.stop()
    fake.check()


@pytest.fixture
def client(fake_api: FakeRuntimeAPI) -> Iterator[RuntimeAPIClient]:
    """A RuntimeAPIClient over a real socket to ``fake_api``; its connection is closed after."""
    client = RuntimeAPIClient(SocketTransport(fake_api.address))
    yield client
    client.transport.close()


def runtime_env(api: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment for a runtime subprocess talking to ``api``."""
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["AWS_LAMBDA_RUNTIME_API"] = api
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """``spawn(*args, env=...)`` starts ``python -m lambdarig.runtime_client *args`` in tmp_path."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(
        *args: str,
        env: Mapping[str, str],
        cwd: Path | None = None,
        module: bool = True,
        **popen: Any,
    ) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "lambdarig.runtime_client", *args] if module else list(args)
        proc = subprocess.Popen(
            cmd,
            env=dict(env),
            cwd=cwd or tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **popen,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
