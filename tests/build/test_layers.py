from __future__ import annotations

import hashlib
import stat
import zipfile
from pathlib import Path

import pytest

from lambdarig.build.errors import LayerLimitExceeded, LayerSourceError
from lambdarig.build.layers import (
    ZIP_EPOCH,
    LayerZip,
    build_runtime_layer,
    check_limits,
    collect_tree,
    write_zip,
)


def _tree(root: Path) -> Path:
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("X = 1\n")
    (root / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    (root / "tool").write_text("#!/bin/sh\necho hi\n")
    (root / "tool").chmod(0o700)
    return root


def test_write_zip_is_byte_identical_across_builds_and_mtimes(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    first = write_zip(collect_tree(source, "python"), tmp_path / "a.zip")
    (source / "pkg" / "__init__.py").touch()  # a new mtime must not change the bytes
    second = write_zip(collect_tree(source, "python"), tmp_path / "b.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256 == hashlib.sha256(first.path.read_bytes()).hexdigest()


def test_write_zip_sorts_entries_fixes_time_and_modes(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    layer = write_zip(collect_tree(source, "python") | {"a.txt": b"hello"}, tmp_path / "l.zip")
    with zipfile.ZipFile(layer.path) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == ["a.txt", "python/pkg/__init__.py", "python/tool"]
    assert {info.date_time for info in infos} == {ZIP_EPOCH}
    modes = {info.filename: stat.S_IMODE(info.external_attr >> 16) for info in infos}
    assert modes == {"a.txt": 0o644, "python/pkg/__init__.py": 0o644, "python/tool": 0o755}
    assert layer.entries == 3
    assert layer.unzipped_bytes == 5 + len("X = 1\n") + len("#!/bin/sh\necho hi\n")


def test_collect_tree_refuses_links_and_missing_dirs(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    (source / "link").symlink_to("/etc/passwd")
    with pytest.raises(LayerSourceError, match="got a link or special file: .*link"):
        collect_tree(source, "")
    with pytest.raises(LayerSourceError, match="expected a directory to put in the layer"):
        collect_tree(tmp_path / "absent", "")


def _fake(zipped: int, unzipped: int) -> LayerZip:
    return LayerZip(Path("deps.zip"), "0" * 64, zipped, unzipped, 1)


def test_check_limits_accepts_at_the_limit_and_names_the_excess() -> None:
    check_limits(_fake(50 * 1024 * 1024, 250 * 1024 * 1024))
    with pytest.raises(LayerLimitExceeded) as zipped:
        check_limits(_fake(50 * 1024 * 1024 + 1, 10))
    assert str(zipped.value) == (
        "layer deps.zip is 50.0 MB (52,428,801 bytes) zipped; Lambda accepts at most 50.0 MB "
        "(52,428,800 bytes) for a direct upload (upload it to S3 and publish from there, or "
        "split it)"
    )
    with pytest.raises(LayerLimitExceeded) as unzipped:
        check_limits(_fake(10, 200 * 1024 * 1024), function_unzipped_bytes=60 * 1024 * 1024)
    assert str(unzipped.value) == (
        "layer deps.zip unzips to 200.0 MB (209,715,200 bytes); with 60.0 MB (62,914,560 bytes) "
        "of function code and other layers that is 260.0 MB (272,629,760 bytes); Lambda allows "
        "at most 250.0 MB (262,144,000 bytes) unzipped for a function and all its layers"
    )


def test_runtime_layer_carries_only_the_stdlib_client_and_is_reproducible(tmp_path: Path) -> None:
    first = build_runtime_layer(tmp_path / "one.zip")
    second = build_runtime_layer(tmp_path / "two.zip")
    assert first.sha256 == second.sha256
    with zipfile.ZipFile(first.path) as archive:
        names = archive.namelist()
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in archive.infolist()}
    assert "python/lambdarig/__init__.py" in names
    assert "python/lambdarig/runtime_api.py" in names
    assert "python/lambdarig/runtime_client/__init__.py" in names
    assert not [
        n for n in names if n.startswith(("python/lambdarig/rie_server", "python/lambdarig/build"))
    ]
    assert not [
        n
        for n in names
        if n.startswith("python/lambdarig/")
        and n.count("/") == 2
        and n.split("/")[2] not in ("__init__.py", "py.typed", "runtime_api.py")
    ]
    assert modes["bin/lambdarig-wrapper"] == 0o755
    assert modes["bootstrap"] == 0o755
