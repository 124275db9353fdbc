"""aio: async handlers run on one lazily created event loop kept across invocations."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from lambdarig.runtime_api import Invocation
from lambdarig.runtime_client import sinks
from lambdarig.runtime_client.aio import AsyncRunner
from lambdarig.runtime_client.config import RuntimeConfig
from lambdarig.runtime_client.invoke import Invoker
from tests.runtime_client.handlers import app
from tests.runtime_client.handlers.probe import run_python


class NullSink(sinks.LogSink):
    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        pass

    def log_error(self, error: Any) -> None:
        pass


def make_invoker(handler: Any) -> Invoker:
    config = RuntimeConfig.from_environ({"AWS_LAMBDA_RUNTIME_API": "x"}, ["a.b"])
    return Invoker(handler, config, NullSink(), environ={})


def invocation(request_id: str = "req-1") -> Invocation:
    return Invocation(request_id, 4102444800000, "arn", b'{"n": 1}')


def test_runner_keeps_one_loop_across_runs() -> None:
    runner = AsyncRunner()
    loops = []

    async def which_loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    try:
        loops = [runner.run(which_loop()), runner.run(which_loop())]
    finally:
        runner.close()
    assert loops[0] is loops[1] and loops[0].is_closed()


def test_close_cancels_leftover_tasks() -> None:
    runner = AsyncRunner()
    started: list[asyncio.Task[None]] = []

    async def leave_a_task() -> None:
        started.append(asyncio.get_running_loop().create_task(asyncio.sleep(3600)))

    runner.run(leave_a_task())
    runner.close()
    assert started[0].cancelled()
    runner.close()  # idempotent


def test_async_handler_result_is_marshalled() -> None:
    invoker = make_invoker(app.async_echo)
    try:
        first = invoker.invoke(invocation())
        second = invoker.invoke(invocation("req-2"))
    finally:
        invoker.close()
    assert first.ok and first.body == b'{"async": {"n": 1}}'
    assert second.body == first.body


def test_async_handler_exception_trace_starts_in_user_code() -> None:
    invoker = make_invoker(app.async_raises)
    try:
        outcome = invoker.invoke(invocation())
    finally:
        invoker.close()
    error = json.loads(outcome.body)
    assert (error["errorType"], error["errorMessage"]) == ("KeyError", "'missing'")
    assert len(error["stackTrace"]) == 1 and "in async_raises" in error["stackTrace"][0]


def test_async_handler_sees_the_request_id() -> None:
    async def handler(event: Any, context: Any) -> Any:
        return sinks.current_request_id()

    invoker = make_invoker(handler)
    try:
        outcome = invoker.invoke(invocation("req-async"))
    finally:
        invoker.close()
    assert outcome.body == b'"req-async"'


def test_asyncio_is_not_imported_for_sync_handlers() -> None:
    code = (
        "import sys\n"
        "from lambdarig.runtime_api import Invocation\n"
        "from lambdarig.runtime_client import invoke, sinks\n"
        "from lambdarig.runtime_client.config import RuntimeConfig\n"
        "c = RuntimeConfig.from_environ({'AWS_LAMBDA_RUNTIME_API': 'x'}, ['a.b'])\n"
        "i = invoke.Invoker(lambda e, c: e, c, sinks.StdoutSink(), environ={})\n"
        "o = i.invoke(Invocation('r', 0, 'arn', b'1'))\n"
        "print(o.body, 'asyncio' in sys.modules, 'inspect' in sys.modules)\n"
    )
    assert run_python(code, "-I") == "b'1' False False\n"


def test_async_handlers_share_one_loop_across_invocations() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def handler(event: Any, context: Any) -> Any:
        loops.append(asyncio.get_running_loop())
        return len(loops)

    invoker = make_invoker(handler)
    try:
        outcomes = [invoker.invoke(invocation(f"req-{i}")) for i in range(3)]
    finally:
        invoker.close()
    assert [o.body for o in outcomes] == [b"1", b"2", b"3"]
    assert loops[0] is loops[1] is loops[2] and loops[0].is_closed()
