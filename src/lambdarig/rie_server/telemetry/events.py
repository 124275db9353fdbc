"""The events the Telemetry API and the Logs API deliver, sans-IO: builders for every
``platform.*`` event and the ``function`` / ``extension`` log records, and ``render`` to the shape
a subscriber's API and schema version gets.

Envelope ``{"time": "<ISO-8601 ms Z>", "type": "<type>", "record": <record>}``
(https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html). Builders make the
newest Telemetry API shape; ``render`` narrows it: a log line that is a JSON object is delivered as
an object only with the JSON log format and schema ``2022-12-13`` or later (a string otherwise);
the Logs API gets its own records (``platform.start {requestId}``, ``platform.end``,
``platform.report`` without status, ``platform.fault``, ``platform.runtimeDone`` from
``2021-03-18``, ``platform.logsSubscription``) and none of the init events. Figures (durations,
billed duration, memory, status) come from ``platform_logs``: one implementation for the log lines
and the events. Times are passed in.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, NamedTuple

from lambdarig.rie_server.environments.outcomes import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.platform_logs import (
    init_report_record,
    report_record,
    report_status,
    restore_report_record,
)
from lambdarig.rie_server.telemetry.subscription import Api

TRACE_TYPE = "X-Amzn-Trace-Id"
_OBJECT_RECORDS_FROM = "2022-12-13"  # first Telemetry schema with JSON-object log records
# SnapStart (November 2022) came after the 2022-07-01 schema: 2022-12-13 is the first with the
# restore phase's events.
_RESTORE_FROM = "2022-12-13"
_RESTORE_TYPES = {"platform.restoreStart", "platform.restoreRuntimeDone", "platform.restoreReport"}
_LOGS_ONLY = {"platform.end", "platform.fault", "platform.logsSubscription"}
_LOGS_TYPES = {
    "platform.start",
    "platform.end",
    "platform.report",
    "platform.fault",
    "platform.extension",
    "platform.logsSubscription",
    "platform.logsDropped",
    "platform.runtimeDone",
    "function",
    "extension",
}


class Event(NamedTuple):
    """One event in the newest Telemetry API shape; ``line`` is a log record's original text."""

    time: str
    type: str
    record: Any
    line: str | None = None

    @property
    def category(self) -> str:
        """``platform``, ``function`` or ``extension`` (what ``types`` filters on)."""
        return "platform" if self.type.startswith("platform.") else self.type


def timestamp(now: datetime.datetime) -> str:
    """``2022-10-12T00:00:15.064Z``: UTC, milliseconds."""
    moment = now.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


def render(event: Event, api: Api, schema: str) -> dict[str, Any] | None:
    """The envelope a subscriber of ``api``/``schema`` receives, or ``None`` (not in its API)."""
    record: Any = event.record
    if event.line is not None and not isinstance(record, str):
        if api is Api.LOGS or schema < _OBJECT_RECORDS_FROM:
            record = event.line
    if api is Api.TELEMETRY:
        if event.type in _LOGS_ONLY or (event.type in _RESTORE_TYPES and schema < _RESTORE_FROM):
            return None
        return {"time": event.time, "type": event.type, "record": record}
    if event.type not in _LOGS_TYPES:
        return None
    if event.type == "platform.runtimeDone":
        if schema < "2021-03-18":
            return None
        record = {"requestId": record["requestId"], "status": record["status"]}
    elif event.type == "platform.start":
        record = {"requestId": record["requestId"]}
    elif event.type == "platform.report":
        record = {"requestId": record["requestId"], "metrics": record["metrics"]}
    return {"time": event.time, "type": event.type, "record": record}


def _tracing(trace_id: str | None) -> dict[str, Any] | None:
    return {"type": TRACE_TYPE, "value": trace_id} if trace_id else None


# --- Init phase --------------------------------------------------------------------------------


def init_start(
    now: datetime.datetime,
    initialization_type: str,
    phase: str,
    function_name: str,
    function_version: str,
    memory_mb: int,
) -> Event:
    record = {
        "initializationType": initialization_type,
        "phase": phase,
        "functionName": function_name,
        "functionVersion": function_version,
        "instanceMaxMemory": memory_mb,
    }
    return Event(timestamp(now), "platform.initStart", record)


def init_runtime_done(
    now: datetime.datetime,
    initialization_type: str,
    phase: str,
    outcome: InvokeOutcome | None,
    started: datetime.datetime,
    duration_ms: float,
) -> Event:
    """``platform.initRuntimeDone``; ``outcome`` is ``None`` for an init that succeeded."""
    record: dict[str, Any] = {"initializationType": initialization_type, "phase": phase}
    record["status"] = _init_status(outcome)
    if outcome is not None and outcome.error_type:
        record["errorType"] = outcome.error_type
    span = {"name": "runtimeInit", "start": timestamp(started), "durationMs": round(duration_ms, 3)}
    record["spans"] = [span]
    return Event(timestamp(now), "platform.initRuntimeDone", record)


def init_report(
    now: datetime.datetime,
    initialization_type: str,
    phase: str,
    outcome: InvokeOutcome | None,
    duration_ms: float,
) -> Event:
    """``platform.initReport``: the failure's record is the ``INIT_REPORT`` log line's."""
    if outcome is not None:
        record = init_report_record(outcome, phase, initialization_type)
    else:
        record = {"initializationType": initialization_type, "phase": phase, "status": "success"}
        record["metrics"] = {"durationMs": round(duration_ms, 2)}
    return Event(timestamp(now), "platform.initReport", record)


def _init_status(outcome: InvokeOutcome | None) -> str:
    if outcome is None:
        return "success"
    return (
        "timeout"
        if outcome.kind is OutcomeKind.TIMEOUT or outcome.error_type == "Sandbox.Timedout"
        else "error"
    )


# --- Restore phase (SnapStart) ------------------------------------------------------------------


def restore_start(
    now: datetime.datetime, function_name: str, function_version: str, memory_mb: int
) -> Event:
    """``platform.restoreStart`` (no ``runtimeVersion``: not a managed runtime)."""
    record = {
        "functionName": function_name,
        "functionVersion": function_version,
        "instanceMaxMemory": memory_mb,
    }
    return Event(timestamp(now), "platform.restoreStart", record)


def restore_runtime_done(
    now: datetime.datetime, duration_ms: float, error_type: str | None
) -> Event:
    """``platform.restoreRuntimeDone``: the runtime's after-restore hooks are over (it polled
    ``/next``), failed (``/restore/error``, exit) or timed out. Its optional ``spans`` are left
    out, as aws-lambda-rie leaves them out."""
    summary = restore_report_record(duration_ms, error_type)
    record: dict[str, Any] = {"status": summary["status"]}
    if "errorType" in summary:
        record["errorType"] = summary["errorType"]
    return Event(timestamp(now), "platform.restoreRuntimeDone", record)


def restore_report(now: datetime.datetime, duration_ms: float, error_type: str | None) -> Event:
    """``platform.restoreReport``: the ``RESTORE_REPORT`` line's record."""
    return Event(
        timestamp(now), "platform.restoreReport", restore_report_record(duration_ms, error_type)
    )


# --- Invoke phase ------------------------------------------------------------------------------


def start(
    now: datetime.datetime,
    request_id: str,
    version: str,
    trace_id: str | None = None,
    tenant_id: str | None = None,
) -> Event:
    record: dict[str, Any] = {"requestId": request_id, "version": version}
    tracing = _tracing(trace_id)
    if tracing:
        record["tracing"] = tracing
    if tenant_id:
        record["tenantId"] = tenant_id
    return Event(timestamp(now), "platform.start", record)


def runtime_done(
    now: datetime.datetime,
    request_id: str,
    outcome: InvokeOutcome,
    started: datetime.datetime,
    trace_id: str | None = None,
) -> Event:
    """``platform.runtimeDone``: the runtime's status, the invoke's duration, the response's size,
    and the ``responseLatency`` / ``responseDuration`` spans (the body is taken in one piece, so
    its transfer time is inside the latency and ``responseDuration`` is 0)."""
    status, error_type = report_status(outcome)
    if outcome.kind is OutcomeKind.FUNCTION_ERROR:
        status = "failure"  # the runtime reported an error (the report still says success)
    record: dict[str, Any] = {"requestId": request_id, "status": status}
    if error_type is not None or outcome.kind is OutcomeKind.FUNCTION_ERROR:
        record["errorType"] = error_type or outcome.error_type or "Runtime.Unknown"
    # the runtime's share only: extensions' time after the response counts into the report's
    runtime_ms = outcome.duration_ms
    if outcome.runtime_duration_ms is not None:
        runtime_ms = outcome.runtime_duration_ms
    metrics: dict[str, Any] = {"durationMs": round(runtime_ms, 3)}
    if outcome.kind in (OutcomeKind.SUCCESS, OutcomeKind.FUNCTION_ERROR):
        metrics["producedBytes"] = len(outcome.body)
        responded = started + datetime.timedelta(milliseconds=runtime_ms)
        record["spans"] = [
            {
                "name": "responseLatency",
                "start": timestamp(started),
                "durationMs": round(runtime_ms, 3),
            },
            {"name": "responseDuration", "start": timestamp(responded), "durationMs": 0.0},
        ]
    record["metrics"] = metrics
    tracing = _tracing(trace_id)
    if tracing:
        record["tracing"] = tracing
    return Event(timestamp(now), "platform.runtimeDone", record)


def end(now: datetime.datetime, request_id: str) -> Event:
    """``platform.end`` (Logs API only)."""
    return Event(timestamp(now), "platform.end", {"requestId": request_id})


def fault(now: datetime.datetime, request_id: str) -> Event:
    """``platform.fault`` (Logs API only): the runtime went away mid-invoke."""
    message = f"RequestId: {request_id} Process exited before completing request"
    return Event(timestamp(now), "platform.fault", message)


def report(
    now: datetime.datetime,
    request_id: str,
    outcome: InvokeOutcome,
    memory_mb: int,
    trace_id: str | None = None,
) -> Event:
    """``platform.report``: the ``REPORT`` line's figures."""
    record = report_record(request_id, outcome, memory_mb)
    tracing = _tracing(trace_id)
    if tracing:
        record["tracing"] = tracing
    return Event(timestamp(now), "platform.report", record)


# --- Extensions, subscriptions, drops ------------------------------------------------------------


def extension(now: datetime.datetime, name: str, state: str, events: list[str]) -> Event:
    """``platform.extension``: an extension registered (``state``: ``Ready``)."""
    return Event(
        timestamp(now), "platform.extension", {"name": name, "state": state, "events": events}
    )


def subscription(now: datetime.datetime, api: Api, name: str, types: list[str]) -> Event:
    """``platform.telemetrySubscription`` / ``platform.logsSubscription`` (``Subscribed``)."""
    kind = "platform.telemetrySubscription" if api is Api.TELEMETRY else "platform.logsSubscription"
    return Event(timestamp(now), kind, {"name": name, "state": "Subscribed", "types": types})


def logs_dropped(now: datetime.datetime, records: int, size: int, reason: str) -> Event:
    """``platform.logsDropped``: what a subscriber lost while its buffer was full."""
    record = {"droppedBytes": size, "droppedRecords": records, "reason": reason}
    return Event(timestamp(now), "platform.logsDropped", record)


def log_record(now: datetime.datetime, category: str, line: str, json_format: bool) -> Event:
    """A ``function`` / ``extension`` record: the line, parsed when the log format is JSON and
    the line is a JSON object (``render`` gives older schemas the string)."""
    if json_format and line.startswith("{"):
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return Event(timestamp(now), category, parsed, line)
    return Event(timestamp(now), category, line, line)
