from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lambdarig.cli import main
from tests.build.wheelfactory import make_wheel


def test_layer_build_runtime_is_reproducible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["layer", "build", "runtime", "--out", str(tmp_path / "a.zip")]) == 0
    assert main(["layer", "build", "runtime", "--out", str(tmp_path / "b.zip")]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith(f"wrote {tmp_path / 'a.zip'}: ")
    assert first.split("sha256 ")[1] == second.split("sha256 ")[1]
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_layer_build_deps_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_wheel(tmp_path / "house", "alpha", "1.0", {"alpha/__init__.py": ""})
    (tmp_path / "requirements.txt").write_text("alpha\n")
    argv = ["layer", "build", "deps", "-r", str(tmp_path / "requirements.txt"), "--python",
            "3.13", "--arch", "arm64", "--out", str(tmp_path / "deps.zip"),
            "--pip-arg=--no-index", f"--pip-arg=--find-links={tmp_path / 'house'}"]  # fmt: skip
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == (  # progress while pip downloads (its own output is captured)
        f"downloading the wheels of {tmp_path / 'requirements.txt'} for Python 3.13 (arm64) "
        "with pip ...\n"
    )
    assert out.startswith(f"wrote {tmp_path / 'deps.zip'}: ")
    with zipfile.ZipFile(tmp_path / "deps.zip") as archive:
        assert "python/lib/python3.13/site-packages/alpha/__init__.py" in archive.namelist()


def test_layer_build_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["layer", "build", "deps", "--out", str(tmp_path / "d.zip")]) == 2
    assert capsys.readouterr().err == (
        "lambdarig: error: expected -r/--requirements FILE for a deps layer, got none\n"
    )
    argv = ["layer", "build", "deps", "-r", str(tmp_path / "none.txt"), "--out", "x.zip"]
    assert main(argv) == 2
    assert "expected a requirements file at" in capsys.readouterr().err


def test_layer_build_counts_what_shares_the_250_mb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tmp_path / "function"
    code.mkdir()
    with (code / "model.bin").open("wb") as big:  # sparse: 250 MB counted, nothing written
        big.truncate(250 * 1024 * 1024)
    argv = ["layer", "build", "runtime", "--out", str(tmp_path / "r.zip"), "--alongside", str(code)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lambdarig: error: layer r.zip unzips to ")
    assert "; with 250.0 MB (262,144,000 bytes) of function code and other layers that is " in err
    assert err.endswith(
        "; Lambda allows at most 250.0 MB (262,144,000 bytes) unzipped for a function and all "
        "its layers\n"
    )
    assert err.count("\n") == 1
    small = tmp_path / "small.zip"
    with zipfile.ZipFile(small, "w") as archive:
        archive.writestr("python/x.py", "X = 1\n")
    argv = [
        "layer",
        "build",
        "runtime",
        "--out",
        str(tmp_path / "ok.zip"),
        "--alongside",
        str(small),
    ]
    assert main(argv) == 0
    argv = [*argv[:-1], str(tmp_path / "missing.zip")]
    assert main(argv) == 2
    assert "expected function code or a layer (a directory or a zip) at " in capsys.readouterr().err
