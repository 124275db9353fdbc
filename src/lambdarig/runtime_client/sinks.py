"""Where log records and error reports go, in awslambdaric's exact formats
(awslambdaric/bootstrap.py, lambda_runtime_log_utils.py), and the request the current context
serves.

A :class:`LogSink` writes framed records on the platform's telemetry fd when it passes one
(:class:`TelemetrySink`), else plain writes to stdout (:class:`StdoutSink`). Neither imports
``logging``: the root handler that feeds a sink (:mod:`lambdarig.runtime_client.log_handlers`) is
loaded only once ``logging`` is (see :mod:`lambdarig.runtime_client.logs`).

The current request id and tenant id live in :mod:`contextvars`, set by :func:`set_request_context`
for each invocation. Unlike awslambdaric's module globals they do not leak between concurrent
invocations; a thread started by user code sees them only if it runs in a copied context
(``contextvars.copy_context().run``), otherwise its log lines carry an empty request id.
"""

from __future__ import annotations

import contextvars
import sys
import time

from lambdarig.runtime_client import marshal

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, BinaryIO

    from lambdarig.runtime_client.config import RuntimeConfig

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "lambdarig_request_id", default=None
)
tenant_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "lambdarig_tenant_id", default=None
)

ERROR_LINE_TERMINATOR = "\r"  # joins a text error's lines so CloudWatch keeps one event
ERROR_INDENT = "\u00a0"  # NO-BREAK SPACE replaces leading spaces of traceback lines

# Telemetry frame types per (normalised) level: low bits 2 = JSON, 3 = text (awslambdaric's
# telemetry fd framing).
JSON_FRAME_TYPES = {
    level: frame.to_bytes(4, "big")
    for level, frame in (
        (0, 0xA55A0002),
        (10, 0xA55A000A),
        (20, 0xA55A000E),
        (30, 0xA55A0012),
        (40, 0xA55A0016),
        (50, 0xA55A001A),
    )
}
TEXT_FRAME_TYPES = {
    level: frame.to_bytes(4, "big")
    for level, frame in (
        (0, 0xA55A0003),
        (10, 0xA55A000B),
        (20, 0xA55A000F),
        (30, 0xA55A0013),
        (40, 0xA55A0017),
        (50, 0xA55A001B),
    )
}
DEFAULT_FRAME_TYPE = TEXT_FRAME_TYPES[0]
_ERROR = 40  # logging.ERROR, without importing logging


def set_request_context(request_id: str, tenant_id: str | None) -> None:
    """Make ``request_id``/``tenant_id`` the ones log records carry in the current context."""
    request_id_var.set(request_id)
    tenant_id_var.set(tenant_id)


def current_request_id() -> str | None:
    """The request id set for the current context, or ``None`` before the first invocation."""
    return request_id_var.get()


class LogSink:
    """Destination of log records and error reports. Subclasses implement :meth:`log`.

    ``json_format`` selects the JSON error-report layout; ``ensure_ascii`` is the marshaller's
    rule, used for JSON error reports (awslambdaric encodes them with its response encoder).
    """

    error_frame_type = TEXT_FRAME_TYPES[_ERROR]

    def __init__(self, json_format: bool = False, ensure_ascii: bool = True) -> None:
        self.json_format = json_format
        self.ensure_ascii = ensure_ascii
        if json_format:
            self.error_frame_type = JSON_FRAME_TYPES[_ERROR]

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        """Write ``msg`` as is (no newline added). Blocks until written."""
        raise NotImplementedError

    def log_error(self, error: Mapping[str, Any]) -> None:
        """Report an error JSON object (``errorMessage``, ``errorType``, ``stackTrace``...)."""
        self._write_error(self.error_lines(error))

    def error_lines(self, error: Mapping[str, Any]) -> list[str]:
        """The lines awslambdaric writes for ``error`` in this sink's format."""
        if self.json_format:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time()))
            # "level", as awslambdaric 4.2.2 writes it (releases up to 4.0.1 wrote "log_level").
            record = {"timestamp": stamp, "level": "ERROR", **error}
            return [marshal.dumps(record, self.ensure_ascii)]
        return _text_error_lines(error)

    def _write_error(self, lines: list[str]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release the destination (the telemetry fd); the default sink holds nothing."""


class StdoutSink(LogSink):
    """Plain writes to the current ``sys.stdout``; error lines joined with ``\\r``."""

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        sys.stdout.write(msg)

    def _write_error(self, lines: list[str]) -> None:
        sys.stdout.write(ERROR_LINE_TERMINATOR.join(lines) + "\n")


class TelemetrySink(LogSink):
    """Framed records on the platform's telemetry fd (``_LAMBDA_TELEMETRY_LOG_FD``), opened
    unbuffered.

    Frame: type (4 bytes) + length (4) + timestamp in Unix microseconds (8) + UTF-8 message, all
    big-endian. An error report is one frame, its lines joined with ``\\n``.
    """

    def __init__(self, fd: int, json_format: bool = False, ensure_ascii: bool = True) -> None:
        super().__init__(json_format, ensure_ascii)
        self.file: BinaryIO = open(fd, "wb", 0)  # closed by close()

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        encoded = msg.encode("utf8")
        timestamp = int(time.time_ns() / 1000)  # float division, as awslambdaric
        self.file.write(
            (frame_type or DEFAULT_FRAME_TYPE)
            + len(encoded).to_bytes(4, "big")
            + timestamp.to_bytes(8, "big")
            + encoded
        )

    def _write_error(self, lines: list[str]) -> None:
        self.log("\n".join(lines), frame_type=self.error_frame_type)

    def close(self) -> None:
        self.file.close()


def _text_error_lines(error: Mapping[str, Any]) -> list[str]:
    description = "[ERROR]"
    error_type = error.get("errorType")
    if error_type:
        description += " " + error_type
    message = error.get("errorMessage")
    if message:
        description += (":" if error_type else "") + " " + message
    lines = [description]
    stack_trace = error.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append(ERROR_INDENT * (len(line) - len(stripped)) + stripped)
    return lines


def make_sink(config: RuntimeConfig) -> LogSink:
    """The telemetry-fd sink when ``config.telemetry_log_fd`` is set, else the stdout sink."""
    json_format = config.log_format == "JSON"
    if config.telemetry_log_fd is not None:
        return TelemetrySink(config.telemetry_log_fd, json_format, config.json_ensure_ascii)
    return StdoutSink(json_format, config.json_ensure_ascii)
