"""The platform log lines of one function (START/END/REPORT, INIT_REPORT, RESTORE_START and
RESTORE_REPORT) and its environments' output, printed in order and kept per invocation for
``X-Amz-Log-Type: Tail``: ``FunctionLogs``, the listener of a ``FunctionHost``'s pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Callable, TextIO

from lambdarig import invoke_api
from lambdarig.rie_server.environments.outcomes import InvokeOutcome, InvokeRequest, OutcomeKind
from lambdarig.rie_server.platform_logs import InvocationLog, LogWriter, PlatformLogFormatter
from lambdarig.rie_server.untrusted import printable

if TYPE_CHECKING:
    import datetime

    from lambdarig.rie_server.environments.restore import Restored
    from lambdarig.rie_server.telemetry.on_demand import OnDemandTelemetry

Clock = Callable[[], "datetime.datetime"]
# A START line waits in the buffer for the invocation's END and REPORT (one write for the three)
# or for its first output line, but never longer than this.
START_FLUSH_S = 0.02
_INIT_ERROR = OutcomeKind.INIT_ERROR  # read per invoke: bound once (an Enum member read is slow)


def utc_now() -> datetime.datetime:
    import datetime  # only JSON platform lines and Event invocations read the clock

    return datetime.datetime.now(datetime.timezone.utc)


class LabelledWriter(LogWriter):
    """A ``LogWriter`` whose every line starts with ``[label] `` (several functions, one stdout)."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._label = f"[{printable(label)}] "

    def write(self, lines: Iterable[str], env_id: str | None = None, flush: bool = True) -> None:
        super().write([self._label + line for line in lines], env_id, flush)


class FunctionLogs:
    """The pool's listener: prints platform lines and output, keeps per-invocation captures.

    An output line belongs to every invocation open in its environment: exact with one invoke per
    environment; in Managed Instances mode concurrent invocations' Tails share their lines.
    """

    def __init__(self, formatter: PlatformLogFormatter, writer: LogWriter, clock: Clock) -> None:
        self._formatter = formatter
        self._writer = writer
        self._clock = clock
        self._open: dict[str, dict[str, InvocationLog]] = {}
        self.tails: dict[str, bytes] = {}
        self.wanted: set[str] = set()
        self._flush_timer: asyncio.TimerHandle | None = None
        self.telemetry: dict[str, OnDemandTelemetry] = {}  # env id -> its Telemetry/Logs APIs
        self.function_name = ""  # for platform.restoreStart

    def _now(self) -> datetime.datetime | None:
        """The time a platform line carries: JSON lines only (``PlatformLogFormatter.timed``)."""
        return self._clock() if self._formatter.timed else None

    def output(self, env_id: str, line: str) -> None:
        self._writer.write([line], env_id)
        hub = self.telemetry.get(env_id)
        if hub is not None:
            hub.output(line)
        for capture in self._open.get(env_id, {}).values():
            capture.add(line)

    def _emit(
        self, env_id: str, lines: list[str], request_id: str | None = None, flush: bool = True
    ) -> None:
        self._writer.write(lines, env_id, flush)
        captures = self._open.get(env_id)  # only Tail captures: usually none
        capture = None if captures is None else captures.get(request_id or "")
        if capture is not None:
            for line in lines:
                capture.add(line)

    def invocation_started(self, env_id: str, request: InvokeRequest) -> None:
        if request.request_id in self.wanted:  # captured only for Tail (off the common path)
            captures = self._open.setdefault(env_id, {})
            captures[request.request_id] = InvocationLog(invoke_api.LOG_TAIL_BYTES)
        line = self._formatter.start(request.request_id, self._now(), request.tenant_id)
        # Buffered: written with the next flushing write (the invocation's first output line or
        # its END and REPORT: same buffer, so START still comes first), at the latest after
        # START_FLUSH_S. A warm invoke's three platform lines then cost one write system call.
        self._emit(env_id, [line], request.request_id, flush=False)
        hub = self.telemetry.get(env_id)
        if hub is not None:
            hub.invocation_started(request)
        if self._flush_timer is None:  # one timer at a time, never cancelled: no per-invoke cost
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(START_FLUSH_S, self._timed_flush)

    def _timed_flush(self) -> None:
        self._flush_timer = None
        self._writer.flush()  # no system call when END already wrote everything

    def invocation_finished(
        self, env_id: str, request: InvokeRequest, outcome: InvokeOutcome
    ) -> None:
        request_id = request.request_id
        lines = self._formatter.failure(request_id, outcome)
        if outcome.kind is _INIT_ERROR and not outcome.restore_error:
            lines.append(self._formatter.init_report(outcome, "invoke", self._now()))
        lines += self._formatter.end(request_id)
        lines.append(self._formatter.report(request_id, outcome, self._now()))
        self._emit(env_id, lines, request_id)
        hub = self.telemetry.get(env_id)
        if hub is not None:
            hub.invocation_finished(request, outcome)
        captures = self._open.get(env_id)
        capture = None if captures is None else captures.pop(request_id, None)
        if capture is not None and request_id in self.wanted:
            self.wanted.discard(request_id)
            self.tails[request_id] = capture.tail()

    def invocation_abandoned(self, env_id: str, request: InvokeRequest) -> None:
        self._open.get(env_id, {}).pop(request.request_id, None)
        hub = self.telemetry.get(env_id)
        if hub is not None:
            hub.invocation_abandoned(request)

    async def environment_stopped(self, env_id: str) -> None:
        """A retired environment (``--watch``) stopped: drop what was kept under its id."""
        self._open.pop(env_id, None)
        self._writer.forget(env_id)
        hub = self.telemetry.pop(env_id, None)
        if hub is not None:
            await hub.close()

    def init_failed(self, env_id: str, outcome: InvokeOutcome) -> None:
        if not outcome.restore_error:  # RESTORE_REPORT said it already
            self._emit(env_id, [self._formatter.init_report(outcome, "init", self._now())])

    def restore_started(self, env_id: str) -> None:
        self._emit(env_id, [self._formatter.restore_start(self.function_name, self._now())])

    def restore_finished(self, env_id: str, restored: Restored) -> None:
        error_type = restored.failure.error_type if restored.failure is not None else None
        line = self._formatter.restore_report(restored.duration_ms, error_type, self._now())
        self._emit(env_id, [line])
