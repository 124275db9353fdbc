"""Output a runtime wrote before it posted its result belongs to that invocation.

The service's Tail (``X-Amz-Log-Result``) holds what the function printed during the invocation:
the runtime writes those lines to its stdout/stderr before it posts ``/response``, so they must
reach ``on_output`` before ``Environment.invoke`` returns the outcome (the emulator closes the
invocation's log capture when the outcome arrives). A real runtime posts on a kept-alive
connection right after printing, which is the race the scripted fake (a new connection per call)
rarely loses. Spans environment / supervisor / runtime_api_server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from pathlib import Path

from lambdarig.rie_server.environments.environment import (
    Environment,
    EnvironmentSpec,
    OutcomeKind,
)
from tests.rie_server.environments.test_environment import request, spec

HANDLERS = Path(__file__).resolve().parents[1] / "integration" / "handlers"


def runtime_spec() -> EnvironmentSpec:
    """Our runtime client on the integration handlers' ``app.handler``."""
    return dataclasses.replace(
        spec("unused"),
        command=(sys.executable, "-m", "lambdarig.runtime_client", "app.handler"),
        cwd=str(HANDLERS),
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(HANDLERS)},
    )


def test_lines_printed_before_the_post_arrive_before_the_outcome() -> None:
    lines: list[str] = []
    env_spec = runtime_spec()

    async def main() -> None:
        env = Environment(env_spec, "env-1", lambda env_id, line: lines.append(line))
        try:
            assert await env.start() is None
            for attempt in range(5):  # a race: every attempt must hold
                lines.clear()
                payload = json.dumps({"action": "print", "lines": 2}).encode()
                outcome = await env.invoke(request(f"req-{attempt}", payload))
                assert outcome.kind is OutcomeKind.SUCCESS, outcome
                seen = list(lines)  # as the outcome arrived
                assert "line 0" in seen and "line 1" in seen, (attempt, seen)
        finally:
            await env.stop(grace_s=0.5)

    asyncio.run(main())


def test_a_partial_last_line_ends_with_its_invocation() -> None:
    """A handler's last output without a newline (``logging.exception``'s traceback through the
    runtime client's log sink) is handed on as a line of its own before the outcome, not held
    back and glued onto the next invocation's first line."""
    lines: list[str] = []
    env_spec = runtime_spec()

    async def main() -> list[list[str]]:
        env = Environment(env_spec, "env-1", lambda env_id, line: lines.append(line))
        seen: list[list[str]] = []
        try:
            assert await env.start() is None
            for number, event in enumerate(
                [
                    {"action": "partial", "text": "no newline"},
                    {"action": "log_exception", "tag": "first"},
                    {"action": "log_exception", "tag": "second"},
                ]
            ):
                lines.clear()
                outcome = await env.invoke(request(f"req-{number}", json.dumps(event).encode()))
                assert outcome.kind is OutcomeKind.SUCCESS, outcome
                seen.append(list(lines))  # as the outcome arrived
        finally:
            await env.stop(grace_s=0.5)
        return seen

    partial, first, second = asyncio.run(main())
    assert partial == ["no newline"]
    assert first[-1] == "ValueError: first" and first[0].startswith("[ERROR]\t")
    assert second[-1] == "ValueError: second" and second[0].startswith("[ERROR]\t")
    assert not any("first" in line for line in second)
