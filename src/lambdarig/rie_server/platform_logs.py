"""Platform log lines (START / END / REPORT / INIT_REPORT) in the service's format, the
per-invocation capture behind ``X-Amz-Log-Type: Tail``, and the writer for all environments' output.

Text format (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html; fields
TAB-separated, a single space before ``Version:``)::

    START RequestId: <id> Version: $LATEST
    END RequestId: <id>
    REPORT RequestId: <id>\\tDuration: 1.23 ms\\tBilled Duration: 2 ms\\tMemory Size: 128 MB\\t
        Max Memory Used: 30 MB\\t[Init Duration: 12.34 ms\\t]
        [Restore Duration: 12.34 ms\\tBilled Restore Duration: 13 ms\\t]
        [Status: timeout\\t | Status: error\\tError Type: <type>\\t]

With ``AWS_LAMBDA_LOG_FORMAT=JSON`` the platform lines are Telemetry-API-shaped JSON objects
(``platform.start`` / ``platform.report`` / ``platform.initReport``,
telemetry-schema-reference.html). Formatting is pure: callers pass the wall-clock time in (only JSON
lines carry it: ``timed``; a text line takes ``None``, so a text-format function's platform lines
never read the clock nor load ``datetime``). An error
type (a runtime's ``Lambda-Runtime-Function-Error-Type``) is printed through ``untrusted.printable``
in text lines (JSON escapes it itself), so it cannot add a line or a field.
"""

from __future__ import annotations

import json
import math
import sys
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from lambdarig.rie_server.choices import LogFormat as LogFormat  # re-exported
from lambdarig.rie_server.environments.outcomes import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.untrusted import printable
from lambdarig.runtime_api import INIT_ON_DEMAND, RUNTIME_EXIT_ERROR, RUNTIME_OUT_OF_MEMORY

if TYPE_CHECKING:
    import datetime

# Enum members read on every invoke, bound once: a member read off its class goes through the
# metaclass's attribute hook (``EnumType.__getattr__``), about five times a module global.
_TEXT, _JSON = LogFormat.TEXT, LogFormat.JSON
_SUCCESS, _FUNCTION_ERROR = OutcomeKind.SUCCESS, OutcomeKind.FUNCTION_ERROR
_CRASH, _TIMEOUT = OutcomeKind.CRASH, OutcomeKind.TIMEOUT
_COLOURS = ("36", "33", "35", "32", "34", "91", "96", "93", "95", "92")


class PlatformLogFormatter:
    """Renders platform lines for one function; every method returns complete lines (no newline)."""

    __slots__ = ("log_format", "memory_size_mb", "version")

    def __init__(self, log_format: LogFormat, memory_size_mb: int, version: str) -> None:
        self.log_format = log_format
        self.memory_size_mb = memory_size_mb
        self.version = version

    @property
    def timed(self) -> bool:
        """Whether the lines carry the time (JSON): the others take ``now=None``."""
        return self.log_format is _JSON

    def start(
        self, request_id: str, now: datetime.datetime | None, tenant_id: str | None = None
    ) -> str:
        if self.log_format is _TEXT:
            return f"START RequestId: {request_id} Version: {self.version}"
        record: dict[str, Any] = {"requestId": request_id, "version": self.version}
        if tenant_id:
            record["tenantId"] = tenant_id
        return _event(now, "platform.start", record)

    def end(self, request_id: str) -> list[str]:
        """``END`` exists only in the text format."""
        return [f"END RequestId: {request_id}"] if self.log_format is _TEXT else []

    def failure(self, request_id: str, outcome: InvokeOutcome) -> list[str]:
        """The lines the service logs for a crash or a timeout before END (text format only)."""
        if self.log_format is _JSON:
            return []
        if outcome.kind is _CRASH and outcome.error_message:
            error_type = outcome.error_type or RUNTIME_EXIT_ERROR
            return [printable(outcome.error_message), printable(error_type)]
        if outcome.kind is _TIMEOUT and outcome.error_message:
            return [printable(outcome.error_message)]
        return []

    def report(self, request_id: str, outcome: InvokeOutcome, now: datetime.datetime | None) -> str:
        status, error_type = report_status(outcome)
        if self.log_format is _JSON:
            record = report_record(request_id, outcome, self.memory_size_mb)
            return _event(now, "platform.report", record)
        fields = [
            f"REPORT RequestId: {request_id}",
            f"Duration: {outcome.duration_ms:.2f} ms",
            f"Billed Duration: {billed_for(outcome)} ms",
            f"Memory Size: {self.memory_size_mb} MB",
            f"Max Memory Used: {outcome.max_memory_used_mb} MB",
        ]
        if outcome.init_duration_ms is not None:
            fields.append(f"Init Duration: {outcome.init_duration_ms:.2f} ms")
        if outcome.restore_duration_ms is not None:
            fields.append(f"Restore Duration: {outcome.restore_duration_ms:.2f} ms")
            fields.append(f"Billed Restore Duration: {billed_ms(outcome.restore_duration_ms)} ms")
        if status != "success":
            fields.append(f"Status: {status}")
        if error_type is not None:
            fields.append(f"Error Type: {printable(error_type)}")
        return "\t".join(fields) + "\t"

    def restore_start(self, function_name: str, now: datetime.datetime | None) -> str:
        """``RESTORE_START`` (snapstart-monitoring.html; no runtime version: not a managed
        runtime)."""
        if self.log_format is LogFormat.TEXT:
            return "RESTORE_START"
        record = {"functionName": function_name, "functionVersion": self.version}
        return _event(now, "platform.restoreStart", record)

    def restore_report(
        self, duration_ms: float, error_type: str | None, now: datetime.datetime | None
    ) -> str:
        """``RESTORE_REPORT Restore Duration: 12.34 ms`` (+ status and error type on failure)."""
        record = restore_report_record(duration_ms, error_type)
        if self.log_format is LogFormat.JSON:
            return _event(now, "platform.restoreReport", record)
        fields = [f"RESTORE_REPORT Restore Duration: {duration_ms:.2f} ms"]
        if record["status"] != "success":
            fields.append(f"Status: {record['status']}")
        if "errorType" in record:
            fields.append(f"Error Type: {printable(record['errorType'])}")
        return "\t".join(fields)

    def init_report(self, outcome: InvokeOutcome, phase: str, now: datetime.datetime | None) -> str:
        """``INIT_REPORT`` for an init that failed (``phase`` is ``init`` or ``invoke``)."""
        duration = outcome.init_duration_ms or outcome.duration_ms
        status = "timeout" if outcome.error_type == "Sandbox.Timedout" else "error"
        if self.log_format is LogFormat.JSON:
            return _event(now, "platform.initReport", init_report_record(outcome, phase))
        fields = [f"INIT_REPORT Init Duration: {duration:.2f} ms", f"Phase: {phase}"]
        fields.append(f"Status: {status}")
        if status == "error" and outcome.error_type:
            fields.append(f"Error Type: {printable(outcome.error_type)}")
        return "\t".join(fields)


def report_status(outcome: InvokeOutcome) -> tuple[str, str | None]:
    """(status, error type) for REPORT: ``success``; ``timeout``; ``error`` + the platform's type.

    A function error the runtime reported itself is a ``success`` for the platform (the service
    prints no status for it); crashes, init failures and oversized responses are ``error``s.
    """
    kind = outcome.kind
    if kind is _SUCCESS or kind is _FUNCTION_ERROR:
        return "success", None
    if kind is OutcomeKind.TIMEOUT:
        return "timeout", None
    if outcome.out_of_memory:
        return "error", RUNTIME_OUT_OF_MEMORY
    return "error", outcome.error_type


def report_record(request_id: str, outcome: InvokeOutcome, memory_size_mb: int) -> dict[str, Any]:
    """The ``platform.report`` record (JSON log lines and the Telemetry API share it)."""
    status, error_type = report_status(outcome)
    metrics: dict[str, Any] = {
        "durationMs": round(outcome.duration_ms, 2),
        "billedDurationMs": billed_for(outcome),
        "memorySizeMB": memory_size_mb,
        "maxMemoryUsedMB": outcome.max_memory_used_mb,
    }
    if outcome.init_duration_ms is not None:
        metrics["initDurationMs"] = round(outcome.init_duration_ms, 2)
    if outcome.restore_duration_ms is not None:
        metrics["restoreDurationMs"] = round(outcome.restore_duration_ms, 2)
    record: dict[str, Any] = {"requestId": request_id, "status": status}
    if error_type is not None:
        record["errorType"] = error_type
    record["metrics"] = metrics
    return record


def init_report_record(
    outcome: InvokeOutcome, phase: str, initialization_type: str = INIT_ON_DEMAND
) -> dict[str, Any]:
    """The ``platform.initReport`` record of a failed init (``phase``: ``init`` or ``invoke``)."""
    duration = outcome.init_duration_ms or outcome.duration_ms
    status = "timeout" if outcome.error_type == "Sandbox.Timedout" else "error"
    record: dict[str, Any] = {"initializationType": initialization_type, "phase": phase}
    record.update(status=status, errorType=outcome.error_type)
    record["metrics"] = {"durationMs": round(duration, 2)}
    return record


def restore_report_record(duration_ms: float, error_type: str | None) -> dict[str, Any]:
    """The ``platform.restoreReport`` record (``RESTORE_REPORT`` line, Telemetry API event):
    ``success``, ``timeout`` (no error type), or ``error`` with the error type."""
    status = "success" if error_type is None else "error"
    if error_type == "Sandbox.Timedout":
        status, error_type = "timeout", None
    record: dict[str, Any] = {"status": status}
    if error_type is not None:
        record["errorType"] = error_type
    record["metrics"] = {"durationMs": round(duration_ms, 2)}
    return record


def billed_for(outcome: InvokeOutcome) -> int:
    """What the service bills an invoke: since August 2025 an on-demand invoke that ran an init
    (cold or suppressed) is billed for the init phase too, as custom runtimes always were."""
    return billed_ms(outcome.duration_ms + (outcome.init_duration_ms or 0.0))


def billed_ms(duration_ms: float) -> int:
    """Billed duration: the duration rounded up to a whole millisecond (at least 1)."""
    return max(1, math.ceil(duration_ms))


def _event(now: datetime.datetime | None, kind: str, record: dict[str, Any]) -> str:
    import datetime  # JSON lines only: a text-format function does not load it

    if now is None:
        raise ValueError(f"expected the time of a JSON {kind} line, got None")
    moment = now.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds")
    payload = {"time": moment.replace("+00:00", "Z"), "type": kind, "record": record}
    return json.dumps(payload, separators=(",", ":"))


class InvocationLog:
    """Every log line of one invocation, kept to answer ``X-Amz-Log-Type: Tail``."""

    def __init__(self, limit_bytes: int) -> None:
        self._limit = limit_bytes
        self._lines: deque[bytes] = deque()
        self._size = 0

    def add(self, line: str) -> None:
        data = line.encode("utf-8", "replace") + b"\n"
        self._lines.append(data)
        self._size += len(data)
        while self._size - len(self._lines[0]) >= self._limit:
            self._size -= len(self._lines.popleft())

    def tail(self) -> bytes:
        """The last ``limit_bytes`` bytes of the log (may start mid-line, as the service's)."""
        return b"".join(self._lines)[-self._limit :]


class LogWriter:
    """Writes lines to the emulator's stdout, one write + flush per call (unless deferred).

    On a terminal each environment's lines get a coloured ``env-N |`` prefix; otherwise lines are
    written verbatim (as aws-lambda-rie does), so tools can parse them.
    """

    def __init__(self, stream: TextIO | None = None, decorate: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._decorate = self._stream.isatty() if decorate is None else decorate
        self._colours: dict[str, str] = {}  # env id -> its colour, while it may write
        self._coloured = 0  # how many environments got a colour so far
        self._held = ""  # written with the next flushing write (whatever the stream buffers)

    def write(self, lines: Iterable[str], env_id: str | None = None, flush: bool = True) -> None:
        """Write ``lines``; with ``flush=False`` they are held until the next flushing write or
        ``flush()``, then go out in the same ``write`` (one system call even on an unbuffered
        stream, e.g. with ``PYTHONUNBUFFERED``; order is kept)."""
        prefix = self._prefix(env_id) if self._decorate and env_id else ""
        text = "".join([f"{prefix}{line}\n" for line in lines])  # a list: joins faster
        if not flush:
            self._held += text
            return
        held, self._held = self._held, ""
        self._stream.write(held + text)
        self._stream.flush()

    def flush(self) -> None:
        held, self._held = self._held, ""
        if held:
            self._stream.write(held)
            self._stream.flush()

    def forget(self, env_id: str) -> None:
        """Environment ``env_id`` writes no more lines (it stopped for good)."""
        self._colours.pop(env_id, None)

    def _prefix(self, env_id: str) -> str:
        colour = self._colours.get(env_id)
        if colour is None:
            colour = self._colours[env_id] = _COLOURS[self._coloured % len(_COLOURS)]
            self._coloured += 1
        return f"\x1b[{colour}m{env_id} |\x1b[0m "
