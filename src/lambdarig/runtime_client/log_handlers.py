"""awslambdaric's root logging handler, filter and JSON formatter
(awslambdaric/lambda_runtime_log_utils.py).

Imported only once ``logging`` is (see :func:`lambdarig.runtime_client.logs.setup_logging`).
Class names (``LambdaLoggerHandler``, ``LambdaLoggerHandlerWithFrameType``, ``LambdaLoggerFilter``,
``JsonFormatter``) and the ``log_sink`` handler attribute match awslambdaric because user code and
libraries look for them.
"""

from __future__ import annotations

import logging
import time

from lambdarig.runtime_client.sinks import (
    JSON_FRAME_TYPES,
    TEXT_FRAME_TYPES,
    LogSink,
    request_id_var,
    tenant_id_var,
)

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from typing import Any

    from lambdarig.runtime_client.config import RuntimeConfig

TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
JSON_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# LogRecord attributes never copied into a JSON log line as ``extra`` fields.
_RESERVED_FIELDS = frozenset(
    "name msg args levelname levelno pathname filename module exc_info exc_text stack_info lineno "
    "funcName created msecs relativeCreated thread threadName processName process aws_request_id "
    "tenant_id _frame_type".split()
)


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
        record.aws_request_id = request_id_var.get() or ""
        record.tenant_id = tenant_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, awslambdaric's field order; ``None`` fields dropped."""

    def __init__(self) -> None:
        import json  # JSON format only: json pulls in re

        super().__init__(datefmt=JSON_DATE_FORMAT)
        self._encode = json.JSONEncoder(ensure_ascii=False, default=str).encode

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
    # awslambdaric: any non-empty level selects the frame-typed handler; only known names set it.
    if config.log_level is not None and config.log_level in logging._nameToLevel:
        target.setLevel(config.log_level)
    handler.addFilter(LambdaLoggerFilter())
    target.addHandler(handler)
    return handler
