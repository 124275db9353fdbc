"""``cli.hosting``: how a template's function becomes an emulator configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from lambdarig.cli.hosting import hosted_function
from lambdarig.project.model import Function, Project


def _config(tmp_path: Path, snap_start: Optional[str]):  # noqa: UP045
    function = Function(
        logical_id="Fn",
        name="fn",
        handler="app.handler",
        runtime="python3.12",
        code=tmp_path,
        snap_start=snap_start,
    )
    project = Project(tmp_path / "template.yaml", "stack", "us-east-1", "123456789012", (function,))
    return hosted_function(function, project, tmp_path, {}, []).config


@pytest.mark.parametrize(("apply_on", "expected"), [("PublishedVersions", True), (None, False)])
def test_snapstart_apply_on_published_versions(tmp_path: Path, apply_on, expected) -> None:
    config = _config(tmp_path, apply_on)
    assert config.snapstart is expected
    # configuration-envvars.html: the log group and stream are not set for SnapStart functions
    assert ("AWS_LAMBDA_LOG_GROUP_NAME" in config.runtime_env) is not expected
