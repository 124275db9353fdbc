from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest

from lambdarig.rie_server.choices import CompatMode, LogFormat
from lambdarig.rie_server.config import BOOTSTRAP_CANDIDATES, EmulatorConfig
from lambdarig.rie_server.errors import ConfigError

PY = sys.executable
BASE_ENV = {"PATH": os.environ.get("PATH", os.defpath)}


def load(argv: list[str], **environ: str) -> EmulatorConfig:
    return EmulatorConfig.from_environ_and_args({**BASE_ENV, **environ}, argv)


def fails(argv: list[str], **environ: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(argv, **environ)
    return str(caught.value)


def test_defaults_are_aws_lambda_ries() -> None:
    config = load([PY, "-m", "awslambdaric", "app.handler"])
    assert config.command == (PY, "-m", "awslambdaric", "app.handler")
    assert (config.invoke_host, config.invoke_port) == ("0.0.0.0", 8080)
    assert config.runtime_api_address == "127.0.0.1:9001"
    assert (config.timeout_s, config.memory_mb) == (300.0, 3008)
    assert config.init_timeout_s == 10.0  # the service's init phase limit
    assert config.async_retry_delays == (60.0, 120.0)
    assert config.log_level == "info"
    assert config.function.name == "test_function"
    assert config.function.version == "$LATEST"
    assert config.function.arn == "arn:aws:lambda:us-east-1:012345678912:function:test_function"
    assert config.handler == "app.handler"
    assert (config.max_concurrency, config.provisioned, config.lazy_init) == (10, 0, False)
    assert config.compat is CompatMode.SERVICE
    assert config.log_format is LogFormat.TEXT
    assert config.managed_concurrency is None


def test_flags() -> None:
    config = load(
        [
            "--runtime-interface-emulator-address",
            "127.0.0.1:0",
            "--runtime-api-address=127.0.0.1:0",
            "--log-level",
            "DEBUG",
            "--enable-init-caching",
            "--max-concurrency",
            "4",
            "--provisioned",
            "2",
            "--lazy-init",
            "--compat",
            "rie",
            "--memory",
            "256",
            "--timeout",
            "1.5",
            PY,
            "-m",
            "lambdarig.runtime_client",
            "app.handler",
        ]
    )
    assert (config.invoke_host, config.invoke_port) == ("127.0.0.1", 0)
    assert config.runtime_api_address == "127.0.0.1:0"
    assert (config.log_level, config.enable_init_caching) == ("debug", True)
    assert (config.max_concurrency, config.provisioned, config.lazy_init) == (4, 2, True)
    assert config.compat is CompatMode.RIE
    assert (config.memory_mb, config.timeout_s) == (256, 1.5)
    assert config.command[1:] == ("-m", "lambdarig.runtime_client", "app.handler")


def test_double_dash_separates_the_command() -> None:
    assert load(["--", PY, "-c", "pass"]).command == (PY, "-c", "pass")


AWS_FLAGS_LATE = [
    "--runtime-interface-emulator-address",
    "127.0.0.1:9000",
    "--runtime-api-address=127.0.0.1:9009",
    "--log-level=DEBUG",
    "--enable-init-caching",
]


@pytest.mark.parametrize(
    "argv",
    [
        # AWS's own end-to-end tests: the flags after the entrypoint and the handler.
        [PY, "-m", "awslambdaric", "app.handler", *AWS_FLAGS_LATE],
        # ... or in between the command's words; its unknown options stay where they are.
        [PY, "-m", *AWS_FLAGS_LATE[:2], "awslambdaric", *AWS_FLAGS_LATE[2:], "app.handler"],
    ],
)
def test_aws_lambda_rie_flags_are_read_after_the_command_too(argv: list[str]) -> None:
    config = load(argv)
    assert config.command == (PY, "-m", "awslambdaric", "app.handler")
    assert config.handler == "app.handler"
    assert (config.invoke_host, config.invoke_port) == ("127.0.0.1", 9000)
    assert config.runtime_api_address == "127.0.0.1:9009"
    assert (config.log_level, config.enable_init_caching) == ("debug", True)


def test_a_flag_given_again_after_the_command_wins() -> None:
    config = load(["--log-level", "warn", PY, "x.y", "--log-level", "error"])
    assert (config.log_level, config.command) == ("error", (PY, "x.y"))


def test_double_dash_ends_the_flags_anywhere() -> None:
    late = [PY, "x.y", "--", "--log-level", "debug", "--"]
    config = load(late)
    assert config.command == (PY, "x.y", "--log-level", "debug", "--")
    assert config.log_level == "info"
    assert load(["--", PY, "--log-level=debug"]).command == (PY, "--log-level=debug")


def test_our_flags_after_the_command_are_the_commands() -> None:
    # aws-lambda-rie passes what it does not know to the runtime: so do we for our own flags.
    config = load([PY, "x.y", "--timeout", "5", "--memory=256", "--max", "-h"])
    assert config.command == (PY, "x.y", "--timeout", "5", "--memory=256", "--max", "-h")
    assert (config.timeout_s, config.memory_mb) == (300.0, 3008)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([PY, "x.y", "--runtime-interface-emulator-address"], "argument "),
        ([PY, "x.y", "--log-level", "loud"], "argument --log-level: invalid choice: 'loud'"),
        (
            [PY, "x.y", "--runtime-interface-emulator-address=8080"],
            "expected --runtime-interface-emulator-address as HOST:PORT",
        ),
        ([PY, "x.y", "--enable-init-caching=yes"], "argument --enable-init-caching: ignored"),
    ],
)
def test_bad_flags_after_the_command_are_one_line_errors(argv: list[str], message: str) -> None:
    got = fails(argv)
    assert got.startswith(message) and "\n" not in got


def test_environment_variables() -> None:
    config = load(
        [PY, "x.y"],
        AWS_LAMBDA_FUNCTION_TIMEOUT="7",
        AWS_LAMBDA_FUNCTION_NAME="MyCoolName",
        AWS_LAMBDA_FUNCTION_VERSION="3",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512",
        AWS_LAMBDA_LOG_FORMAT="json",
        AWS_REGION="eu-west-1",
        LOG_LEVEL="warn",
    )
    assert (config.timeout_s, config.memory_mb) == (7.0, 512)
    assert config.function.arn == "arn:aws:lambda:eu-west-1:012345678912:function:MyCoolName"
    assert config.function.version == "3"
    assert config.log_format is LogFormat.JSON
    assert config.log_level == "warn"


def test_flags_override_environment() -> None:
    config = load(["--timeout", "2", "--memory", "1024", PY], AWS_LAMBDA_FUNCTION_TIMEOUT="9")
    assert (config.timeout_s, config.memory_mb) == (2.0, 1024)


def test_handler_precedence() -> None:
    assert load([PY, "-m", "ric", "cli.handler"]).handler == "cli.handler"
    assert load([PY, "-m", "ric", "cli.handler"], _HANDLER="h.env").handler == "h.env"
    env = {"_HANDLER": "h.env", "AWS_LAMBDA_FUNCTION_HANDLER": "h.fn"}
    assert load([PY, "-m", "ric", "cli.handler"], **env).handler == "h.fn"
    assert load([PY]).handler is None


def test_runtime_environment_as_the_service_sets_it() -> None:
    config = load(
        [PY, "-m", "ric", "app.handler"],
        CUSTOM="1",
        AWS_LAMBDA_FUNCTION_NAME="fn",
        AWS_LAMBDA_RUNTIME_API="1.2.3.4:1",
        LANG="C.UTF-8",
    )
    env = config.runtime_env
    assert env["CUSTOM"] == "1"
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "3008"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/Functions"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == "$LATEST"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["LANG"] == "C.UTF-8"  # unreserved: the caller's value wins
    assert env["TZ"] == ":UTC"
    assert "AWS_LAMBDA_RUNTIME_API" not in env  # each environment sets its own
    assert "AWS_LAMBDA_MAX_CONCURRENCY" not in env


def test_task_root_is_the_callers_else_where_the_runtime_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    here = os.getcwd()
    assert load([PY, "-m", "ric", "app.handler"]).runtime_env["LAMBDA_TASK_ROOT"] == here
    given = load([PY, "app.handler"], LAMBDA_TASK_ROOT="/srv/fn").runtime_env
    assert given["LAMBDA_TASK_ROOT"] == "/srv/fn"
    # lambdarig serve runs the runtime in --code: the same rule gives that directory.
    serve = dataclasses.replace(load([PY, "app.handler"]), cwd="/code/dir")
    assert serve.with_runtime_env(BASE_ENV).runtime_env["LAMBDA_TASK_ROOT"] == "/code/dir"


def test_reserved_variables_win_over_the_callers() -> None:
    env = load(["--memory", "256", PY, "x.y"], AWS_LAMBDA_FUNCTION_MEMORY_SIZE="999").runtime_env
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"


def test_managed_instances_mode() -> None:
    config = load([PY], AWS_LAMBDA_MAX_CONCURRENCY="4")
    assert config.managed_concurrency == 4
    assert config.runtime_env["AWS_LAMBDA_MAX_CONCURRENCY"] == "4"
    assert config.log_format is LogFormat.JSON  # RIE-LMI's default


def test_layers_and_image(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    config = load(["--layer", str(layer), "--layer", str(layer), PY, "-m", "ric", "a.b"])
    assert config.layers == (str(layer), str(layer))
    assert config.image is None
    image = load(["--image", "my-fn:latest", "app.handler"])
    assert (image.image, image.command, image.handler) == (
        "my-fn:latest",
        ("app.handler",),
        "app.handler",
    )
    no_cmd = load(["--image", "my-fn:latest"], AWS_LAMBDA_FUNCTION_HANDLER="h.x")
    assert (no_cmd.command, no_cmd.handler) == ((), "h.x")
    missing = str(tmp_path / "nope.zip")
    assert fails(["--layer", missing, PY]) == (
        f"expected a layer zip or directory at {missing}, nothing is there"
    )


def test_bootstrap_discovery(tmp_path: Path) -> None:
    bootstrap = tmp_path / "bootstrap"
    bootstrap.write_text("#!/bin/sh\n")
    bootstrap.chmod(0o755)
    missing = str(tmp_path / "missing")
    config = EmulatorConfig.from_environ_and_args(
        BASE_ENV, [], bootstrap_candidates=(missing, str(bootstrap))
    )
    assert config.command == (str(bootstrap),)
    with pytest.raises(ConfigError, match="expected a runtime command after the flags"):
        EmulatorConfig.from_environ_and_args(BASE_ENV, [], bootstrap_candidates=(missing,))


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (
            ["--timeout", "abc", PY],
            {},
            "expected --timeout to be a number of seconds > 0, got 'abc'",
        ),
        (["--timeout", "0", PY], {}, "expected --timeout to be a number of seconds > 0, got '0'"),
        (["--timeout", "-1", PY], {}, "expected --timeout to be a number of seconds > 0, got '-1'"),
        (
            ["--timeout", "nan", PY],
            {},
            "expected --timeout to be a number of seconds > 0, got 'nan'",
        ),
        (
            ["--timeout", "inf", PY],
            {},
            "expected --timeout to be a number of seconds > 0, got 'inf'",
        ),
        (
            [PY],
            {"AWS_LAMBDA_FUNCTION_TIMEOUT": "3s"},
            "expected AWS_LAMBDA_FUNCTION_TIMEOUT to be a number of seconds > 0, got '3s'",
        ),
        (
            [PY],
            {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"},
            "expected AWS_LAMBDA_FUNCTION_MEMORY_SIZE to be a whole number of MB in 128-10240, "
            "got 'lots'",
        ),
        (
            ["--memory", "64", PY],
            {},
            "expected --memory to be a whole number of MB in 128-10240, got '64'",
        ),
        (
            ["--memory", "-512", PY],
            {},
            "expected --memory to be a whole number of MB in 128-10240, got '-512'",
        ),
        (
            ["--memory", "1.5", PY],
            {},
            "expected --memory to be a whole number of MB in 128-10240, got '1.5'",
        ),
        (
            [PY],
            {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "99999"},
            "expected AWS_LAMBDA_FUNCTION_MEMORY_SIZE to be a whole number of MB in 128-10240, "
            "got '99999'",
        ),
        (
            ["--runtime-interface-emulator-address", "8080", PY],
            {},
            "expected --runtime-interface-emulator-address as HOST:PORT with PORT in 0-65535, "
            "got '8080'",
        ),
        (
            ["--runtime-api-address", "localhost:99999", PY],
            {},
            "expected --runtime-api-address as HOST:PORT with PORT in 0-65535, "
            "got 'localhost:99999'",
        ),
        (
            ["--runtime-interface-emulator-address", ":8080", PY],
            {},
            "expected --runtime-interface-emulator-address as HOST:PORT with PORT in 0-65535, "
            "got ':8080'",
        ),
        (
            ["--max-concurrency", "0", PY],
            {},
            "expected --max-concurrency to be a whole number >= 1, got '0'",
        ),
        (
            ["--max-concurrency", "two", PY],
            {},
            "expected --max-concurrency to be a whole number >= 1, got 'two'",
        ),
        (
            ["--max-concurrency", "2", "--provisioned", "3", PY],
            {},
            "expected --provisioned to be a whole number in 0-2 (at most --max-concurrency), "
            "got '3'",
        ),
        (
            ["--provisioned", "-1", PY],
            {},
            "expected --provisioned to be a whole number in 0-10 (at most --max-concurrency), "
            "got '-1'",
        ),
        (["--log-level", "loud", PY], {}, "argument --log-level: invalid choice: 'loud'"),
        (
            [PY],
            {"LOG_LEVEL": "loud"},
            "expected LOG_LEVEL to be one of trace, debug, info, warn, error, fatal, panic, "
            "got 'loud'",
        ),
        (
            ["--async-retry-delays", "1,2,3", PY],
            {},
            "expected --async-retry-delays to be up to 2 comma-separated numbers of seconds >= 0, "
            "got '1,2,3'",
        ),
        (
            ["--async-retry-delays", "1,soon", PY],
            {},
            "expected --async-retry-delays to be up to 2 comma-separated numbers of seconds >= 0, "
            "got 'soon'",
        ),
        (
            ["--async-retry-delays", "-1", PY],
            {},
            "expected --async-retry-delays to be up to 2 comma-separated numbers of seconds >= 0, "
            "got '-1'",
        ),
        (["--compat", "sam", PY], {}, "argument --compat: invalid choice: 'sam'"),
        (["--no-such-flag", PY], {}, "unrecognized arguments: --no-such-flag"),
        (
            [PY],
            {"AWS_LAMBDA_MAX_CONCURRENCY": "many"},
            "expected AWS_LAMBDA_MAX_CONCURRENCY to be a whole number >= 1, got 'many'",
        ),
        (
            [PY],
            {"AWS_LAMBDA_LOG_FORMAT": "xml"},
            "expected AWS_LAMBDA_LOG_FORMAT to be Text or JSON, got 'xml'",
        ),
        (
            ["no-such-runtime-binary-xyz"],
            {},
            "expected an executable runtime command, got 'no-such-runtime-binary-xyz' "
            "(not found or not executable)",
        ),
    ],
)
def test_bad_values_are_one_line_errors(
    argv: list[str], environ: dict[str, str], message: str
) -> None:
    got = fails(argv, **environ)
    assert got.startswith(message)
    assert "\n" not in got


def test_event_retry_delays() -> None:
    assert load([PY]).async_retry_delays == (60.0, 120.0)
    assert load(["--async-retry-delays", "0.1, 0.2", PY]).async_retry_delays == (0.1, 0.2)
    assert load(["--async-retry-delays", "5", PY]).async_retry_delays == (5.0,)
    assert load(["--async-retry-delays", "", PY]).async_retry_delays == ()


def test_log_level_names_are_aws_lambda_ries() -> None:
    assert load([PY]).log_level == "info"
    for level in ("trace", "debug", "info", "warn", "error", "fatal", "panic"):
        assert load(["--log-level", level.upper(), PY]).log_level == level


def test_log_group_and_stream_are_the_callers_when_given() -> None:
    env = load(
        [PY, "x.y"], AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/mine", AWS_LAMBDA_LOG_STREAM_NAME="s1"
    ).runtime_env
    assert (env["AWS_LAMBDA_LOG_GROUP_NAME"], env["AWS_LAMBDA_LOG_STREAM_NAME"]) == (
        "/aws/lambda/mine",
        "s1",
    )


def test_bootstrap_is_looked_for_where_aws_lambda_rie_looks() -> None:
    assert BOOTSTRAP_CANDIDATES == (
        "/var/task/bootstrap",
        "/opt/bootstrap",
        "/var/runtime/bootstrap",
    )


def test_the_runtime_command_is_found_as_shutil_which_finds_it(tmp_path: Path) -> None:
    # The check runs before the bind without loading shutil: same answer as shutil.which.
    import shutil

    runnable, plain, folder = tmp_path / "runnable", tmp_path / "plain", tmp_path / "folder"
    runnable.write_text("#!/bin/sh\n")
    runnable.chmod(0o755)
    plain.write_text("")
    folder.mkdir()
    folder.chmod(0o755)
    searches = [str(tmp_path), "", f"/no/such/dir{os.pathsep}{tmp_path}", os.defpath]
    names = ["runnable", "plain", "folder", "missing", str(runnable), str(plain), str(folder)]
    names += ["sh", f"{tmp_path.name}/runnable", "./runnable"]
    for search in searches:
        for name in names:
            expected = shutil.which(name, path=search) is not None
            try:
                EmulatorConfig.from_environ_and_args({"PATH": search}, [name])
                found = True
            except ConfigError:
                found = False
            assert found == expected, (name, search)


def test_help_is_sized_for_the_terminal_as_argparse_sizes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import argparse

    from lambdarig.rie_server.arguments import build_parser

    for columns in ("50", "100", "160"):
        monkeypatch.setenv("COLUMNS", columns)
        ours, plain = build_parser(), build_parser()
        plain.formatter_class = argparse.RawDescriptionHelpFormatter
        assert ours.format_help() == plain.format_help()
        assert ours.format_usage() == plain.format_usage()
