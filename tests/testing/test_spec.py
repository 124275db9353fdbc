from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambdarig.testing import FunctionSpec, HarnessConfigError, HarnessSettings


def test_settings_from_environ() -> None:
    settings = HarnessSettings.from_environ(
        {"LAMBDARIG_EMULATOR": "/opt/aws-lambda-rie --log-level debug", "PATH": "/bin"}
    )
    assert settings.emulator == ("/opt/aws-lambda-rie", "--log-level", "debug")
    assert settings.is_aws_rie and settings.base_env == {
        "LAMBDARIG_EMULATOR": "/opt/aws-lambda-rie --log-level debug",
        "PATH": "/bin",
    }
    explicit = HarnessSettings.from_environ(
        {"LAMBDARIG_AWSLAMBDARIC_PYTHON": "/ric/python"}, emulator="lambdarig-rie"
    )
    assert explicit.emulator == ("lambdarig-rie",) and not explicit.is_aws_rie
    assert explicit.awslambdaric_python == "/ric/python"
    assert HarnessSettings.from_environ({}).emulator == (
        sys.executable,
        "-m",
        "lambdarig.rie_server",
    )


def test_spec_is_hashable_and_normalised(tmp_path: Path) -> None:
    one = FunctionSpec.build("app.handler", code=tmp_path, env={"B": "2", "A": "1"}, runtime=["x"])
    two = FunctionSpec.build(
        "app.handler", code=str(tmp_path), env={"A": "1", "B": "2"}, runtime=("x",)
    )
    assert one == two and hash(one) == hash(two)
    assert one.env == (("A", "1"), ("B", "2")) and one.runtime == ("x",)


def test_spec_errors_say_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(HarnessConfigError, match="expected code= to be a directory, got '/nope'"):
        FunctionSpec.build("app.handler", code="/nope")
    with pytest.raises(
        HarnessConfigError, match="lambdarig, awslambdaric or a command list, got 'node'"
    ):
        FunctionSpec.build("app.handler", code=tmp_path, runtime="node")
    with pytest.raises(HarnessConfigError, match="positive timeout and memory, got 0, 128"):
        FunctionSpec.build("app.handler", code=tmp_path, timeout=0)
