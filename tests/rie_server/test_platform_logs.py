from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

from lambdarig.rie_server.environments.environment import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.platform_logs import (
    InvocationLog,
    LogFormat,
    LogWriter,
    PlatformLogFormatter,
    billed_ms,
)

NOW = datetime.datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=datetime.timezone.utc)
TEXT = PlatformLogFormatter(LogFormat.TEXT, 128, "$LATEST")
JSON = PlatformLogFormatter(LogFormat.JSON, 128, "$LATEST")


def outcome(kind: OutcomeKind = OutcomeKind.SUCCESS, **fields: object) -> InvokeOutcome:
    values: dict[str, object] = {
        "body": b"",
        "content_type": None,
        "error_type": None,
        "error_message": None,
        "duration_ms": 12.341,
        "init_duration_ms": None,
        "max_memory_used_mb": 41,
    }
    values.update(fields)
    return InvokeOutcome(kind, **values)  # type: ignore[arg-type]


def test_start_and_end_lines() -> None:
    assert TEXT.start("abc", NOW) == "START RequestId: abc Version: $LATEST"
    assert TEXT.end("abc") == ["END RequestId: abc"]


def test_report_line_is_tab_separated_with_real_figures() -> None:
    line = TEXT.report("abc", outcome(), NOW)
    assert line == (
        "REPORT RequestId: abc\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 41 MB\t"
    )


def test_report_line_cold_start_has_init_duration_and_bills_it() -> None:
    line = TEXT.report("abc", outcome(init_duration_ms=95.678), NOW)
    assert line.endswith("Max Memory Used: 41 MB\tInit Duration: 95.68 ms\t")
    # 12.34 ms + 95.678 ms of init, rounded up (init is billed since August 2025).
    assert "\tBilled Duration: 109 ms\t" in line


def test_report_line_timeout_status() -> None:
    line = TEXT.report("abc", outcome(OutcomeKind.TIMEOUT, error_type="Sandbox.Timedout"), NOW)
    assert line.endswith("Max Memory Used: 41 MB\tStatus: timeout\t")


def test_report_line_out_of_memory() -> None:
    oom = outcome(OutcomeKind.CRASH, error_type="Runtime.ExitError", out_of_memory=True)
    line = TEXT.report("abc", oom, NOW)
    assert line.endswith("\tStatus: error\tError Type: Runtime.OutOfMemory\t")


def test_report_line_crash() -> None:
    crash = outcome(OutcomeKind.CRASH, error_type="Runtime.ExitError")
    assert TEXT.report("abc", crash, NOW).endswith(
        "\tStatus: error\tError Type: Runtime.ExitError\t"
    )


def test_function_error_is_not_a_platform_error() -> None:
    error = outcome(OutcomeKind.FUNCTION_ERROR, error_type="Runtime.Unknown")
    assert "Status" not in TEXT.report("abc", error, NOW)


def test_crash_lines_precede_end() -> None:
    message = "RequestId: abc Error: Runtime exited with error: exit status 1"
    crash = outcome(OutcomeKind.CRASH, error_type="Runtime.ExitError", error_message=message)
    assert TEXT.failure("abc", crash) == [message, "Runtime.ExitError"]


def test_init_report_line() -> None:
    failed = outcome(
        OutcomeKind.INIT_ERROR, error_type="Runtime.ImportModuleError", init_duration_ms=50.0
    )
    assert TEXT.init_report(failed, "init", NOW) == (
        "INIT_REPORT Init Duration: 50.00 ms\tPhase: init\tStatus: error\t"
        "Error Type: Runtime.ImportModuleError"
    )


def test_billed_duration_rounds_up() -> None:
    assert [billed_ms(0.0), billed_ms(1.0), billed_ms(1.01), billed_ms(99.9)] == [1, 1, 2, 100]


def test_json_format_platform_events() -> None:
    start = json.loads(JSON.start("abc", NOW, tenant_id="t1"))
    assert start == {
        "time": "2026-11-27T12:00:00.123Z",
        "type": "platform.start",
        "record": {"requestId": "abc", "version": "$LATEST", "tenantId": "t1"},
    }
    assert JSON.end("abc") == []
    report = json.loads(JSON.report("abc", outcome(init_duration_ms=5.0), NOW))
    assert report["type"] == "platform.report"
    assert report["record"] == {
        "requestId": "abc",
        "status": "success",
        "metrics": {
            "durationMs": 12.34,
            "billedDurationMs": 18,  # 12.341 + 5.0 ms of init, rounded up
            "memorySizeMB": 128,
            "maxMemoryUsedMB": 41,
            "initDurationMs": 5.0,
        },
    }
    timed_out = json.loads(JSON.report("abc", outcome(OutcomeKind.TIMEOUT), NOW))
    assert timed_out["record"]["status"] == "timeout"


def test_invocation_log_keeps_the_last_4_kb() -> None:
    log = InvocationLog(4096)
    for number in range(1000):
        log.add(f"line {number:04d}")
    tail = log.tail()
    assert len(tail) == 4096
    assert tail.endswith(b"line 0999\n")
    short = InvocationLog(4096)
    short.add("START")
    short.add("END")
    assert short.tail() == b"START\nEND\n"


def test_log_writer_plain_when_not_a_terminal() -> None:
    stream = io.StringIO()
    LogWriter(stream).write(["a", "b"], "env-1")
    assert stream.getvalue() == "a\nb\n"


def test_log_writer_prefixes_and_colours_per_environment_on_a_terminal() -> None:
    stream = io.StringIO()
    writer = LogWriter(stream, decorate=True)
    writer.write(["one"], "env-1")
    writer.write(["two"], "env-2")
    first, second = stream.getvalue().splitlines()
    assert "env-1 |" in first and first.endswith("one") and first.startswith("\x1b[")
    assert "env-2 |" in second and first[:5] != second[:5]


def test_unflushed_lines_keep_their_order_and_leave_with_the_next_flush(tmp_path: Path) -> None:
    path = tmp_path / "out.log"
    with open(path, "w") as stream:
        writer = LogWriter(stream, decorate=False)
        writer.write(["START"], "env-1", flush=False)
        assert path.read_text() == ""  # still in the buffer: no system call yet
        writer.write(["output"], "env-1")
        assert path.read_text() == "START\noutput\n"
        writer.write(["END"], "env-1", flush=False)
        writer.flush()
        assert path.read_text() == "START\noutput\nEND\n"


def test_a_runtimes_error_type_cannot_add_a_line_or_a_field() -> None:
    forged = "Runtime.X\tStatus: success\nlambdarig-rie: WARNING: forged"
    shown = "Runtime.X\\tStatus: success\\nlambdarig-rie: WARNING: forged"
    init = outcome(OutcomeKind.INIT_ERROR, error_type=forged, init_duration_ms=5.0)
    assert TEXT.report("r", init, NOW).endswith(f"\tStatus: error\tError Type: {shown}\t")
    assert TEXT.init_report(init, "init", NOW).endswith(f"\tError Type: {shown}")
    crash = outcome(OutcomeKind.CRASH, error_type=forged, error_message="boom\x1b[2J")
    assert TEXT.failure("r", crash) == ["boom\\x1b[2J", shown]
    record = json.loads(JSON.report("r", init, NOW))["record"]
    assert record["errorType"] == forged  # JSON escapes it itself


class _CountingStream(io.StringIO):
    """A stream with no buffer of its own (as stdout under PYTHONUNBUFFERED): counts writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_held_lines_leave_in_the_same_write_as_the_next_flushing_one() -> None:
    stream = _CountingStream()
    writer = LogWriter(stream, decorate=False)
    writer.write(["START"], "env-1", flush=False)
    assert (stream.getvalue(), stream.writes) == ("", 0)
    writer.write(["END", "REPORT"], "env-1")
    assert (stream.getvalue(), stream.writes) == ("START\nEND\nREPORT\n", 1)
    writer.flush()  # nothing held: no write
    assert stream.writes == 1


def test_log_writer_forgets_stopped_environments_and_never_reuses_a_live_colour() -> None:
    # One colour per environment id ever seen was kept: a day of --watch reloads (new ids each
    # time) grew the map without bound.
    stream = io.StringIO()
    writer = LogWriter(stream, decorate=True)
    for n in range(1, 101):
        writer.write(["x"], f"env-{n}")
        if n < 100:
            writer.forget(f"env-{n}")
    assert writer._colours.keys() == {"env-100"}  # the live one only
    writer.write(["y"], "env-101")
    last, new = stream.getvalue().splitlines()[-2:]
    assert last.split("m")[0] != new.split("m")[0]  # the next colour, not the live one's


def test_only_json_lines_read_the_clock() -> None:
    # A text-format function never reads the clock (nor loads datetime for it).
    from lambdarig.rie_server.function_logs import FunctionLogs

    reads: list[datetime.datetime] = []

    def clock() -> datetime.datetime:
        reads.append(NOW)
        return NOW

    crash = outcome(OutcomeKind.INIT_ERROR, error_type="Runtime.ExitError")
    for formatter, expected_reads in ((TEXT, 0), (JSON, 2)):
        out = io.StringIO()
        logs = FunctionLogs(formatter, LogWriter(out), clock)
        logs.restore_started("env-1")
        logs.init_failed("env-1", crash)
        assert len(reads) == expected_reads
        reads.clear()
        assert out.getvalue().count("\n") == 2
