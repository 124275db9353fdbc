"""Where the function's logs go, in awslambdaric's exact formats (digest §3.6–3.8).

``setup_logging`` is called once, before user code is imported: it makes ``sys.stdout`` and
``sys.stderr`` flush on every write, picks the :class:`LogSink` (framed records on the telemetry
fd when the platform passes one, else plain writes to stdout) and installs awslambdaric's root
logging handler (text or JSON format, ``AWS_LAMBDA_LOG_LEVEL``, per-level telemetry frame types).

The current request id and tenant id live in :mod:`contextvars`, set by :func:`set_request_context`
for each invocation. Unlike awslambdaric's module globals they do not leak between concurrent
invocations; a thread started by user code sees them only if it runs in a copied context
(``contextvars.copy_context().run``), otherwise its log lines carry an empty request id.

Class names (``LambdaLoggerHandler``, ``LambdaLoggerHandlerWithFrameType``, ``LambdaLoggerFilter``,
``JsonFormatter``) and the ``log_sink`` handler attribute match awslambdaric because user code and
libraries look for them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time

from lambdarig.runtime_client import marshal

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, BinaryIO, TextIO

    from lambdarig.runtime_client.config import RuntimeConfig

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "lambdarig_request_id", default=None
)
_tenant_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "lambdarig_tenant_id", default=None
)

TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
JSON_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
ERROR_LINE_TERMINATOR = "\r"  # joins a text error's lines so CloudWatch keeps one event
ERROR_INDENT = "\u00a0"  # NO-BREAK SPACE replaces leading spaces of traceback lines

# Telemetry frame types per (normalised) level: low bits 2 = JSON, 3 = text (digest §3.8).
JSON_FRAME_TYPES = {
    level: frame.to_bytes(4, "big")
    for level, frame in (
        (logging.NOTSET, 0xA55A0002),
        (logging.DEBUG, 0xA55A000A),
        (logging.INFO, 0xA55A000E),
        (logging.WARNING, 0xA55A0012),
        (logging.ERROR, 0xA55A0016),
        (logging.CRITICAL, 0xA55A001A),
    )
}
TEXT_FRAME_TYPES = {
    level: frame.to_bytes(4, "big")
    for level, frame in (
        (logging.NOTSET, 0xA55A0003),
        (logging.DEBUG, 0xA55A000B),
        (logging.INFO, 0xA55A000F),
        (logging.WARNING, 0xA55A0013),
        (logging.ERROR, 0xA55A0017),
        (logging.CRITICAL, 0xA55A001B),
    )
}
DEFAULT_FRAME_TYPE = TEXT_FRAME_TYPES[logging.NOTSET]

# LogRecord attributes never copied into a JSON log line as ``extra`` fields.
_RESERVED_FIELDS = frozenset(
    "name msg args levelname levelno pathname filename module exc_info exc_text stack_info lineno "
    "funcName created msecs relativeCreated thread threadName processName process aws_request_id "
    "tenant_id _frame_type".split()
)


def set_request_context(request_id: str, tenant_id: str | None) -> None:
    """Make ``request_id``/``tenant_id`` the ones log records carry in the current context."""
    _request_id.set(request_id)
    _tenant_id.set(tenant_id)


def current_request_id() -> str | None:
    """The request id set for the current context, or ``None`` before the first invocation."""
    return _request_id.get()


class LogSink:
    """Destination of log records and error reports. Subclasses implement :meth:`log`.

    ``json_format`` selects the JSON error-report layout; ``ensure_ascii`` is the marshaller's
    rule, used for JSON error reports (awslambdaric encodes them with its response encoder).
    """

    error_frame_type = TEXT_FRAME_TYPES[logging.ERROR]

    def __init__(self, json_format: bool = False, ensure_ascii: bool = True) -> None:
        self.json_format = json_format
        self.ensure_ascii = ensure_ascii
        if json_format:
            self.error_frame_type = JSON_FRAME_TYPES[logging.ERROR]

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        """Write ``msg`` as is (no newline added). Blocks until written."""
        raise NotImplementedError

    def log_error(self, error: Mapping[str, Any]) -> None:
        """Report an error JSON object (``errorMessage``, ``errorType``, ``stackTrace``...)."""
        self._write_error(self.error_lines(error))

    def error_lines(self, error: Mapping[str, Any]) -> list[str]:
        """The lines awslambdaric writes for ``error`` in this sink's format."""
        if self.json_format:
            stamp = time.strftime(JSON_DATE_FORMAT, time.gmtime(time.time()))
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
    """Framed records on the platform's telemetry fd (digest §3.8), opened unbuffered.

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


class Unbuffered:
    """Wraps a text stream so every ``write``/``writelines`` is followed by ``flush``.

    As awslambdaric's: ``write`` returns ``None`` and leaving a ``with`` block does not close.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __enter__(self) -> Unbuffered:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.stream, attr)

    def write(self, msg: str) -> None:
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs: Iterable[str]) -> None:
        self.stream.writelines(msgs)
        self.stream.flush()


def _normalised_level(record: logging.LogRecord) -> int:
    return min(50, max(0, record.levelno)) // 10 * 10


class LambdaLoggerHandler(logging.Handler):
    """Root handler writing each formatted record to the sink (no frame type)."""

    def __init__(self, log_sink: LogSink) -> None:
        super().__init__()
        self.log_sink = log_sink

    def emit(self, record: logging.LogRecord) -> None:
        self.log_sink.log(self.format(record))


class LambdaLoggerHandlerWithFrameType(LambdaLoggerHandler):
    """Root handler used when a JSON format or a log level is configured: frames carry levels."""

    def emit(self, record: logging.LogRecord) -> None:
        message = self.format(record)
        frame_type = getattr(record, "_frame_type", None) or TEXT_FRAME_TYPES.get(
            _normalised_level(record)
        )
        self.log_sink.log(message, frame_type=frame_type)


class LambdaLoggerFilter(logging.Filter):
    """Stamps every record with the current context's request id (``""`` if none) and tenant id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id.get() or ""
        record.tenant_id = _tenant_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, awslambdaric's field order; ``None`` fields dropped."""

    _encode = staticmethod(json.JSONEncoder(ensure_ascii=False, default=str).encode)

    def __init__(self) -> None:
        super().__init__(datefmt=JSON_DATE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.levelno = _normalised_level(record)
        record.levelname = logging.getLevelName(record.levelno)
        record._frame_type = JSON_FRAME_TYPES.get(record.levelno, JSON_FRAME_TYPES[0])
        exc_info = record.exc_info
        message = record.msg
        result: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": message
            if isinstance(message, dict) and not record.args
            else record.getMessage(),
            "logger": record.name,
            "stackTrace": _format_tb(exc_info[2]) if exc_info else None,
            "errorType": exc_info[0].__name__ if exc_info and exc_info[0] else None,
            "errorMessage": str(exc_info[1]) if exc_info else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}"
            if exc_info
            else None,
        }
        tenant_id = getattr(record, "tenant_id", None)
        if tenant_id is not None:
            result["tenantId"] = tenant_id
        result.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _RESERVED_FIELDS and key not in result
        )
        return self._encode({k: v for k, v in result.items() if v is not None}) + "\n"


def _format_tb(tb: Any) -> list[str]:
    import traceback  # only when a record carries an exception: ~5 ms of cold start otherwise

    return traceback.format_tb(tb)


def make_sink(config: RuntimeConfig) -> LogSink:
    """The telemetry-fd sink when ``config.telemetry_log_fd`` is set, else the stdout sink."""
    json_format = config.log_format == "JSON"
    if config.telemetry_log_fd is not None:
        return TelemetrySink(config.telemetry_log_fd, json_format, config.json_ensure_ascii)
    return StdoutSink(json_format, config.json_ensure_ascii)


def install_handler(
    config: RuntimeConfig, sink: LogSink, logger: logging.Logger | None = None
) -> LambdaLoggerHandler:
    """Add awslambdaric's handler to ``logger`` (the root logger by default) and return it.

    Also sets ``logging.Formatter.converter = time.gmtime`` process-wide, as awslambdaric does.
    """
    logging.Formatter.converter = time.gmtime
    target = logger if logger is not None else logging.getLogger()
    json_format = config.log_format == "JSON"
    handler: LambdaLoggerHandler
    if json_format or config.log_level:
        handler = LambdaLoggerHandlerWithFrameType(sink)
    else:
        handler = LambdaLoggerHandler(sink)
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, TEXT_DATE_FORMAT))
    if config.log_level is not None:
        target.setLevel(config.log_level)
    handler.addFilter(LambdaLoggerFilter())
    target.addHandler(handler)
    return handler


def setup_logging(config: RuntimeConfig) -> LogSink:
    """Process-wide logging setup, once, before user code is imported; returns the sink.

    Replaces ``sys.stdout``/``sys.stderr`` with :class:`Unbuffered` wrappers, opens the sink and
    installs the root handler. The caller owns the sink (``close()`` it at exit).
    """
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    sink = make_sink(config)
    install_handler(config, sink)
    return sink
