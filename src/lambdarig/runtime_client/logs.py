"""Process-wide logging setup, in awslambdaric's way (awslambdaric/bootstrap.py).

``setup_logging`` is called once, before user code is imported: it makes ``sys.stdout`` and
``sys.stderr`` flush on every write and opens the :class:`~lambdarig.runtime_client.sinks.LogSink`
(framed records on the telemetry fd when the platform passes one, else plain writes to stdout; see
:mod:`lambdarig.runtime_client.sinks`). awslambdaric's root logging handler (text or JSON format,
``AWS_LAMBDA_LOG_LEVEL``, per-level telemetry frame types; see
:mod:`lambdarig.runtime_client.log_handlers`) is installed the moment ``logging`` is first
imported — by user code, a library, or us — rather than eagerly: importing ``logging`` (with
``re``, ``enum``, ``traceback``...) is most of a cold start, and until something imports it no
one can observe the difference. A ``sys.meta_path`` finder that removes itself on first use does
this; if ``logging`` is already imported, the handler is installed at once.
"""

from __future__ import annotations

import sys

from lambdarig.runtime_client.sinks import make_sink

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any, TextIO

    from lambdarig.runtime_client.config import RuntimeConfig
    from lambdarig.runtime_client.log_handlers import LambdaLoggerHandler
    from lambdarig.runtime_client.sinks import LogSink


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
