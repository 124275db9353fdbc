"""Environment against real subprocess runtimes: the scripted fake, our client and awslambdaric."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Callable, TypeVar

import pytest

from lambdarig.rie_server.environment import (
    Environment,
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
    OutcomeKind,
)
from lambdarig.rie_server.errors import EnvironmentBusy, EnvironmentStopped

FAKE = str(Path(__file__).with_name("fake_runtime.py"))
ARN = "arn:aws:lambda:us-east-1:012345678912:function:test_function"
T = TypeVar("T")


def spec(scenario: str, *args: str, **overrides: object) -> EnvironmentSpec:
    values: dict[str, object] = {
        "command": (sys.executable, FAKE, scenario, *args),
        "cwd": None,
        "env": {"PATH": os.environ.get("PATH", "")},
        "function_arn": ARN,
        "timeout_s": 3.0,
        "memory_mb": 512,
    }
    values.update(overrides)
    return EnvironmentSpec(**values)  # type: ignore[arg-type]


class Run:
    """An environment plus the lines it printed; always stopped by the fixture."""

    def __init__(self, env_spec: EnvironmentSpec) -> None:
        self.lines: list[tuple[str, str]] = []
        self.env = Environment(env_spec, "env-1", lambda env_id, line: self.lines.append((env_id, line)))

    def statuses(self) -> list[str]:
        return [line[len("STATUS ") :] for _, line in self.lines if line.startswith("STATUS ")]


@pytest.fixture
def run_env() -> Iterator[Callable[[EnvironmentSpec, Callable[[Run], Awaitable[T]]], T]]:
    """``run_env(spec, scenario)`` runs ``scenario(run)`` on a fresh loop, always stopping the env."""

    def runner(env_spec: EnvironmentSpec, body: Callable[[Run], Awaitable[T]]) -> T:
        run = Run(env_spec)

        async def main() -> T:
            try:
                return await body(run)
            finally:
                await run.env.stop(grace_s=0.5)

        return asyncio.run(main())

    yield runner


def request(request_id: str = "req-1", payload: bytes = b'{"x": 1}', **kw: str) -> InvokeRequest:
    return InvokeRequest(request_id=request_id, payload=payload, **kw)  # type: ignore[arg-type]


def test_happy_path_start_invoke_stop(run_env) -> None:
    async def body(run: Run) -> tuple[InvokeOutcome | None, InvokeOutcome, InvokeOutcome]:
        started = await run.env.start()
        assert run.env.initialized and run.env.idle
        assert run.env.runtime_api_address.startswith("127.0.0.1:")
        first = await run.env.invoke(request("req-1"))
        second = await run.env.invoke(request("req-2", b'{"y": 2}'))
        return started, first, second

    started, first, second = run_env(spec("echo"), body)
    assert started is None
    assert first.kind is OutcomeKind.SUCCESS and first.body == b'{"x": 1}'
    assert first.content_type == "application/json"
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert second.body == b'{"y": 2}' and second.init_duration_ms is None
    assert first.max_memory_used_mb > 0 and first.error_type is None
