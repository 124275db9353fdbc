from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lambdarig.build import wheels
from lambdarig.build.wheels import WheelError, unpack_wheels
from tests.build.wheelfactory import make_wheel


def test_unpack_wheels_puts_root_and_purelib_in_target(tmp_path: Path) -> None:
    make_wheel(
        tmp_path / "w",
        "alpha",
        "1.0",
        {
            "alpha/__init__.py": "A = 1\n",
            "alpha-1.0.data/purelib/beta.py": "B = 2\n",
            "alpha-1.0.data/headers/x.h": "",
        },
    )
    unpack_wheels(tmp_path / "w", tmp_path / "site")
    assert (tmp_path / "site" / "alpha" / "__init__.py").read_text() == "A = 1\n"
    assert (tmp_path / "site" / "beta.py").read_text() == "B = 2\n"
    assert not (tmp_path / "site" / "x.h").exists()
    assert (tmp_path / "site" / "alpha-1.0.dist-info" / "METADATA").is_file()


def test_unpack_refuses_escaping_entries(tmp_path: Path) -> None:
    make_wheel(tmp_path / "w", "evil", "1.0", {"../evil.py": "x"})
    with pytest.raises(
        WheelError, match=r"expected relative entries inside the wheel, got '\.\./evil\.py'"
    ):
        unpack_wheels(tmp_path / "w", tmp_path / "site")
    assert not (tmp_path / "evil.py").exists()


def test_script_mode_runs_without_lambdarig_on_the_path(tmp_path: Path) -> None:
    make_wheel(tmp_path / "w", "alpha", "1.0", {"alpha/__init__.py": ""})
    script = tmp_path / "install_wheels.py"
    script.write_bytes(Path(wheels.__file__).read_bytes())
    done = subprocess.run(
        [sys.executable, "-I", str(script), str(tmp_path / "w"), str(tmp_path / "site")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("install_wheels.py: 1 wheels, ")
    assert (tmp_path / "site" / "alpha" / "__init__.py").is_file()
