"""The conformance kit passes real runtimes and catches a broken one."""

from __future__ import annotations

import os
import sys

import pytest

from lambdarig.conformance import (
    CASES,
    STREAMING_CASES,
    CaseResult,
    KitReport,
    run_kit,
    select_cases,
)
from lambdarig.conformance.kit import init_failure_output
from lambdarig.testing import HarnessConfigError, HarnessSettings
from tests.conformance_kit.conftest import (
    AWS_RIE_DEVIATIONS,
    BROKEN_CASES,
    BROKEN_RUNTIME,
    BUFFERING_STREAMER,
    OUR_CLIENT,
)

HOST_ENV = HarnessSettings(base_env=dict(os.environ))


def _failed(report: KitReport) -> set[str]:
    return set(report.failed)


@pytest.mark.slow
def test_passes_against_our_client(our_emulator: HarnessSettings) -> None:
    report = run_kit(OUR_CLIENT, settings=our_emulator)
    assert report.passed, report.table()


@pytest.mark.slow
@pytest.mark.peers
def test_passes_against_awslambdaric(
    our_emulator: HarnessSettings, awslambdaric_runtime: list[str]
) -> None:
    report = run_kit(awslambdaric_runtime, settings=our_emulator)
    assert report.passed, report.table()


@pytest.mark.slow
def test_reports_the_broken_runtime(our_emulator: HarnessSettings) -> None:
    report = run_kit(BROKEN_RUNTIME, settings=our_emulator)
    assert _failed(report) == BROKEN_CASES, report.table()


@pytest.mark.slow
@pytest.mark.peers
@pytest.mark.parametrize("runtime", ["ours", "awslambdaric"])
def test_behind_aws_rie_only_its_deviations_fail(
    aws_emulator: HarnessSettings, request: pytest.FixtureRequest, runtime: str
) -> None:
    command = OUR_CLIENT if runtime == "ours" else request.getfixturevalue("awslambdaric_runtime")
    report = run_kit(command, settings=aws_emulator)
    assert _failed(report) == AWS_RIE_DEVIATIONS, report.table()


@pytest.mark.peers
def test_broken_runtime_behind_aws_rie_fails_its_bugs_too(aws_emulator: HarnessSettings) -> None:
    only = sorted(BROKEN_CASES - AWS_RIE_DEVIATIONS)
    report = run_kit(BROKEN_RUNTIME, only, settings=aws_emulator)
    assert _failed(report) == set(only), report.table()
    diffs = {r.name: r.differences for r in report.results}
    assert diffs["function-arn"] == (
        "invoked function ARN (header Lambda-Runtime-Invoked-Function-Arn): expected "
        "'arn:aws:lambda:us-east-1:012345678912:function:conformance', got "
        "'arn:aws:lambda:us-east-1:000000000000:function:wrong'",
    )
    assert diffs["large-response"] == (
        "5 MiB response: expected a JSON string of 5242880 characters, got a body of "
        "1048576 bytes that is not one",
    )


STREAMING_NAMES = [case.name for case in STREAMING_CASES]


def test_streaming_cases_pass_against_our_client() -> None:
    report = run_kit(OUR_CLIENT, streaming=True, only=STREAMING_NAMES, settings=HOST_ENV)
    assert report.passed, report.table()


def test_streaming_cases_fail_against_a_runtime_that_cannot_stream() -> None:
    report = run_kit(BROKEN_RUNTIME, STREAMING_NAMES, settings=HOST_ENV)
    assert report.failed == STREAMING_NAMES, report.table()
    diffs = {r.name: r.differences for r in report.results}
    assert diffs["stream-error-first"] == (
        "expected POST /error before the first byte, got POST /response",
    )
    assert diffs["stream-chunks"][0] == (
        "expected a chunked POST /response with Lambda-Runtime-Function-Response-Mode: "
        "streaming, got a buffered POST /response (b'null')"
    )


def test_streaming_cases_see_a_runtime_that_buffers_its_chunks() -> None:
    # Chunked and well-framed, but every chunk is held until the handler finished.
    report = run_kit(BUFFERING_STREAMER, ["stream-chunks"], settings=HOST_ENV)
    (result,) = report.results
    assert len(result.differences) == 1, report.table()
    assert result.differences[0].startswith(
        "expected the first chunk to arrive as produced, at least 300 ms before the stream ended"
    )


def test_streaming_cases_are_opt_in() -> None:
    assert select_cases() == list(CASES)
    assert select_cases(streaming=True) == list(CASES + STREAMING_CASES)
    assert [c.name for c in select_cases(["stream-http", "echo"])] == ["echo", "stream-http"]


def test_select_cases() -> None:
    assert [c.name for c in select_cases(["logs", "echo"])] == ["echo", "logs"]
    assert len(select_cases()) == len(CASES) == len({c.name for c in CASES})
    with pytest.raises(HarnessConfigError, match="got unknown nope"):
        select_cases(["echo", "nope"])


def test_table_shows_each_difference() -> None:
    report = KitReport(
        (
            CaseResult("echo", "events round-trip", (), 0.1),
            CaseResult(
                "trace-id", "trace header", ("_X_AMZN_TRACE_ID: expected 'a', got None",), 0.2
            ),
        )
    )
    assert report.table().splitlines() == [
        "result  behaviour  checks",
        "PASS    echo       events round-trip",
        "FAIL    trace-id   trace header",
        "                   - _X_AMZN_TRACE_ID: expected 'a', got None",
        "2 behaviours: 1 passed, 1 failed",
    ]
    assert not report.passed and report.failed == ["trace-id"]


def test_a_runtime_crashing_at_import_shows_its_output_once_at_the_top(
    our_emulator: HarnessSettings,
) -> None:
    # Flushed: unflushed, 'starting' would leave the runtime at exit, after the traceback, and
    # come first only when the emulator found both pipes full at once (a race it could lose).
    code = "import sys; print('starting', flush=True); import no_such_module_x"
    crashing = [sys.executable, "-c", code]
    report = run_kit(crashing, ["echo", "logs"], settings=our_emulator)
    assert report.failed == ["echo", "logs"]
    assert report.runtime_output[0] == "starting"
    assert report.runtime_output[-1] == "ModuleNotFoundError: No module named 'no_such_module_x'"
    lines = report.table().splitlines()
    assert lines[0] == "the runtime failed to initialise; its last output lines were:"
    assert lines[1:2] == ["    starting"]
    assert sum("No module named 'no_such_module_x'" in line for line in lines) == 1


def test_init_failure_output_reads_text_and_json_platform_lines() -> None:
    text = ["START RequestId: 1 Version: $LATEST", "boom", "INIT_REPORT Init Duration: 1.00 ms"
            "\tPhase: init\tStatus: error\tError Type: Runtime.ExitError", "later"]  # fmt: skip
    assert init_failure_output(text) == ["boom"]
    json_lines = [
        '{"time":"2026-01-01T00:00:00.000Z","type":"platform.start","record":{}}',
        '{"timestamp":"x","message":"a runtime JSON log line"}',
        '{"time":"2026-01-01T00:00:00.000Z","type":"platform.initReport",'
        '"record":{"phase":"init","status":"error"}}',
    ]
    assert init_failure_output(json_lines) == [json_lines[1]]
    assert init_failure_output(["fine", "REPORT RequestId: 1\tDuration: 1.00 ms"]) == []
    assert init_failure_output([str(n) for n in range(30)] + [text[2]], keep=3) == [
        "27",
        "28",
        "29",
    ]
