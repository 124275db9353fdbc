"""Environment against real subprocess runtimes: the scripted fake, our client and awslambdaric."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Callable, TypeVar

import pytest

from lambdarig.rie_server.environments.environment import (
    Environment,
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
    OutcomeKind,
)
from lambdarig.rie_server.errors import EnvironmentBusy, EnvironmentStopped
from tests.probes import eventually, process_gone, wait_until

FAKE = str(Path(__file__).parents[1] / "fixtures" / "fake_runtime.py")
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
        self.env = Environment(
            env_spec, "env-1", lambda env_id, line: self.lines.append((env_id, line))
        )

    def statuses(self) -> list[str]:
        return [line[len("STATUS ") :] for _, line in self.lines if line.startswith("STATUS ")]


@pytest.fixture
def run_env() -> Iterator[Callable[[EnvironmentSpec, Callable[[Run], Awaitable[T]]], T]]:
    """``run_env(spec, body)`` runs ``body(run)`` on a fresh loop, always stopping the env."""

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


def test_a_warm_invoke_waits_while_an_init_holds_the_lock(run_env) -> None:
    # A warm invoke skips the init lock when nobody holds it or waits for it; held (an init under
    # way, as in managed instances mode), the invoke queues behind it and is served once it is
    # released.
    async def body(run: Run) -> tuple[InvokeOutcome, bool, InvokeOutcome]:
        await run.env.start()
        warm = await run.env.invoke(request("warm"))
        lock = run.env._lock()
        async with lock:
            queued = asyncio.ensure_future(run.env.invoke(request("queued", b'"q"')))
            await eventually(lambda: lock.users == 2, "the invoke to wait for the lock")
            waited = not queued.done()
        return warm, waited, await queued

    warm, waited, queued = run_env(spec("echo"), body)
    assert warm.body == b'{"x": 1}' and waited and queued.body == b'"q"'


def test_an_invoke_arriving_as_the_init_ends_queues_behind_the_one_that_waited(run_env) -> None:
    # The start releases the lock and wakes the invoke that waited for it; an invoke arriving
    # before that one runs finds the lock free but not unclaimed, and queues behind it, as taking
    # the lock would: the waiter is served first and gets the start's Init Duration.
    async def body(run: Run) -> tuple[InvokeOutcome, InvokeOutcome]:
        waiting = asyncio.ensure_future(run.env.invoke(request("waited", b'"w"')))
        await run.env.start()  # inline: this task goes on between the release and the wake-up
        newcomer = await run.env.invoke(request("newcomer", b'"n"'))
        return await waiting, newcomer

    waited, newcomer = run_env(spec("lmi", "0", max_concurrency=2), body)
    assert (waited.body, newcomer.body) == (b'"w"', b'"n"')
    assert waited.init_duration_ms is not None and newcomer.init_duration_ms is None


def test_next_headers_carry_invocation_fields(run_env) -> None:
    req = InvokeRequest(
        request_id="req-h",
        payload=b"{}",
        trace_id="Root=1-abc;Parent=def;Sampled=1",
        client_context='{"custom":{}}',
        cognito_identity='{"cognitoIdentityId":"i"}',
        tenant_id="tenant-7",
    )

    async def body(run: Run) -> InvokeOutcome:
        return await run.env.invoke(req)

    before_ms = time.time() * 1000
    outcome = run_env(spec("headers", timeout_s=7.0), body)
    headers = json.loads(outcome.body)
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-h"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == ARN
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-abc;Parent=def;Sampled=1"
    assert headers["Lambda-Runtime-Client-Context"] == '{"custom":{}}'
    assert headers["Lambda-Runtime-Cognito-Identity"] == '{"cognitoIdentityId":"i"}'
    assert headers["Lambda-Runtime-Aws-Tenant-Id"] == "tenant-7"
    assert headers["Content-Type"] == "application/json"
    assert len(headers["Lambda-Runtime-Invocation-Id"]) == 36
    deadline = int(headers["Lambda-Runtime-Deadline-Ms"])
    assert before_ms + 6000 < deadline < before_ms + 8000
    # first invoke without start(): lazy cold init is reported
    assert outcome.init_duration_ms is not None


def test_function_error_keeps_body_and_sanitises_type(run_env) -> None:
    async def body(run: Run) -> InvokeOutcome:
        return await run.env.invoke(request())

    outcome = run_env(spec("error", "Function.MyError"), body)
    assert outcome.kind is OutcomeKind.FUNCTION_ERROR
    assert outcome.body == b'{"errorMessage":"boom","errorType":"ValueError"}'
    assert outcome.error_type == "Function.MyError"
    unhandled = run_env(spec("error", "Unhandled"), body)
    assert unhandled.error_type == "Runtime.Unknown"


def test_timeout_kills_group_within_half_a_second_and_reinits(run_env) -> None:
    async def body(run: Run) -> tuple[InvokeOutcome, float, InvokeOutcome]:
        await run.env.start()
        t0 = time.monotonic()
        timed_out = await run.env.invoke(request("req-t"))
        elapsed = time.monotonic() - t0
        assert not run.env.initialized
        again = await run.env.invoke(request("req-u"))
        return timed_out, elapsed, again

    timed_out, elapsed, again = run_env(spec("sleep", "5", timeout_s=1.0), body)
    assert timed_out.kind is OutcomeKind.TIMEOUT
    assert timed_out.error_type == "Sandbox.Timedout"
    assert timed_out.error_message == "RequestId: req-t Error: Task timed out after 1.00 seconds"
    assert 1.0 <= elapsed < 1.5
    # the re-init is suppressed inside the next invoke, which then times out too (sleep 5 > 1 s)
    assert again.kind is OutcomeKind.TIMEOUT and again.init_duration_ms is not None


def test_timeout_kills_grandchildren(run_env) -> None:
    async def body(run: Run) -> tuple[InvokeOutcome, list[str]]:
        outcome = await run.env.invoke(request())
        return outcome, [line for _, line in run.lines if line.startswith("CHILD ")]

    outcome, children = run_env(spec("spawn_and_hang", timeout_s=1.0), body)
    assert outcome.kind is OutcomeKind.TIMEOUT
    assert len(children) == 1
    child_pid = int(children[0].split()[1])
    # killed with the group; never left running (a zombie until some init reaps it, if any does)
    wait_until(lambda: process_gone(child_pid), f"grandchild {child_pid} to die with its group")


@pytest.mark.parametrize(
    ("scenario", "arg", "message", "status"),
    [
        ("crash", "2", "Runtime exited with error: exit status 2", 2),
        ("crash", "0", "Runtime exited without providing a reason", 0),
        ("kill_self", "", "Runtime exited with error: signal: killed", -9),
    ],
)
def test_crash_during_invoke(run_env, scenario: str, arg: str, message: str, status: int) -> None:
    async def body(run: Run) -> tuple[InvokeOutcome, InvokeOutcome]:
        await run.env.start()
        crashed = await run.env.invoke(request("req-c"))
        again = await run.env.invoke(request("req-d"))
        return crashed, again

    args = (arg,) if arg else ()
    crashed, again = run_env(spec(scenario, *args), body)
    assert crashed.kind is OutcomeKind.CRASH
    assert crashed.error_type == "Runtime.ExitError"
    assert crashed.error_message == f"RequestId: req-c Error: {message}"
    assert crashed.exit_status == status and not crashed.out_of_memory
    assert again.kind is OutcomeKind.CRASH and again.init_duration_ms is not None


def test_init_error_posted_is_kept_verbatim(run_env) -> None:
    async def body(run: Run) -> InvokeOutcome | None:
        return await run.env.start()

    run_ = Run(spec("init_error"))

    async def main() -> InvokeOutcome | None:
        try:
            return await body(run_)
        finally:
            await run_.env.stop()

    outcome = asyncio.run(main())
    assert outcome is not None and outcome.kind is OutcomeKind.INIT_ERROR
    assert outcome.body == b'{"errorMessage":"bad import","errorType":"Runtime.ImportModuleError"}'
    assert outcome.error_type == "Runtime.ImportModuleError"
    assert run_.statuses() == [
        '202 {"status":"OK"}',
        '403 {"errorMessage":"State transition from InitError to InitError failed for runtime. '
        'Error: State transition is not allowed","errorType":"InvalidStateTransition"}',
        '403 {"errorMessage":"State transition from InitError to Ready failed for runtime. '
        'Error: State transition is not allowed","errorType":"InvalidStateTransition"}',
    ]


def test_runtime_that_stays_after_init_error_is_killed(run_env) -> None:
    async def body(run: Run) -> InvokeOutcome | None:
        return await run.env.start()

    t0 = time.monotonic()
    outcome = run_env(spec("init_error_stays"), body)
    assert time.monotonic() - t0 < 3.0  # not the runtime's 60 s sleep
    assert outcome is not None and outcome.kind is OutcomeKind.INIT_ERROR
    assert outcome.body == b'{"errorType":"Runtime.X"}'
    assert outcome.error_type == "Runtime.Unknown"  # no Lambda-Runtime-Function-Error-Type header


def test_exit_during_init(run_env) -> None:
    async def body(run: Run) -> tuple[InvokeOutcome | None, InvokeOutcome]:
        return await run.env.start(), await run.env.invoke(request("req-i"))

    at_start, in_invoke = run_env(spec("exit_during_init", "3"), body)
    assert at_start is not None and at_start.kind is OutcomeKind.INIT_ERROR
    assert at_start.error_type == "Runtime.ExitError"
    assert at_start.error_message == "Error: Runtime exited with error: exit status 3"
    assert in_invoke.kind is OutcomeKind.INIT_ERROR
    assert (
        in_invoke.error_message
        == "RequestId: req-i Error: Runtime exited with error: exit status 3"
    )
    assert in_invoke.init_duration_ms is not None


def test_init_timeout_then_suppressed_init_in_first_invoke(run_env) -> None:
    async def body(run: Run) -> tuple[InvokeOutcome | None, InvokeOutcome]:
        return await run.env.start(), await run.env.invoke(request("req-s"))

    at_start, in_invoke = run_env(spec("slow_init", "1.0", init_timeout_s=0.5), body)
    assert at_start is not None and at_start.kind is OutcomeKind.INIT_ERROR
    assert at_start.error_type == "Sandbox.Timedout"
    assert in_invoke.kind is OutcomeKind.SUCCESS
    assert in_invoke.init_duration_ms is not None and in_invoke.init_duration_ms >= 1000


def test_never_polls_times_out_in_invoke(run_env) -> None:
    async def body(run: Run) -> InvokeOutcome:
        return await run.env.invoke(request("req-n"))

    outcome = run_env(spec("never_polls", timeout_s=0.5, init_timeout_s=0.2), body)
    assert outcome.kind is OutcomeKind.TIMEOUT
    assert outcome.error_message == "RequestId: req-n Error: Task timed out after 0.50 seconds"


def test_missing_bootstrap_is_an_init_error(run_env) -> None:
    async def body(run: Run) -> InvokeOutcome | None:
        return await run.env.start()

    outcome = run_env(spec("echo", command=("/nonexistent/bootstrap",)), body)
    assert outcome is not None and outcome.kind is OutcomeKind.INIT_ERROR
    assert outcome.error_type == "Runtime.InvalidEntrypoint"
    assert "/nonexistent/bootstrap" in (outcome.error_message or "")


def test_response_too_large(run_env) -> None:
    async def body(run: Run) -> tuple[InvokeOutcome, InvokeOutcome]:
        return await run.env.invoke(request("a")), await run.env.invoke(request("b"))

    first, second = run_env(spec("too_large"), body)
    assert first.kind is OutcomeKind.RESPONSE_TOO_LARGE
    assert first.error_type == "Function.ResponseSizeTooLarge"
    assert first.error_message == (
        "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
    )
    assert first.body == b""
    assert second.kind is OutcomeKind.RESPONSE_TOO_LARGE  # the environment stays usable


def _statuses_of(scenario: str, *args: str) -> tuple[list[InvokeOutcome], list[str]]:
    run_ = Run(spec(scenario, *args))

    async def main() -> list[InvokeOutcome]:
        try:
            return [await run_.env.invoke(request(f"r{i}", b'"p%d"' % i)) for i in range(2)]
        finally:
            await run_.env.stop(grace_s=0.5)

    return asyncio.run(main()), run_.statuses()


def test_posting_twice_is_refused_without_disturbing_the_next_invoke() -> None:
    outcomes, statuses = _statuses_of("twice")
    assert [o.body for o in outcomes] == [b'"p0"', b'"p1"']
    refused = (
        '403 {"errorMessage":"State transition from RuntimeResponseSentState to {to} failed for '
        'runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}'
    )
    assert statuses[:3] == [
        '202 {"status":"OK"}',
        refused.replace("{to}", "InvocationResponse"),
        refused.replace("{to}", "InvocationErrorResponse"),
    ]


def test_wrong_request_id_gets_400_and_never_finishes_the_invoke() -> None:
    outcomes, statuses = _statuses_of("wrong_id")
    assert [o.body for o in outcomes] == [b'"p0"', b'"p1"']
    assert statuses[0] == '400 {"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}'
    assert statuses[1] == '202 {"status":"OK"}'


def test_stale_invocation_id_gets_410() -> None:
    outcomes, statuses = _statuses_of("stale")
    assert [o.body for o in outcomes] == [b'"p0"', b'"p1"']
    assert statuses[0] == '410 {"errorMessage":"Invoke timeout","errorType":"InvokeTimeout"}'


def test_invalid_response_mode_gets_400() -> None:
    outcomes, statuses = _statuses_of("bad_mode")
    assert [o.body for o in outcomes] == [b'"p0"', b'"p1"']
    assert statuses[0] == (
        '400 {"errorMessage":"Invalid function response mode",'
        '"errorType":"InvalidFunctionResponseMode"}'
    )


def test_next_while_running_redelivers_the_same_event() -> None:
    outcomes, _ = _statuses_of("renext")
    assert [o.kind for o in outcomes] == [OutcomeKind.SUCCESS, OutcomeKind.SUCCESS]


def test_output_lines_reach_on_output(run_env) -> None:
    run_ = Run(spec("print"))

    async def main() -> None:
        try:
            await run_.env.invoke(request())
            # stdout/stderr are separate pipes: give the stderr pump a moment to deliver
            for _ in range(100):
                if ("env-1", "partial end") in run_.lines:
                    break
                await asyncio.sleep(0.01)
        finally:
            await run_.env.stop()

    asyncio.run(main())
    for line in ("out line 1", "out line 2", "err line", "partial end"):
        assert ("env-1", line) in run_.lines


def test_out_of_memory_kills_and_reports(run_env) -> None:
    async def body(run: Run) -> InvokeOutcome:
        return await run.env.invoke(request("req-m"))

    outcome = run_env(spec("alloc", "200", memory_mb=64), body)
    assert outcome.kind is OutcomeKind.CRASH and outcome.out_of_memory
    assert outcome.error_type == "Runtime.ExitError"
    assert (
        outcome.error_message == "RequestId: req-m Error: Runtime exited with error: signal: killed"
    )
    assert outcome.max_memory_used_mb > 64


def test_max_memory_used_is_measured(run_env) -> None:
    async def body(run: Run) -> InvokeOutcome:
        return await run.env.invoke(request())

    outcome = run_env(spec("alloc", "100", memory_mb=512), body)
    assert outcome.kind is OutcomeKind.SUCCESS
    assert 100 <= outcome.max_memory_used_mb < 200


def test_managed_instances_mode_serves_concurrently(run_env) -> None:
    async def body(run: Run) -> tuple[list[InvokeOutcome], float]:
        await run.env.start()
        t0 = time.monotonic()
        outcomes = await asyncio.gather(
            *(run.env.invoke(request(f"c{i}", b'"%d"' % i)) for i in range(4))
        )
        return list(outcomes), time.monotonic() - t0

    outcomes, elapsed = run_env(spec("lmi", "0.5", max_concurrency=4), body)
    assert [o.body for o in outcomes] == [b'"0"', b'"1"', b'"2"', b'"3"']
    assert elapsed < 1.5  # four 0.5 s invokes overlapped


def test_busy_and_stopped_raise(run_env) -> None:
    async def body(run: Run) -> None:
        await run.env.start()
        first = asyncio.ensure_future(run.env.invoke(request("a")))
        await eventually(lambda: not run.env.idle, "the first invoke to occupy the environment")
        with pytest.raises(EnvironmentBusy):
            await run.env.invoke(request("b"))
        assert (await first).kind is OutcomeKind.SUCCESS
        await run.env.stop()
        await run.env.stop()  # idempotent
        with pytest.raises(EnvironmentStopped):
            await run.env.invoke(request("c"))

    run_env(spec("sleep", "0.2"), body)


def test_stop_leaves_no_process(run_env) -> None:
    pids: list[int] = []

    async def body(run: Run) -> None:
        await run.env.start()
        process = run.env._process
        assert process is not None and process.pid is not None
        pids.append(process.pid)

    run_env(spec("echo"), body)
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


# --- Real runtimes: our client and awslambdaric ------------------------------------------------

HANDLERS = """
import time

def echo(event, context):
    return {"event": event, "request_id": context.aws_request_id,
            "arn": context.invoked_function_arn}

def fail(event, context):
    raise ValueError("boom")

def slow(event, context):
    time.sleep(10)

def nap(event, context):
    time.sleep(0.5)
    return event

def big(event, context):
    return "x" * 6291556
"""


def real_spec(
    tmp_path: Path, python: str, module: str, handler: str, **kw: object
) -> EnvironmentSpec:
    (tmp_path / "app.py").write_text(HANDLERS)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LAMBDA_TASK_ROOT": str(tmp_path),
        "PYTHONPATH": str(tmp_path),
        "_HANDLER": f"app.{handler}",
        "AWS_LAMBDA_FUNCTION_NAME": "test_function",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
    }
    return spec(
        "unused",
        command=(python, "-m", module, f"app.{handler}"),
        cwd=str(tmp_path),
        env=env,
        **kw,
    )


def _check_real_runtime(run_env, env_spec_for: Callable[[str], EnvironmentSpec]) -> None:
    async def invoke_one(run: Run) -> InvokeOutcome:
        assert await run.env.start() is None
        return await run.env.invoke(request("req-real", b'{"k": "v"}'))

    ok = run_env(env_spec_for("echo"), invoke_one)
    assert ok.kind is OutcomeKind.SUCCESS, ok
    assert json.loads(ok.body) == {"event": {"k": "v"}, "request_id": "req-real", "arn": ARN}

    failed = run_env(env_spec_for("fail"), invoke_one)
    assert failed.kind is OutcomeKind.FUNCTION_ERROR
    error = json.loads(failed.body)
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "boom"

    async def twice(run: Run) -> tuple[InvokeOutcome, InvokeOutcome]:
        return await run.env.invoke(request("big-1")), await run.env.invoke(request("big-2"))

    too_large, after = run_env(env_spec_for("big"), twice)
    assert too_large.kind is OutcomeKind.RESPONSE_TOO_LARGE
    assert too_large.error_type == "Function.ResponseSizeTooLarge"
    # both real runtimes exit after their 413; the next invoke re-inits instead of being blamed
    assert after.kind is OutcomeKind.RESPONSE_TOO_LARGE

    async def init_only(run: Run) -> InvokeOutcome | None:
        return await run.env.start()

    init_failed = run_env(env_spec_for("missing"), init_only)
    assert init_failed is not None and init_failed.kind is OutcomeKind.INIT_ERROR
    assert init_failed.error_type == "Runtime.HandlerNotFound"
    assert json.loads(init_failed.body)["errorType"] == "Runtime.HandlerNotFound"

    async def timed(run: Run) -> tuple[InvokeOutcome, InvokeOutcome]:
        await run.env.start()
        first = await run.env.invoke(request("req-slow"))
        return first, await run.env.invoke(request("req-slow-2"))

    slow, again = run_env(env_spec_for("slow"), timed)
    assert slow.kind is OutcomeKind.TIMEOUT
    assert slow.error_message == "RequestId: req-slow Error: Task timed out after 1.00 seconds"
    assert again.kind is OutcomeKind.TIMEOUT and again.init_duration_ms is not None


def test_our_runtime_client(run_env, tmp_path: Path) -> None:
    _check_real_runtime(
        run_env,
        lambda handler: real_spec(
            tmp_path, sys.executable, "lambdarig.runtime_client", handler, timeout_s=1.0
        ),
    )


@pytest.mark.peers
def test_awslambdaric(run_env, tmp_path: Path, awslambdaric_python: Path) -> None:
    _check_real_runtime(
        run_env,
        lambda handler: real_spec(
            tmp_path, str(awslambdaric_python), "awslambdaric", handler, timeout_s=1.0
        ),
    )


def _check_managed_instances(run_env, env_spec: EnvironmentSpec) -> None:
    async def body(run: Run) -> tuple[list[InvokeOutcome], float]:
        assert await run.env.start() is None
        t0 = time.monotonic()
        outcomes = await asyncio.gather(
            *(run.env.invoke(request(f"m{i}", b'{"n": %d}' % i)) for i in range(4))
        )
        return list(outcomes), time.monotonic() - t0

    outcomes, elapsed = run_env(env_spec, body)
    assert [json.loads(o.body) for o in outcomes] == [{"n": i} for i in range(4)]
    assert elapsed < 1.5  # four 0.5 s handlers overlapped in one environment


def _lmi_spec(tmp_path: Path, python: str, module: str) -> EnvironmentSpec:
    base = real_spec(tmp_path, python, module, "nap", max_concurrency=4, timeout_s=5.0)
    env = {**base.env, "AWS_LAMBDA_MAX_CONCURRENCY": "4"}
    return dataclasses.replace(base, env=env)


def test_managed_instances_with_our_runtime_client(run_env, tmp_path: Path) -> None:
    _check_managed_instances(
        run_env, _lmi_spec(tmp_path, sys.executable, "lambdarig.runtime_client")
    )


@pytest.mark.peers
def test_managed_instances_with_awslambdaric(
    run_env, tmp_path: Path, awslambdaric_python: Path
) -> None:
    _check_managed_instances(run_env, _lmi_spec(tmp_path, str(awslambdaric_python), "awslambdaric"))


def test_stop_during_start_leaves_nothing_running(run_env) -> None:
    async def body(run: Run) -> None:
        starting = asyncio.ensure_future(run.env.start())
        await asyncio.sleep(0)  # start() is now binding / spawning
        await run.env.stop()
        with pytest.raises(EnvironmentStopped):
            await starting
        assert run.env._process is None or run.env._exited is None or run.env._exited.done()

    for _ in range(3):
        run_env(spec("echo"), body)


def test_managed_instances_timeout_spares_the_environment(run_env) -> None:
    async def body(run: Run) -> tuple[InvokeOutcome, InvokeOutcome, InvokeOutcome, list[str]]:
        await run.env.start()
        pid = run.env._process.pid if run.env._process else None
        slow, quick = await asyncio.gather(
            run.env.invoke(request("slow", b"1.6")), run.env.invoke(request("quick", b"0.1"))
        )
        # the slow handler posts late, ~0.6 s after its deadline
        await eventually(lambda: len(run.statuses()) == 2, "the late post's status")
        after = await run.env.invoke(request("after", b"0.1"))
        assert run.env._process is not None and run.env._process.pid == pid  # never re-inited
        return slow, quick, after, run.statuses()

    slow, quick, after, statuses = run_env(spec("lmi_nap", max_concurrency=2, timeout_s=1.0), body)
    assert slow.kind is OutcomeKind.TIMEOUT
    assert slow.error_message == "RequestId: slow Error: Task timed out after 1.00 seconds"
    assert quick.kind is OutcomeKind.SUCCESS and quick.body == b"0.1"
    assert after.kind is OutcomeKind.SUCCESS and after.init_duration_ms is None
    assert '410 {"errorMessage":"Invoke timeout","errorType":"InvokeTimeout"}' in statuses


def test_managed_instances_queued_invoke_that_timed_out_is_never_delivered(run_env) -> None:
    async def body(run: Run) -> tuple[list[InvokeOutcome], InvokeOutcome, list[str]]:
        await run.env.start()
        payloads = (b"1.3", b"1.3", b"0.1")  # two workers busy past the deadline; one queued
        outcomes = await asyncio.gather(
            *(run.env.invoke(request(f"q{i}", p)) for i, p in enumerate(payloads))
        )
        await eventually(lambda: len(run.statuses()) == 2, "both late posts answered")
        after = await run.env.invoke(request("after", b"0.1"))
        # the runtime prints its 202 after our outcome is back
        await eventually(lambda: len(run.statuses()) == 3, "the status of 'after'")
        # Had q2 stayed queued, a worker freed by a late post would have taken it before 'after'
        # was even sent: the runtime prints GOT for each event it receives.
        got = [line.split()[1] for _, line in run.lines if line.startswith("GOT ")]
        assert sorted(got) == ["after", "q0", "q1"]
        return list(outcomes), after, run.statuses()

    outcomes, after, statuses = run_env(spec("lmi_nap", max_concurrency=3, timeout_s=1.0), body)
    assert [o.kind for o in outcomes] == [OutcomeKind.TIMEOUT] * 3
    assert after.kind is OutcomeKind.SUCCESS and after.body == b"0.1"
    gone = '410 {"errorMessage":"Invoke timeout","errorType":"InvokeTimeout"}'
    # q2 was withdrawn from the queue: no worker ever ran it, so it never posted
    assert statuses == [gone, gone, '202 {"status":"OK"}']


# --- Same misbehaving runtime, same Runtime API answers as aws-lambda-rie ----------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _statuses_under_rie(rie: Path, scenario: str, expected_lines: int) -> list[str]:
    import http.client
    import subprocess

    port, api_port = _free_port(), _free_port()
    proc = subprocess.Popen(
        [
            str(rie),
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{port}",
            "--runtime-api-address",
            f"127.0.0.1:{api_port}",
            sys.executable,
            FAKE,
            scenario,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(250):  # readiness: the invoke port accepts connections
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                probe.connect()
                break
            except OSError:
                time.sleep(0.02)
            finally:
                probe.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/2015-03-31/functions/function/invocations", body=b'"p0"')
        conn.getresponse().read()
        conn.close()
        statuses: list[str] = []
        assert proc.stdout is not None
        while len(statuses) < expected_lines:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("STATUS "):
                statuses.append(line.rstrip("\n")[len("STATUS ") :])
        return statuses
    finally:
        proc.terminate()  # aws-lambda-rie stops its runtime on SIGTERM
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _statuses_under_us(scenario: str, expected_lines: int) -> list[str]:
    run_ = Run(spec(scenario))

    async def main() -> None:
        try:
            await run_.env.invoke(request("r0", b'"p0"'))
            await eventually(
                lambda: len(run_.statuses()) >= expected_lines, f"{expected_lines} status lines"
            )
        finally:
            await run_.env.stop(grace_s=0.2)

    asyncio.run(main())
    return run_.statuses()[:expected_lines]


@pytest.mark.peers
@pytest.mark.parametrize(
    ("scenario", "lines"),
    [("twice", 3), ("wrong_id", 2), ("init_error", 3), ("too_large", 1)],
)
def test_runtime_api_answers_match_aws_lambda_rie(
    rie_binary: Path, scenario: str, lines: int
) -> None:
    theirs = _statuses_under_rie(rie_binary, scenario, lines)
    assert len(theirs) == lines
    assert _statuses_under_us(scenario, lines) == theirs


def test_listener_address_survives_reinit_and_a_taken_port_fails_start(run_env) -> None:
    async def body(run: Run) -> tuple[str, str]:
        await run.env.start()
        before = run.env.runtime_api_address
        await run.env.invoke(request("c"))  # crashes: the next invoke re-inits
        await run.env.invoke(request("d"))
        return before, run.env.runtime_api_address

    before, after = run_env(spec("crash", "1"), body)
    assert before == after

    async def taken(run: Run) -> None:
        with pytest.raises(OSError):
            await run.env.start()
        assert run.env.runtime_api_address == ""
        with pytest.raises(OSError):
            await run.env.start()  # still taken; and nothing half-built was kept

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        run_env(spec("echo", runtime_api_address=f"127.0.0.1:{port}"), taken)
