"""Event builders and their rendering per API and schema version."""

from __future__ import annotations

import datetime

from lambdarig.rie_server.choices import LogFormat
from lambdarig.rie_server.environments.outcomes import OutcomeKind, failure
from lambdarig.rie_server.platform_logs import PlatformLogFormatter
from lambdarig.rie_server.telemetry import events
from lambdarig.rie_server.telemetry.subscription import Api

NOW = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
RID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
OK = failure(
    OutcomeKind.SUCCESS, None, None, body=b'{"ok":1}', duration_ms=12.3456, init_ms=150.2, memory=41
)


def test_report_carries_the_report_line_figures() -> None:
    event = events.report(NOW, RID, OK, 128, "Root=1-5be1-abc")
    assert event.time == "2024-05-06T07:08:09.123Z"
    assert event.record == {
        "requestId": RID,
        "status": "success",
        "metrics": {
            "durationMs": 12.35,
            "billedDurationMs": 163,
            "memorySizeMB": 128,
            "maxMemoryUsedMB": 41,
            "initDurationMs": 150.2,
        },
        "tracing": {"type": "X-Amzn-Trace-Id", "value": "Root=1-5be1-abc"},
    }
    # the same figures as the JSON REPORT line
    line = PlatformLogFormatter(LogFormat.JSON, 128, "$LATEST").report(RID, OK, NOW)
    assert '"billedDurationMs":163' in line and '"durationMs":12.35' in line


def test_runtime_done_has_metrics_and_spans() -> None:
    record = events.runtime_done(NOW, RID, OK, NOW).record
    assert record["status"] == "success"
    assert record["metrics"] == {"durationMs": 12.346, "producedBytes": 8}
    assert [span["name"] for span in record["spans"]] == ["responseLatency", "responseDuration"]
    assert record["spans"][0] == {
        "name": "responseLatency",
        "start": "2024-05-06T07:08:09.123Z",
        "durationMs": 12.346,
    }
    timeout = failure(OutcomeKind.TIMEOUT, "Sandbox.Timedout", "x", duration_ms=3000.0)
    assert events.runtime_done(NOW, RID, timeout, NOW).record == {
        "requestId": RID,
        "status": "timeout",
        "metrics": {"durationMs": 3000.0},
    }
    error = failure(OutcomeKind.FUNCTION_ERROR, "Runtime.Unknown", None, body=b"{}")
    assert events.runtime_done(NOW, RID, error, NOW).record["status"] == "failure"


def test_runtime_done_keeps_the_runtime_share_report_counts_the_extensions() -> None:
    import dataclasses

    # the runtime answered after 12.3456 ms; an extension worked 500 ms more
    settled = dataclasses.replace(OK, duration_ms=512.3456, runtime_duration_ms=12.3456)
    done = events.runtime_done(NOW, RID, settled, NOW).record
    assert done["metrics"]["durationMs"] == 12.346
    assert done["spans"][0]["durationMs"] == 12.346
    assert events.report(NOW, RID, settled, 128).record["metrics"]["durationMs"] == 512.35


def test_init_events() -> None:
    start = events.init_start(NOW, "on-demand", "init", "fn", "$LATEST", 128)
    assert start.type == "platform.initStart"
    assert start.record == {
        "initializationType": "on-demand",
        "phase": "init",
        "functionName": "fn",
        "functionVersion": "$LATEST",
        "instanceMaxMemory": 128,
    }
    done = events.init_runtime_done(NOW, "on-demand", "init", None, NOW, 87.654)
    assert done.record["status"] == "success"
    assert done.record["spans"] == [
        {"name": "runtimeInit", "start": "2024-05-06T07:08:09.123Z", "durationMs": 87.654}
    ]
    assert events.init_report(NOW, "on-demand", "init", None, 87.654).record == {
        "initializationType": "on-demand",
        "phase": "init",
        "status": "success",
        "metrics": {"durationMs": 87.65},
    }
    failed = failure(OutcomeKind.INIT_ERROR, "Runtime.ExitError", "x", init_ms=5.0)
    assert events.init_report(NOW, "on-demand", "invoke", failed, 5.0).record == {
        "initializationType": "on-demand",
        "phase": "invoke",
        "status": "error",
        "errorType": "Runtime.ExitError",
        "metrics": {"durationMs": 5.0},
    }


def test_json_log_records_are_objects_from_2022_12_13_only() -> None:
    line = '{"level":"INFO","message":"hi"}'
    event = events.log_record(NOW, "function", line, json_format=True)
    assert events.render(event, Api.TELEMETRY, "2022-12-13") == {
        "time": "2024-05-06T07:08:09.123Z",
        "type": "function",
        "record": {"level": "INFO", "message": "hi"},
    }
    assert events.render(event, Api.TELEMETRY, "2022-07-01")["record"] == line  # type: ignore[index]
    assert events.render(event, Api.LOGS, "2021-03-18")["record"] == line  # type: ignore[index]
    text = events.log_record(NOW, "function", line, json_format=False)
    assert events.render(text, Api.TELEMETRY, "2025-01-29")["record"] == line  # type: ignore[index]
    broken = events.log_record(NOW, "extension", "{not json", json_format=True)
    assert events.render(broken, Api.TELEMETRY, "2022-12-13")["record"] == "{not json"  # type: ignore[index]


def test_logs_api_shapes() -> None:
    start = events.start(NOW, RID, "$LATEST", "Root=1")
    assert events.render(start, Api.LOGS, "2020-08-15")["record"] == {"requestId": RID}  # type: ignore[index]
    report = events.render(events.report(NOW, RID, OK, 128), Api.LOGS, "2020-08-15")
    assert report is not None and set(report["record"]) == {"requestId", "metrics"}
    done = events.runtime_done(NOW, RID, OK, NOW)
    assert events.render(done, Api.LOGS, "2020-08-15") is None
    assert events.render(done, Api.LOGS, "2021-03-18")["record"] == {  # type: ignore[index]
        "requestId": RID,
        "status": "success",
    }
    init = events.init_start(NOW, "on-demand", "init", "fn", "$LATEST", 128)
    assert events.render(init, Api.LOGS, "2021-03-18") is None
    end = events.end(NOW, RID)
    assert events.render(end, Api.LOGS, "2020-08-15") is not None
    assert events.render(end, Api.TELEMETRY, "2022-12-13") is None
    sub = events.subscription(NOW, Api.LOGS, "ext", ["platform"])
    assert sub.type == "platform.logsSubscription"
    assert events.render(sub, Api.TELEMETRY, "2022-12-13") is None
    fault = events.render(events.fault(NOW, RID), Api.LOGS, "2020-08-15")
    assert fault is not None
    assert fault["record"] == f"RequestId: {RID} Process exited before completing request"


def test_extension_and_dropped_records() -> None:
    assert events.extension(NOW, "ext", "Ready", ["INVOKE"]).record == {
        "name": "ext",
        "state": "Ready",
        "events": ["INVOKE"],
    }
    assert events.logs_dropped(NOW, 3, 300, "why").record == {
        "droppedBytes": 300,
        "droppedRecords": 3,
        "reason": "why",
    }


def test_failed_restores_and_which_schemas_get_restore_events() -> None:
    failed = events.restore_report(NOW, 15.678, "Runtime.ExitError")
    assert failed.record == {
        "status": "error",
        "errorType": "Runtime.ExitError",
        "metrics": {"durationMs": 15.68},
    }
    timed_out = events.restore_runtime_done(NOW, 10000.0, "Sandbox.Timedout")
    assert timed_out.record == {"status": "timeout"}
    start = events.restore_start(NOW, "fn", "$LATEST", 512)
    for event in (failed, timed_out, start):
        assert events.render(event, Api.TELEMETRY, "2022-07-01") is None
        assert events.render(event, Api.LOGS, "2021-03-18") is None
        for schema in ("2022-12-13", "2025-01-29"):
            rendered = events.render(event, Api.TELEMETRY, schema)
            assert rendered is not None and rendered["record"] == event.record
