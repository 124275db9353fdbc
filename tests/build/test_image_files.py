"""The Dockerfiles and the entrypoint script shipped in ``lambdarig/build/image_files`` (no Docker:
the files are read, and the entrypoint runs under /bin/sh with a stand-in interpreter)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lambdarig.build.images import IMAGE_FILES, VARIANTS

ENTRYPOINT = IMAGE_FILES / "lambda-entrypoint.sh"


@pytest.mark.parametrize("variant", VARIANTS)
def test_dockerfile_follows_the_base_image_convention(variant: str) -> None:
    text = (IMAGE_FILES / f"{variant}.Dockerfile").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    # For users: a python:3.X-slim default, declared before the first FROM so FROM can use it;
    # CI passes --build-arg BASE_IMAGE=lambdarig-base:... (build_image's base_image).
    assert re.fullmatch(r"ARG BASE_IMAGE=python:3\.\d+-slim", lines[0])
    assert [line for line in lines if line.startswith("FROM")] == [
        "FROM ${BASE_IMAGE} AS install",
        "FROM ${BASE_IMAGE}",
    ]
    assert "ENV LAMBDA_TASK_ROOT=/var/task \\" in lines
    assert "COPY function/ /var/task/" in lines
    assert lines[-2:] == ['ENTRYPOINT ["/lambda-entrypoint.sh"]', 'CMD ["app.handler"]']
    assert not [line for line in lines if re.search(r"\b(pip|curl|wget|apt-get)\b", line)]


def _entrypoint(tmp_path: Path, args: list[str], runtime_api: str | None, **env: str) -> list[str]:
    """Run the entrypoint with LAMBDARIG_PYTHON set to a stand-in that prints its argv."""
    python = tmp_path / "python3"
    python.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    python.chmod(0o755)
    environ = {"PATH": os.environ["PATH"], "LAMBDARIG_PYTHON": str(python), **env}
    if runtime_api is not None:
        environ["AWS_LAMBDA_RUNTIME_API"] = runtime_api
    done = subprocess.run(
        ["/bin/sh", str(ENTRYPOINT), *args],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    argv: list[str] = json.loads(done.stdout)
    return argv


def test_entrypoint_without_a_runtime_api_puts_the_emulator_in_front(tmp_path: Path) -> None:
    python = str(tmp_path / "python3")
    assert _entrypoint(tmp_path, ["app.handler"], None) == [
        "-m", "lambdarig.rie_server", python, "-m", "lambdarig.runtime_client", "app.handler",
    ]  # fmt: skip
    assert _entrypoint(tmp_path, ["app.handler"], "") == [
        "-m", "lambdarig.rie_server", python, "-m", "lambdarig.runtime_client", "app.handler",
    ]  # fmt: skip


def test_entrypoint_with_a_runtime_api_runs_the_client_directly(tmp_path: Path) -> None:
    assert _entrypoint(tmp_path, ["app.handler"], "127.0.0.1:9001") == [
        "-m",
        "lambdarig.runtime_client",
        "app.handler",
    ]
    variant = {"LAMBDARIG_RUNTIME_MODULE": "awslambdaric"}
    assert _entrypoint(tmp_path, ["app.handler"], "127.0.0.1:9001", **variant) == [
        "-m",
        "awslambdaric",
        "app.handler",
    ]


def test_entrypoint_wants_the_handler_as_its_only_argument(tmp_path: Path) -> None:
    done = subprocess.run(
        ["/bin/sh", str(ENTRYPOINT)], env={"PATH": os.environ["PATH"]}, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 142
    assert done.stderr == (
        "lambda-entrypoint.sh: expected the handler as the only argument (the image's CMD, e.g. "
        "app.handler), got 0 arguments\n"
    )


def test_aws_lambda_rie_in_images_is_our_emulator_with_the_same_arguments(tmp_path: Path) -> None:
    """Entrypoints written for AWS's emulator (``aws-lambda-rie python -m awslambdaric H``) run
    lambdarig's; the Dockerfiles install it at /usr/local/bin/aws-lambda-rie."""
    python = tmp_path / "python3"
    python.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    python.chmod(0o755)
    done = subprocess.run(
        ["/bin/sh", str(IMAGE_FILES / "aws-lambda-rie"), "--log-level", "debug",
         "/usr/bin/python3", "-m", "awslambdaric", "app.handler"],
        env={"PATH": os.environ["PATH"], "LAMBDARIG_PYTHON": str(python)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        "-m", "lambdarig.rie_server", "--log-level", "debug",
        "/usr/bin/python3", "-m", "awslambdaric", "app.handler",
    ]  # fmt: skip
    assert os.access(IMAGE_FILES / "aws-lambda-rie", os.X_OK)
    for variant in VARIANTS:
        dockerfile = (IMAGE_FILES / f"{variant}.Dockerfile").read_text()
        assert (
            "cp /build/lambdarig/build/image_files/aws-lambda-rie /out/usr/local/bin/aws-lambda-rie"
        ) in dockerfile
