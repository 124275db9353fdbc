"""Parse the platform's START/END/REPORT lines and attribute log lines to invocations.

Pure parsing (``parse_start``, ``parse_end``, ``parse_report``) plus :class:`LogBook`, a
thread-safe, append-only record of an emulator's stdout that one pump thread feeds and test threads
query. Line formats (service and aws-lambda-rie; fields are tab-separated and RIE puts
``Init Duration`` first, so fields are matched by name, never by position)::

    START RequestId: <id> Version: $LATEST
    END RequestId: <id>
    REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
        Max Memory Used: 30 MB\t[Init Duration: 12.34 ms\t][Status: timeout\t][Error Type: X\t]
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

_START = re.compile(r"^START RequestId: (?P<id>\S+)")
_END = re.compile(r"^END RequestId: (?P<id>\S+)")
_REPORT = re.compile(r"^REPORT RequestId: (?P<id>\S+)")
_NUMBER = re.compile(r"^(?P<value>[0-9]+(?:\.[0-9]+)?)")
# aws-lambda-rie copies the runtime's bytes as they come, so output without a trailing newline
# (``logging.exception`` through the runtime clients' log sink) is glued to the platform line that
# follows it: ``ValueError: boomEND RequestId: <id>``.
_GLUED = re.compile(
    r"^(?P<text>.+?)(?P<platform>(?:START RequestId: \S+ Version: \S+|END RequestId: \S+))$"
)


@dataclass(frozen=True)
class Report:
    """The figures of one ``REPORT`` line. Durations in milliseconds, memory in MB."""

    request_id: str
    duration_ms: float
    billed_duration_ms: int
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None
    status: str | None = None
    error_type: str | None = None


def parse_start(line: str) -> str | None:
    """The request id of a ``START`` line, else ``None``."""
    match = _START.match(line)
    return match.group("id") if match else None


def parse_end(line: str) -> str | None:
    """The request id of an ``END`` line, else ``None``."""
    match = _END.match(line)
    return match.group("id") if match else None


def _fields(line: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in line.split("\t")[1:]:
        name, sep, value = part.partition(": ")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def _number(fields: dict[str, str], name: str, line: str) -> float:
    raw = fields.get(name)
    match = _NUMBER.match(raw) if raw is not None else None
    if match is None:
        raise ValueError(f"expected a numeric {name!r} field in the REPORT line, got {line!r}")
    return float(match.group("value"))


def parse_report(line: str) -> Report | None:
    """The :class:`Report` of a ``REPORT`` line; ``None`` for any other line.

    Raises ``ValueError`` naming the field when a REPORT line lacks one of the mandatory figures.
    """
    match = _REPORT.match(line)
    if match is None:
        return None
    fields = _fields(line)
    init = fields.get("Init Duration")
    return Report(
        request_id=match.group("id"),
        duration_ms=_number(fields, "Duration", line),
        billed_duration_ms=int(_number(fields, "Billed Duration", line)),
        memory_size_mb=int(_number(fields, "Memory Size", line)),
        max_memory_used_mb=int(_number(fields, "Max Memory Used", line)),
        init_duration_ms=_number(fields, "Init Duration", line) if init is not None else None,
        status=fields.get("Status"),
        error_type=fields.get("Error Type"),
    )


def is_platform_line(line: str) -> bool:
    """True for START/END/REPORT lines (the platform's, not the function's)."""
    return bool(_START.match(line) or _END.match(line) or _REPORT.match(line))


@dataclass(frozen=True)
class InvocationLogs:
    """What the log stream says about one invocation."""

    request_id: str
    lines: list[str]  # the function's output between START and END
    init_lines: list[str]  # output before START since the previous invocation (cold-start init)
    report: Report | None


class LogBook:
    """Append-only, thread-safe record of an emulator's stdout lines.

    One thread calls :meth:`feed`; others call :meth:`mark` before an invoke and
    :meth:`wait_invocation` after it. Positions are indexes into the book; :meth:`clear` drops
    everything (positions restart at 0), for the per-test reset.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._cond = threading.Condition()

    def feed(self, line: str) -> None:
        glued = _GLUED.match(line)
        with self._cond:
            self._lines.extend(glued.group("text", "platform") if glued else (line,))
            self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self._lines)

    def clear(self) -> None:
        with self._cond:
            self._lines.clear()

    def lines(self, since: int = 0) -> list[str]:
        with self._cond:
            return self._lines[since:]

    def wait_invocation(
        self, request_id: str | None, since: int, timeout: float, start_timeout: float | None = None
    ) -> InvocationLogs | None:
        """Block up to ``timeout`` s for the REPORT of ``request_id`` (or, if ``None``, of the
        first invocation that STARTs after position ``since``); return its logs.

        Returns ``None`` if no START line for it appeared within ``start_timeout`` (default:
        ``timeout``) s. If START arrived but REPORT did not, the logs so far are returned with
        ``report=None``.
        """
        now = time.monotonic()
        deadline = now + timeout
        start_deadline = now + (timeout if start_timeout is None else min(start_timeout, timeout))
        with self._cond:
            while True:
                found = self._collect(request_id, since)
                if found is not None and found.report is not None:
                    return found
                limit = deadline if found is not None else start_deadline
                remaining = limit - time.monotonic()
                if remaining <= 0:
                    return found
                self._cond.wait(remaining)

    def _collect(self, request_id: str | None, since: int) -> InvocationLogs | None:
        lines = self._lines
        begin = None
        for index in range(since, len(lines)):
            started = parse_start(lines[index])
            if started is not None and (request_id is None or started == request_id):
                begin, request_id = index, started
                break
        if begin is None or request_id is None:
            return None
        # Init output (eager init prints it before the invoke was even sent) runs back to the
        # previous invocation's last platform line.
        first = begin
        while first > 0 and not is_platform_line(lines[first - 1]):
            first -= 1
        init_lines = lines[first:begin]
        body: list[str] = []
        report = None
        ended = False
        for line in lines[begin + 1 :]:
            parsed = parse_report(line)
            if parsed is not None and parsed.request_id == request_id:
                report = parsed
                break
            if parse_start(line) is not None:
                break
            ended = ended or parse_end(line) == request_id
            if not ended and not is_platform_line(line):
                body.append(line)
        return InvocationLogs(request_id, body, init_lines, report)
