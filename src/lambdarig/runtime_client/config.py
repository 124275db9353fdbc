"""RuntimeConfig: everything the runtime client reads from its environment and argv, read once.

This is the only module of ``lambdarig.runtime_client`` that reads environment variables, and it
does so only through the mapping passed to :meth:`RuntimeConfig.from_environ` (``cli`` passes
``os.environ``). Two modules change the environment, as awslambdaric does: ``cli`` removes
``_LAMBDA_TELEMETRY_LOG_FD`` once read, ``invoke`` sets or removes ``_X_AMZN_TRACE_ID`` per invoke.
"""

from __future__ import annotations

from lambdarig import runtime_api as wire
from lambdarig.runtime_client.errors import ClientConfigError

TYPE_CHECKING = False  # keep typing out of the cold-start import path
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# The platform's file descriptor for framed log records (removed from the environment once read).
TELEMETRY_LOG_FD_VAR = "_LAMBDA_TELEMETRY_LOG_FD"
# awslambdaric writes UTF-8 JSON (ensure_ascii=False) only under these execution environments.
UTF8_JSON_EXECUTION_ENVS = frozenset(f"AWS_Lambda_python3.{minor}" for minor in (12, 13, 14, 15))


class RuntimeConfig:
    """Frozen-by-convention settings of one runtime process.

    ``log_format`` is ``"JSON"`` or ``"Text"``; ``log_level`` is the upper-cased
    ``AWS_LAMBDA_LOG_LEVEL`` (``TRACE`` already mapped to ``DEBUG``) or ``None`` when unset.
    """

    __slots__ = (
        "runtime_api",
        "handler",
        "log_format",
        "log_level",
        "execution_env",
        "telemetry_log_fd",
        "telemetry_fd_provider_socket",
        "initialization_type",
        "max_concurrency",
        "function_name",
        "function_version",
        "memory_size",
        "log_group_name",
        "log_stream_name",
        "region",
        "disable_preview_warning",
        "task_root",
    )

    def __init__(
        self,
        runtime_api: str,
        handler: str,
        log_format: str = "Text",
        log_level: str | None = None,
        execution_env: str | None = None,
        telemetry_log_fd: int | None = None,
        telemetry_fd_provider_socket: str | None = None,
        initialization_type: str = wire.INIT_ON_DEMAND,
        max_concurrency: int | None = None,
        function_name: str | None = None,
        function_version: str | None = None,
        memory_size: str | None = None,
        log_group_name: str | None = None,
        log_stream_name: str | None = None,
        region: str | None = None,
        disable_preview_warning: bool = False,
        task_root: str | None = None,
    ) -> None:
        self.runtime_api = runtime_api
        self.handler = handler
        self.log_format = log_format
        self.log_level = log_level
        self.execution_env = execution_env
        self.telemetry_log_fd = telemetry_log_fd
        self.telemetry_fd_provider_socket = telemetry_fd_provider_socket
        self.initialization_type = initialization_type
        self.max_concurrency = max_concurrency
        self.function_name = function_name
        self.function_version = function_version
        self.memory_size = memory_size
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.region = region
        self.disable_preview_warning = disable_preview_warning
        self.task_root = task_root

    @property
    def json_ensure_ascii(self) -> bool:
        """Whether marshalled JSON escapes non-ASCII (awslambdaric's rule keyed on the exec env)."""
        return self.execution_env not in UTF8_JSON_EXECUTION_ENVS

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], argv: Sequence[str] = ()) -> RuntimeConfig:
        """Build the config from an environment mapping and the arguments after the program name.

        The handler is ``argv[0]`` when given, else ``_HANDLER``. Raises :class:`ClientConfigError`
        with a one-line message when ``AWS_LAMBDA_RUNTIME_API`` or the handler is missing, or when a
        numeric variable is not a number.
        """
        runtime_api = environ.get(wire.ENV_RUNTIME_API, "")
        if not runtime_api:
            raise ClientConfigError(
                "AWS_LAMBDA_RUNTIME_API is not set: expected the Runtime API's host:port "
                "(for example 127.0.0.1:9001)"
            )
        handler = argv[0] if argv else environ.get("_HANDLER", "")
        if not handler:
            raise ClientConfigError(
                "no handler given: expected it as the first argument (for example app.handler) "
                "or in _HANDLER"
            )
        log_format = (
            "JSON" if environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON" else "Text"
        )
        return cls(
            runtime_api=runtime_api,
            handler=handler,
            log_format=log_format,
            log_level=_log_level(environ.get("AWS_LAMBDA_LOG_LEVEL")),
            execution_env=environ.get("AWS_EXECUTION_ENV") or None,
            telemetry_log_fd=_optional_int(environ, TELEMETRY_LOG_FD_VAR),
            telemetry_fd_provider_socket=environ.get("_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET")
            or None,
            initialization_type=environ.get(wire.ENV_INITIALIZATION_TYPE) or wire.INIT_ON_DEMAND,
            max_concurrency=_optional_int(environ, "AWS_LAMBDA_MAX_CONCURRENCY"),
            function_name=environ.get("AWS_LAMBDA_FUNCTION_NAME"),
            function_version=environ.get("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_size=environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            log_group_name=environ.get("AWS_LAMBDA_LOG_GROUP_NAME"),
            log_stream_name=environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
            region=environ.get("AWS_REGION") or None,
            disable_preview_warning=bool(environ.get("LAMBDA_DISABLE_PREVIEW_WARN", "")),
            task_root=environ.get("LAMBDA_TASK_ROOT") or None,
        )


def _log_level(raw: str | None) -> str | None:
    """awslambdaric's rule: exactly ``TRACE`` means ``DEBUG``; anything else is upper-cased and
    kept, known to Python or not (an unknown name still switches on level-typed log frames)."""
    if not raw:
        return None
    return {"TRACE": "DEBUG"}.get(raw, raw).upper()


def _optional_int(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ClientConfigError(f"{name} must be an integer, got {raw!r}") from None
