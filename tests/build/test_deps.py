from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from lambdarig.build.deps import (
    build_dependency_layer,
    download_wheels,
    download_wheels_cached,
    platform_for,
)
from lambdarig.build.errors import DependencyError, LayerSourceError
from tests.build.wheelfactory import make_wheel


def _offline(tmp_path: Path) -> tuple[Path, list[str]]:
    wheelhouse = tmp_path / "wheelhouse"
    make_wheel(wheelhouse, "alpha", "1.0", {"alpha/__init__.py": "A = 1\n"})
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==1.0\n")
    return requirements, ["--no-index", "--find-links", str(wheelhouse)]


def test_dependency_layer_lays_out_site_packages_reproducibly(tmp_path: Path) -> None:
    requirements, offline = _offline(tmp_path)
    one = build_dependency_layer(
        requirements, tmp_path / "a.zip", python_version="3.12", pip_args=offline
    )
    two = build_dependency_layer(
        requirements, tmp_path / "b.zip", python_version="3.12", pip_args=offline
    )
    assert one.sha256 == two.sha256
    with zipfile.ZipFile(one.path) as archive:
        names = archive.namelist()
    assert "python/lib/python3.12/site-packages/alpha/__init__.py" in names
    assert "python/lib/python3.12/site-packages/alpha-1.0.dist-info/METADATA" in names


def test_dependency_layer_reports_pip_failure(tmp_path: Path) -> None:
    requirements, offline = _offline(tmp_path)
    requirements.write_text("not-a-package-here==9\n")
    with pytest.raises(
        DependencyError,
        match=r"expected pip to download binary wheels for "
        r"Python 3\.11 on arm64, it exited with status 1:\n(.|\n)*not-a-package-here",
    ):
        build_dependency_layer(
            requirements, tmp_path / "a.zip", python_version="3.11", arch="arm64", pip_args=offline
        )


def test_dependency_layer_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(LayerSourceError, match="expected a requirements file at"):
        build_dependency_layer(tmp_path / "none.txt", tmp_path / "a.zip", python_version="3.12")
    with pytest.raises(DependencyError, match=r"expected a Python version like 3\.12, got '312'"):
        _, offline = _offline(tmp_path)
        build_dependency_layer(
            tmp_path / "requirements.txt",
            tmp_path / "a.zip",
            python_version="312",
            pip_args=offline,
        )
    assert platform_for("arm64") == "manylinux2014_aarch64"
    with pytest.raises(DependencyError, match=r"among \['arm64', 'x86_64'\], got 'sparc'"):
        platform_for("sparc")


def _recording_python(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in interpreter that records its argv as JSON and leaves one wheel in --dest."""
    record = tmp_path / "argv.json"
    script = tmp_path / "python-recorder"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        f"pathlib.Path({str(record)!r}).write_text(json.dumps(sys.argv[1:]))\n"
        "dest = pathlib.Path(sys.argv[sys.argv.index('--dest') + 1])\n"
        "(dest / 'alpha-1.0-py3-none-any.whl').write_bytes(b'wheel')\n"
    )
    script.chmod(0o755)
    return script, record


def test_download_asks_pip_for_binary_wheels_of_the_lambda_platform(tmp_path: Path) -> None:
    python, record = _recording_python(tmp_path)
    found = download_wheels(
        ["-r", "requirements.txt"], tmp_path / "out", python_version="3.12", arch="arm64",
        pip_args=["--no-index"], python=str(python),
    )  # fmt: skip
    assert [w.name for w in found] == ["alpha-1.0-py3-none-any.whl"]
    argv = json.loads(record.read_text())
    assert argv[:2] == ["-m", "pip"] and argv[2] == "download"
    for flag in (
        ["--only-binary=:all:"],
        ["--platform", "manylinux2014_aarch64"],
        ["--python-version", "3.12"],
        ["--implementation", "cp"],
        ["--dest", str(tmp_path / "out")],
    ):
        assert any(argv[i : i + len(flag)] == flag for i in range(len(argv))), (flag, argv)
    assert argv[-3:] == ["--no-index", "-r", "requirements.txt"]


def test_wheel_cache_reuses_a_download_with_the_same_key(tmp_path: Path) -> None:
    requirements, offline = _offline(tmp_path)
    cache = tmp_path / "cache"
    fetch = {"cache": cache, "python_version": "3.12", "pip_args": offline}
    first, hit = download_wheels_cached(["-r", str(requirements)], tmp_path / "a", **fetch)
    assert not hit and [w.name for w in first] == ["alpha-1.0-py3-none-any.whl"]
    # No pip at all the second time: an interpreter that does not exist would fail.
    fetch_without_pip = {**fetch, "python": str(tmp_path / "no-python")}
    second, hit = download_wheels_cached(
        ["-r", str(requirements)], tmp_path / "b", **fetch_without_pip
    )
    assert hit and [w.read_bytes() for w in second] == [w.read_bytes() for w in first]
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []  # no scratch left


def test_wheel_cache_key_covers_requirements_content_python_and_platform(tmp_path: Path) -> None:
    requirements, offline = _offline(tmp_path)
    cache = tmp_path / "cache"
    argv = ["-r", str(requirements)]
    download_wheels_cached(
        argv, tmp_path / "a", cache=cache, python_version="3.12", pip_args=offline
    )
    requirements.write_text("alpha==1.0  # edited\n")
    for n, (version, arch) in enumerate(
        [("3.12", "x86_64"), ("3.13", "x86_64"), ("3.12", "arm64")]
    ):
        _, hit = download_wheels_cached(
            argv, tmp_path / f"b{n}", cache=cache, python_version=version, arch=arch,
            pip_args=offline,
        )  # fmt: skip
        assert not hit, (version, arch)
    assert len([p for p in cache.iterdir() if not p.name.startswith(".")]) == 4


def test_wheel_cache_keeps_nothing_from_a_failed_download(tmp_path: Path) -> None:
    requirements, offline = _offline(tmp_path)
    requirements.write_text("not-a-package-here==9\n")
    cache = tmp_path / "cache"
    with pytest.raises(DependencyError, match="not-a-package-here"):
        download_wheels_cached(
            ["-r", str(requirements)], tmp_path / "a", cache=cache, python_version="3.12",
            pip_args=offline,
        )  # fmt: skip
    assert list(cache.iterdir()) == []
