"""Emulators serving ``handlers/app.py`` through real runtimes: ours and (``peers``) awslambdaric.

One emulator per runtime per session (``--timeout 2 --max-concurrency 2``, function ``it-fn``);
tests that need other settings start their own with ``emulator_process.emulator``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import peers
from tests.rie_server.emulator_process import OUR_RUNTIME, Running, emulator

HANDLERS = Path(__file__).resolve().parent / "handlers"
FUNCTION_NAME = "it-fn"
TIMEOUT_S = 4  # generous: invokes that sleep 1 s must not time out on a loaded CI machine
MAX_CONCURRENCY = 2
LOCAL = (
    "--runtime-interface-emulator-address",
    "127.0.0.1:0",
    "--runtime-api-address",
    "127.0.0.1:0",
)
RUNTIMES = ["ours", pytest.param("awslambdaric", marks=pytest.mark.peers)]


def runtime_argv(name: str) -> list[str]:
    if name == "ours":
        return [*OUR_RUNTIME]
    return [str(peers.require_awslambdaric()), "-m", "awslambdaric"]


@pytest.fixture(scope="session", params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> list[str]:
    return runtime_argv(str(request.param))


@pytest.fixture(scope="session")
def served(runtime: list[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    argv = [
        *LOCAL,
        "--timeout",
        str(TIMEOUT_S),
        "--memory",
        "256",
        "--max-concurrency",
        str(MAX_CONCURRENCY),
        *runtime,
        "app.handler",
    ]
    env = {"AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME}
    with emulator(argv, tmp_path_factory.mktemp("served"), env=env, cwd=HANDLERS) as running:
        yield running


def invoke_url(running: Running, name: str = FUNCTION_NAME) -> str:
    return f"{running.url}/2015-03-31/functions/{name}/invocations"
