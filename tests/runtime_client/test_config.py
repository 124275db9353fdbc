"""RuntimeConfig.from_environ: every variable, defaults and the one-line errors."""

from __future__ import annotations

import pytest

from lambdarig.runtime_client.config import RuntimeConfig
from lambdarig.runtime_client.errors import ClientConfigError

BASE = {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}


def test_minimal_environment_and_defaults() -> None:
    config = RuntimeConfig.from_environ(BASE, ["app.handler"])
    assert (config.runtime_api, config.handler) == ("127.0.0.1:9001", "app.handler")
    assert config.log_format == "Text"
    assert config.log_level is None
    assert config.execution_env is None
    assert config.telemetry_log_fd is None
    assert config.telemetry_fd_provider_socket is None
    assert config.initialization_type == "on-demand"
    assert config.max_concurrency is None
    assert (config.region, config.disable_preview_warning) == (None, False)
    assert config.task_root is None
    assert config.json_ensure_ascii is True


def test_every_variable_is_read() -> None:
    environ = {
        **BASE,
        "_HANDLER": "ignored.because_argv_wins",
        "AWS_LAMBDA_LOG_FORMAT": "json",
        "AWS_LAMBDA_LOG_LEVEL": "TRACE",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_LAMBDA_TELEMETRY_LOG_FD": "3",
        "_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET": "/tmp/fd.sock",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
        "AWS_LAMBDA_MAX_CONCURRENCY": "4",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
        "AWS_LAMBDA_LOG_STREAM_NAME": "stream",
        "AWS_REGION": "eu-west-1",
        "LAMBDA_DISABLE_PREVIEW_WARN": "1",
        "LAMBDA_TASK_ROOT": "/var/task",
    }
    config = RuntimeConfig.from_environ(environ, ["app.handler"])
    assert config.handler == "app.handler"
    assert (config.log_format, config.log_level) == ("JSON", "DEBUG")
    assert config.execution_env == "AWS_Lambda_python3.12"
    assert config.json_ensure_ascii is False
    assert (config.telemetry_log_fd, config.telemetry_fd_provider_socket) == (3, "/tmp/fd.sock")
    assert (config.initialization_type, config.max_concurrency) == ("snap-start", 4)
    assert (config.function_name, config.function_version, config.memory_size) == (
        "fn",
        "$LATEST",
        "128",
    )
    assert (config.log_group_name, config.log_stream_name) == ("/aws/lambda/fn", "stream")
    assert (config.region, config.disable_preview_warning) == ("eu-west-1", True)
    assert config.task_root == "/var/task"


def test_handler_falls_back_to_the_handler_variable() -> None:
    config = RuntimeConfig.from_environ({**BASE, "_HANDLER": "pkg/mod.fn"})
    assert config.handler == "pkg/mod.fn"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("INFO", "INFO"),
        ("warn", "WARN"),
        ("TRACE", "DEBUG"),
        # awslambdaric maps TRACE before upper-casing and keeps unknown names (they still select
        # its level-typed telemetry frames), so these are kept, upper-cased.
        ("trace", "TRACE"),
        ("verbose", "VERBOSE"),
        ("", None),
    ],
)
def test_log_level(raw: str, expected: str | None) -> None:
    config = RuntimeConfig.from_environ({**BASE, "AWS_LAMBDA_LOG_LEVEL": raw}, ["a.b"])
    assert config.log_level == expected


@pytest.mark.parametrize("raw", ["Text", "text", "", "xml"])
def test_anything_but_json_is_text(raw: str) -> None:
    config = RuntimeConfig.from_environ({**BASE, "AWS_LAMBDA_LOG_FORMAT": raw}, ["a.b"])
    assert config.log_format == "Text"


@pytest.mark.parametrize(
    "environ, argv, message",
    [
        (
            {},
            ["a.b"],
            "AWS_LAMBDA_RUNTIME_API is not set: expected the Runtime API's host:port "
            "(for example 127.0.0.1:9001)",
        ),
        (
            BASE,
            [],
            "no handler given: expected it as the first argument (for example app.handler) "
            "or in _HANDLER",
        ),
        (
            {**BASE, "AWS_LAMBDA_MAX_CONCURRENCY": "x"},
            ["a.b"],
            "AWS_LAMBDA_MAX_CONCURRENCY must be an integer, got 'x'",
        ),
        (
            {**BASE, "_LAMBDA_TELEMETRY_LOG_FD": "fd3"},
            ["a.b"],
            "_LAMBDA_TELEMETRY_LOG_FD must be an integer, got 'fd3'",
        ),
    ],
)
def test_config_errors(environ: dict[str, str], argv: list[str], message: str) -> None:
    with pytest.raises(ClientConfigError) as info:
        RuntimeConfig.from_environ(environ, argv)
    assert str(info.value) == message


def test_empty_numeric_variables_mean_unset() -> None:
    environ = {**BASE, "AWS_LAMBDA_MAX_CONCURRENCY": "", "_LAMBDA_TELEMETRY_LOG_FD": ""}
    config = RuntimeConfig.from_environ(environ, ["a.b"])
    assert (config.max_concurrency, config.telemetry_log_fd) == (None, None)
