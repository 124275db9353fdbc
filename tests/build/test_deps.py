from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lambdarig.build.deps import build_dependency_layer, platform_for
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
