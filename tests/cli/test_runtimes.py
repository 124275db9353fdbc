"""Which python runs a template function's ``Runtime``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambdarig.cli import CommandError
from lambdarig.cli.runtimes import python_for

OTHER = "python3.9" if sys.version_info[1] != 9 else "python3.10"


def test_the_current_version_is_the_current_interpreter() -> None:
    assert python_for(f"python3.{sys.version_info[1]}", {"PATH": ""}) == (sys.executable, None)


def test_path_then_pyenv_then_the_current_one_with_a_warning(tmp_path: Path) -> None:
    on_path = tmp_path / "bin" / OTHER
    on_path.parent.mkdir()
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert python_for(OTHER, {"PATH": str(on_path.parent)}) == (str(on_path), None)
    version = OTHER[len("python") :]
    pyenv = tmp_path / "pyenv" / "versions" / f"{version}.7" / "bin" / OTHER
    pyenv.parent.mkdir(parents=True)
    pyenv.write_text("")
    assert python_for(OTHER, {"PATH": "", "PYENV_ROOT": str(tmp_path / "pyenv")}) == (
        str(pyenv),
        None,
    )
    python, warning = python_for(OTHER, {"PATH": "", "HOME": str(tmp_path / "nobody")})
    assert python == sys.executable
    assert warning is not None and warning.startswith(f"lambdarig: warning: {OTHER} is not")


def test_a_pyenv_shim_on_path_is_passed_over_for_the_version_itself(tmp_path: Path) -> None:
    shim = tmp_path / "pyenv" / "shims" / OTHER  # fails unless `pyenv global` selects it
    shim.parent.mkdir(parents=True)
    shim.write_text("#!/bin/sh\nexit 127\n")
    shim.chmod(0o755)
    version = OTHER[len("python") :]
    real = tmp_path / "pyenv" / "versions" / f"{version}.1" / "bin" / OTHER
    real.parent.mkdir(parents=True)
    real.write_text("")
    environ = {"PATH": str(shim.parent), "PYENV_ROOT": str(tmp_path / "pyenv")}
    assert python_for(OTHER, environ) == (str(real), None)


@pytest.mark.parametrize("runtime", ["nodejs20.x", "python3.8", "python2.7", "python3.12x"])
def test_other_runtimes_are_refused(runtime: str) -> None:
    with pytest.raises(
        CommandError, match=f"expected a Runtime in python3.9-python3.13, got '{runtime}'"
    ):
        python_for(runtime, {})
