"""Where the function's logs go, in awslambdaric's exact formats (awslambdaric/bootstrap.py,
lambda_runtime_log_utils.py).

``setup_logging`` is called once, before user code is imported: it makes ``sys.stdout`` and
``sys.stderr`` flush on every write and opens the :class:`LogSink` (framed records on the
telemetry fd when the platform passes one, else plain writes to stdout). awslambdaric's root
logging handler (text or JSON format, ``AWS_LAMBDA_LOG_LEVEL``, per-level telemetry frame types;
see :mod:`lambdarig.runtime_client.log_handlers`) is installed the moment ``logging`` is first
imported — by user code, a library, or us — rather than eagerly: importing ``logging`` (with
``re``, ``enum``, ``traceback``...) is most of a cold start, and until something imports it no
one can observe the difference. A ``sys.meta_path`` finder that removes itself on first use does
this; if ``logging`` is already imported, the handler is installed at once.

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
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any, BinaryIO, TextIO

    from lambdarig.runtime_client.config import RuntimeConfig
    from lambdarig.runtime_client.log_handlers import LambdaLoggerHandler

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


PREVIEW_RUNTIME_ENVS = frozenset({"AWS_Lambda_python3.15"})
_RUNTIMES_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
_RUNTIMES_DOC_CN = "https://docs.amazonaws.cn/lambda/latest/dg/lambda-runtimes.html"


def preview_runtime_warning(execution_env: str | None, region: str | None) -> str | None:
    """awslambdaric's ``LAMBDA_WARNING`` for preview runtimes, or ``None`` for other runtimes.

    The caller logs it with ``logging.warning`` before loading the handler, unless
    ``LAMBDA_DISABLE_PREVIEW_WARN`` is set (awslambdaric's ``_log_preview_runtime_warning``).
    """
    if execution_env not in PREVIEW_RUNTIME_ENVS:
        return None
    link = _RUNTIMES_DOC_CN if (region or "").startswith("cn-") else _RUNTIMES_DOC
    return (
        "LAMBDA_WARNING: This is a preview runtime version and should not be used for "
        "production workloads. For further information and to provide feedback, see "
        f"{link}\r"
    )


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


def make_sink(config: RuntimeConfig) -> LogSink:
    """The telemetry-fd sink when ``config.telemetry_log_fd`` is set, else the stdout sink."""
    json_format = config.log_format == "JSON"
    if config.telemetry_log_fd is not None:
        return TelemetrySink(config.telemetry_log_fd, json_format, config.json_ensure_ascii)
    return StdoutSink(json_format, config.json_ensure_ascii)


def install_handler(
    config: RuntimeConfig, sink: LogSink, logger: Any = None
) -> LambdaLoggerHandler:
    """Install awslambdaric's handler on ``logger`` (the root logger by default) now.

    Imports ``logging``; see :func:`lambdarig.runtime_client.log_handlers.install_handler`.
    """
    from lambdarig.runtime_client import log_handlers

    return log_handlers.install_handler(config, sink, logger)


class _ConfigureOnImport:
    """``sys.meta_path`` finder: runs ``configure`` right after ``logging`` first executes.

    It finds ``logging`` with the finders after it, wraps that spec's loader so ``configure`` runs
    once the module body has run, and removes itself from ``sys.meta_path`` on first use.
    """

    def __init__(self, configure: Callable[[], object]) -> None:
        self.configure = configure

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != "logging":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec: ModuleSpec | None = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        if spec is None:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        execute = loader.exec_module
        configure = self.configure

        def exec_module(module: ModuleType) -> None:
            execute(module)
            configure()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def configure_on_logging_import(configure: Callable[[], object]) -> None:
    """Run ``configure`` as soon as ``logging`` is imported (now, if it already is)."""
    if "logging" in sys.modules:
        configure()
    else:
        sys.meta_path.insert(0, _ConfigureOnImport(configure))


def setup_logging(config: RuntimeConfig) -> LogSink:
    """Process-wide logging setup, once, before user code is imported; returns the sink.

    Replaces ``sys.stdout``/``sys.stderr`` with :class:`Unbuffered` wrappers, opens the sink and
    arranges for the root handler to be installed when ``logging`` is imported. The caller owns
    the sink (``close()`` it at exit).
    """
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    sink = make_sink(config)
    configure_on_logging_import(lambda: install_handler(config, sink))
    return sink
