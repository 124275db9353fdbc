"""``--tracing`` and ``--xray-daemon-address`` in ``EmulatorConfig``, and the runtime's X-Ray
variables."""

from __future__ import annotations

import sys

import pytest

from lambdarig.rie_server.choices import Tracing
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.errors import ConfigError

COMMAND = ["--", sys.executable]


def config(*flags: str, environ: dict[str, str] | None = None) -> EmulatorConfig:
    return EmulatorConfig.from_environ_and_args(environ or {}, [*flags, *COMMAND])


def test_passthrough_by_default_with_no_xray_variables() -> None:
    found = config()
    assert found.tracing is Tracing.PASSTHROUGH
    assert not [key for key in found.runtime_env if "XRAY" in key]


@pytest.mark.parametrize("value", ["active", "Active", "ACTIVE"])
def test_active_sets_the_variables_lambda_sets(value: str) -> None:
    found = config("--tracing", value, "--xray-daemon-address", "xray.local:2001")
    assert found.tracing is Tracing.ACTIVE
    xray = {key: value for key, value in found.runtime_env.items() if "XRAY" in key}
    assert xray == {
        "AWS_XRAY_DAEMON_ADDRESS": "xray.local:2001",
        "_AWS_XRAY_DAEMON_ADDRESS": "xray.local",
        "_AWS_XRAY_DAEMON_PORT": "2001",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    }


def test_the_default_daemon_address_is_the_daemons_default() -> None:
    found = config("--tracing", "active")
    assert found.xray_daemon_address == "127.0.0.1:2000"
    assert found.runtime_env["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:2000"


def test_the_functions_own_unreserved_values_win_the_underscored_ones_do_not() -> None:
    environ = {
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "elsewhere:2000",
        "_AWS_XRAY_DAEMON_PORT": "1",
    }
    env = config("--tracing", "active", environ=environ).runtime_env
    assert env["AWS_XRAY_CONTEXT_MISSING"] == "IGNORE_ERROR"
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "elsewhere:2000"
    assert env["_AWS_XRAY_DAEMON_PORT"] == "2000"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tracing", "on"], "expected --tracing to be active or passthrough, got 'on'"),
        (
            ["--xray-daemon-address", "2000"],
            "expected --xray-daemon-address as HOST:PORT with PORT in 0-65535, got '2000'",
        ),
    ],
)
def test_bad_values_say_what_was_expected(flags: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config(*flags)
    assert str(raised.value) == message
