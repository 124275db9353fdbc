"""``cli.hosting``: how a template's function becomes an emulator configuration."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import pytest

from lambdarig.cli import CommandError
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


def _image_function(tmp_path: Path, **changes):
    function = Function(
        logical_id="Img",
        name="img",
        handler=None,
        runtime=None,
        code=None,
        package_type="Image",
        image_uri="app:latest",
    )
    function = dataclasses.replace(function, **changes)
    project = Project(tmp_path / "template.yaml", "stack", "us-east-1", "123456789012", (function,))
    warnings: list[str] = []
    return hosted_function(function, project, None, {}, warnings), warnings


def test_an_image_function_runs_its_image_with_image_config_command(tmp_path: Path) -> None:
    config = {"Command": ["app.other"], "EntryPoint": ["/x"], "WorkingDirectory": "/w"}
    hosted, warnings = _image_function(tmp_path, image_config=config)
    assert (hosted.config.image, hosted.config.command) == ("app:latest", ("app.other",))
    assert warnings == [
        f"lambdarig: warning: Img.ImageConfig.{key} is not applied yet: the image's own is"
        for key in ("EntryPoint", "WorkingDirectory")
    ]
    hosted, warnings = _image_function(tmp_path)
    assert (hosted.config.command, warnings) == ((), [])  # the image's CMD


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"image_uri": None},
            "Img: expected ImageUri (a local image) for PackageType Image, got None: build it "
            "(lambdarig image build DIR --tag TAG), then set ImageUri: TAG",
        ),
        (
            {"image_config": {"Command": "app.handler"}},
            "expected Img.ImageConfig.Command to be a list of strings, got 'app.handler'",
        ),
        (
            {"reserved_concurrency": -1},
            "Img: expected ReservedConcurrentExecutions >= 0, got -1",
        ),
    ],
)
def test_image_and_concurrency_mistakes_are_one_line(tmp_path: Path, changes, message) -> None:
    with pytest.raises(CommandError) as raised:
        _image_function(tmp_path, **changes)
    assert str(raised.value) == message
