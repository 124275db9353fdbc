"""The emulator's configuration: aws-lambda-rie's flags and environment variables, plus ours.

``EmulatorConfig.from_environ_and_args`` is the only reader of the environment and argv in this
subpackage (with ``cli``). Everything is validated here, at start-up: a bad flag or value raises
``ConfigError`` with one line saying what was expected and what arrived, never a crash on the first
invoke (aws-lambda-rie panics on a non-integer timeout at the first invoke).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lambdarig import invoke_api, runtime_api
from lambdarig.rie_server.arguments import (
    BOOTSTRAP_CANDIDATES as BOOTSTRAP_CANDIDATES,  # re-exported
)
from lambdarig.rie_server.arguments import (
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_RUNTIME_API_ADDRESS,
    DEFAULT_XRAY_DAEMON_ADDRESS,
    MEMORY_VAR,
    TIMEOUT_VAR,
    TRACING_CHOICES,
    parse_args,
)
from lambdarig.rie_server.arguments import LOG_LEVELS as LOG_LEVELS  # re-exported
from lambdarig.rie_server.choices import (  # not from their modules: light before the bind
    DEFAULT_RETRY_DELAYS_S,
    MAX_RETRY_ATTEMPTS,
    CompatMode,
    FunctionIdentity,
    LogFormat,
    Tracing,
)
from lambdarig.rie_server.early_bind import INVOKE_ADDRESS_FLAG, split_address
from lambdarig.rie_server.errors import ConfigError

TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MEMORY_MB = 3008
DEFAULT_LOG_GROUP = "/aws/lambda/Functions"
MEMORY_RANGE_MB = (128, 10240)
# Lambda's unreserved defaults: the caller's value wins (configuration-envvars.html).
UNRESERVED_DEFAULTS = {"LANG": "en_US.UTF-8", "TZ": ":UTC"}


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator needs, validated.

    ``runtime_env`` is the runtime's whole environment except ``AWS_LAMBDA_RUNTIME_API`` and
    ``AWS_LAMBDA_INITIALIZATION_TYPE``, which are set per execution environment.
    """

    command: tuple[str, ...]
    cwd: str | None = None
    handler: str | None = None
    function: FunctionIdentity = field(default_factory=lambda: FunctionIdentity("test_function"))
    invoke_host: str = "0.0.0.0"
    invoke_port: int = 8080
    runtime_api_address: str = DEFAULT_RUNTIME_API_ADDRESS
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    init_timeout_s: float = 10.0
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    provisioned: int = 0
    lazy_init: bool = False
    managed_concurrency: int | None = None
    compat: CompatMode = CompatMode.SERVICE
    log_format: LogFormat = LogFormat.TEXT
    log_level: str = "info"
    enable_init_caching: bool = False
    layers: tuple[str, ...] = ()
    # "3.X" of the interpreter that runs the runtime, for the layers' python/lib/python3.X/
    # site-packages (None: the emulator's own; a template's Runtime may run on another Python).
    layer_python: str | None = None
    image: str | None = None
    async_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS_S
    # EventInvokeConfig (a template's function): MaximumRetryAttempts, MaximumEventAgeInSeconds.
    async_max_retries: int = MAX_RETRY_ATTEMPTS
    async_max_age_s: float | None = None
    runtime_env: Mapping[str, str] = field(default_factory=dict)
    watch_paths: tuple[str, ...] = ()  # lambdarig serve --watch: the code directory and layers
    stream_throttle: bool = True  # streamed responses: 2 MiB/s after the first 6 MB
    snapstart: bool = False  # init ends at /restore/next, then a restore (environments.restore)
    tracing: Tracing = Tracing.PASSTHROUGH  # ACTIVE: X-Ray segments (rie_server.tracing)
    xray_daemon_address: str = DEFAULT_XRAY_DAEMON_ADDRESS  # where ACTIVE sends them
    # Process mode without --layer: the external extensions' directory (lambdarig-rie: /opt/
    # extensions, as aws-lambda-rie; with layers, <laid-out /opt>/extensions is used instead).
    extensions_dir: str | None = None

    @classmethod
    def from_environ_and_args(
        cls,
        environ: Mapping[str, str],
        argv: Sequence[str],
        *,
        bootstrap_candidates: Sequence[str] = BOOTSTRAP_CANDIDATES,
    ) -> EmulatorConfig:
        """Parse ``argv`` (without the program name) against ``environ``; raise ``ConfigError``."""
        args = parse_args(argv)
        command = list(args.command)
        if args.image:  # the command runs inside the image: nothing to resolve here
            command_t, cwd = tuple(command), None
        else:
            command_t, cwd = _resolve_command(command, environ, bootstrap_candidates)
        _check_layers(args.layer)
        host, port = parse_address(args.runtime_interface_emulator_address, INVOKE_ADDRESS_FLAG)
        parse_address(args.runtime_api_address, "--runtime-api-address")
        parse_address(args.xray_daemon_address, "--xray-daemon-address")
        managed = _managed_concurrency(environ)
        max_concurrency, provisioned = _counts(args.max_concurrency, args.provisioned)
        config = cls(
            command=command_t,
            cwd=cwd,
            handler=_handler(environ, command_t, bool(args.image)),
            function=_function(environ),
            invoke_host=host,
            invoke_port=port,
            runtime_api_address=args.runtime_api_address,
            timeout_s=_timeout(args.timeout, environ),
            memory_mb=_memory(args.memory, environ),
            max_concurrency=max_concurrency,
            provisioned=provisioned,
            lazy_init=args.lazy_init,
            managed_concurrency=managed,
            compat=CompatMode(args.compat),
            log_format=_log_format(environ, managed is not None),
            log_level=_log_level(args.log_level, environ),
            enable_init_caching=args.enable_init_caching,
            layers=tuple(args.layer),
            image=args.image,
            async_retry_delays=parse_retry_delays(args.async_retry_delays),
            stream_throttle=not args.no_stream_throttle,
            snapstart=args.snapstart,
            tracing=parse_tracing(args.tracing),
            xray_daemon_address=args.xray_daemon_address,
        )
        return config.with_runtime_env(environ)

    def with_runtime_env(self, environ: Mapping[str, str]) -> EmulatorConfig:
        """A copy whose ``runtime_env`` is built from ``environ`` as the service builds it."""
        return _replace_env(self, runtime_environment(self, environ))


def _handler(environ: Mapping[str, str], command: tuple[str, ...], image: bool) -> str | None:
    """``AWS_LAMBDA_FUNCTION_HANDLER``, else ``_HANDLER``, else the command's last word (when
    at least two words: a bootstrap alone names no handler; in an image the command is CMD)."""
    return (
        environ.get("AWS_LAMBDA_FUNCTION_HANDLER")
        or environ.get("_HANDLER")
        or (command[-1] if len(command) >= (1 if image else 2) else None)
    )


def _check_layers(layers: Sequence[str]) -> None:
    for layer in layers:
        if not os.path.exists(layer):
            raise ConfigError(f"expected a layer zip or directory at {layer}, nothing is there")


def _function(environ: Mapping[str, str]) -> FunctionIdentity:
    return FunctionIdentity(
        name=environ.get("AWS_LAMBDA_FUNCTION_NAME") or invoke_api.DEFAULT_FUNCTION_NAME,
        version=environ.get("AWS_LAMBDA_FUNCTION_VERSION") or invoke_api.DEFAULT_FUNCTION_VERSION,
        region=environ.get("AWS_REGION") or invoke_api.DEFAULT_REGION,
        account=environ.get("AWS_ACCOUNT_ID") or invoke_api.DEFAULT_ACCOUNT_ID,
    )


def _replace_env(config: EmulatorConfig, env: dict[str, str]) -> EmulatorConfig:
    return dataclasses.replace(config, runtime_env=env)


def runtime_environment(config: EmulatorConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """The runtime's variables, later groups winning (configuration-envvars.html): the caller's own
    environment (forwarded verbatim, as aws-lambda-rie does) < unreserved defaults < reserved
    variables."""
    env = dict(environ)
    for key, value in UNRESERVED_DEFAULTS.items():
        env.setdefault(key, value)
    function = config.function
    reserved = {
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": function.version,
        MEMORY_VAR: str(config.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": environ.get("AWS_LAMBDA_LOG_GROUP_NAME") or DEFAULT_LOG_GROUP,
        "AWS_LAMBDA_LOG_STREAM_NAME": environ.get("AWS_LAMBDA_LOG_STREAM_NAME") or "$LATEST",
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": environ.get("AWS_DEFAULT_REGION") or function.region,
        "LAMBDA_TASK_ROOT": task_root(config, environ),
        "LAMBDA_RUNTIME_DIR": environ.get("LAMBDA_RUNTIME_DIR") or RUNTIME_DIR,
    }
    if config.handler:
        reserved["_HANDLER"] = config.handler
    if config.managed_concurrency is not None:
        reserved["AWS_LAMBDA_MAX_CONCURRENCY"] = str(config.managed_concurrency)
    if config.tracing is Tracing.ACTIVE:
        reserved.update(_xray_environment(config, env))
    env.update(reserved)
    if config.snapstart:  # configuration-envvars.html: not set for SnapStart functions
        del env["AWS_LAMBDA_LOG_GROUP_NAME"], env["AWS_LAMBDA_LOG_STREAM_NAME"]
    env.pop(runtime_api.ENV_RUNTIME_API, None)
    return env


def _xray_environment(config: EmulatorConfig, env: dict[str, str]) -> dict[str, str]:
    """Active tracing's variables: the unreserved ones (the X-Ray SDK's) go into ``env`` unless
    the function sets them (configuration-envvars.html); the rest are returned, to be set."""
    from lambdarig.rie_server.tracing import segments

    host, port = parse_address(config.xray_daemon_address, "--xray-daemon-address")
    variables = segments.runtime_environment(host, port)
    for key in segments.UNRESERVED_VARIABLES:
        env.setdefault(key, variables.pop(key))
    return variables


def task_root(config: EmulatorConfig, environ: Mapping[str, str]) -> str:
    """``LAMBDA_TASK_ROOT``: the caller's when set (an image or a base image sets it), else the
    directory the runtime starts in and resolves the handler from: ``config.cwd`` (``serve``'s
    ``--code``, or ``/var/task`` for a discovered bootstrap), else the current directory.
    aws-lambda-rie sets none; Lambda sets the directory the code was unpacked into."""
    return environ.get("LAMBDA_TASK_ROOT") or config.cwd or os.getcwd()


def parse_address(value: str, flag: str) -> tuple[str, int]:
    """``HOST:PORT`` → (host, port); raises ``ConfigError`` naming ``flag``."""
    address = split_address(value)
    if address is None:
        raise ConfigError(f"expected {flag} as HOST:PORT with PORT in 0-65535, got {value!r}")
    return address


def _executable_on_path(program: str, search_path: str) -> bool:
    """Whether ``shutil.which(program, path=search_path)`` finds it (its POSIX rules: a name with
    a directory part is checked as is, else each ``search_path`` entry in order; an executable
    file, not a directory). Not ``shutil`` itself: it loads bz2, lzma and fnmatch before the bind
    for this one lookup."""
    if os.path.dirname(program):
        candidates = [program]
    elif not search_path:
        return False
    else:
        candidates = [os.path.join(entry, program) for entry in search_path.split(os.pathsep)]
    return any(
        os.path.exists(name) and os.access(name, os.X_OK) and not os.path.isdir(name)
        for name in candidates
    )


def _resolve_command(
    command: list[str], environ: Mapping[str, str], candidates: Sequence[str]
) -> tuple[tuple[str, ...], str | None]:
    if command:
        program = command[0]
        if not _executable_on_path(program, environ.get("PATH", os.defpath)):
            raise ConfigError(
                f"expected an executable runtime command, got {program!r} "
                "(not found or not executable)"
            )
        return tuple(command), None
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            cwd = TASK_ROOT if os.path.isdir(TASK_ROOT) else None
            return (candidate,), cwd
    raise ConfigError(
        "expected a runtime command after the flags or an executable bootstrap at "
        f"{', '.join(candidates)}; found none"
    )


def _number(value: str, name: str, expected: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"expected {name} to be {expected}, got {value!r}") from None
    return number


def _whole(value: str, name: str, expected: str, low: int, high: int | None = None) -> int:
    text = value.strip()
    number = int(text) if text.isascii() and text.isdigit() else -1  # "-5" is not all digits
    if not low <= number <= (number if high is None else high):
        raise ConfigError(f"expected {name} to be {expected}, got {value!r}")
    return number


def _flag_or_variable(
    flag: str | None, flag_name: str, environ: Mapping[str, str], variable: str
) -> tuple[str, str]:
    """(text, name): the flag when given, else the variable (``""`` when unset or empty)."""
    return (flag, flag_name) if flag is not None else (environ.get(variable, ""), variable)


def _timeout(flag: str | None, environ: Mapping[str, str]) -> float:
    raw, name = _flag_or_variable(flag, "--timeout", environ, TIMEOUT_VAR)
    if not raw and flag is None:
        return DEFAULT_TIMEOUT_S
    expected = "a number of seconds > 0"
    timeout = _number(raw, name, expected)
    if not 0 < timeout < float("inf"):
        raise ConfigError(f"expected {name} to be {expected}, got {raw!r}")
    return timeout


def _memory(flag: str | None, environ: Mapping[str, str]) -> int:
    raw, name = _flag_or_variable(flag, "--memory", environ, MEMORY_VAR)
    if not raw and flag is None:
        return DEFAULT_MEMORY_MB
    low, high = MEMORY_RANGE_MB
    return _whole(raw, name, f"a whole number of MB in {low}-{high}", low, high)


def _managed_concurrency(environ: Mapping[str, str]) -> int | None:
    raw = environ.get("AWS_LAMBDA_MAX_CONCURRENCY")
    if not raw:
        return None
    return _whole(raw, "AWS_LAMBDA_MAX_CONCURRENCY", "a whole number >= 1", 1)


def _counts(max_concurrency: str, provisioned: str) -> tuple[int, int]:
    """``--max-concurrency`` and ``--provisioned``, which may not exceed it."""
    maximum = _whole(max_concurrency, "--max-concurrency", "a whole number >= 1", 1)
    expected = f"a whole number in 0-{maximum} (at most --max-concurrency)"
    return maximum, _whole(provisioned, "--provisioned", expected, 0, maximum)


def parse_retry_delays(flag: str | None) -> tuple[float, ...]:
    """``--async-retry-delays S,S``: raises ``ConfigError``."""
    if flag is None:
        return DEFAULT_RETRY_DELAYS_S
    expected = f"up to {MAX_RETRY_ATTEMPTS} comma-separated numbers of seconds >= 0"
    words = [word.strip() for word in flag.split(",")] if flag.strip() else []
    delays = tuple(_number(word, "--async-retry-delays", expected) for word in words)
    if len(delays) > MAX_RETRY_ATTEMPTS or not all(0 <= delay < float("inf") for delay in delays):
        raise ConfigError(f"expected --async-retry-delays to be {expected}, got {flag!r}")
    return delays


def parse_tracing(flag: str) -> Tracing:
    """``--tracing active|passthrough`` (any case); raises ``ConfigError``."""
    value = flag.lower()
    if value not in TRACING_CHOICES:
        expected = " or ".join(TRACING_CHOICES)
        raise ConfigError(f"expected --tracing to be {expected}, got {flag!r}")
    return Tracing.ACTIVE if value == "active" else Tracing.PASSTHROUGH


def _log_level(flag: str | None, environ: Mapping[str, str]) -> str:
    level = flag or environ.get("LOG_LEVEL", "info").lower()
    if level not in LOG_LEVELS:
        raise ConfigError(f"expected LOG_LEVEL to be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return level


def _log_format(environ: Mapping[str, str], managed: bool) -> LogFormat:
    raw = environ.get("AWS_LAMBDA_LOG_FORMAT")
    if not raw:
        return LogFormat.JSON if managed else LogFormat.TEXT
    for candidate in LogFormat:
        if raw.lower() == candidate.value.lower():
            return candidate
    raise ConfigError(f"expected AWS_LAMBDA_LOG_FORMAT to be Text or JSON, got {raw!r}")
