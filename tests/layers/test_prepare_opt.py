from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from lambdarig.rie_server.environments.layers import layer_environment, prepare_opt
from lambdarig.rie_server.errors import ConfigError, LayerError


def _zip(path: Path, entries: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (
                stat.S_IFREG | (0o755 if name.startswith("bin/") else 0o644)
            ) << 16
            archive.writestr(info, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def test_layers_are_laid_out_in_order_later_ones_win(tmp_path: Path) -> None:
    first = _zip(tmp_path / "one.zip", {"python/shared.py": b"ONE", "bin/tool": b"#!/bin/sh\n"})
    second = tmp_path / "two"
    (second / "python").mkdir(parents=True)
    (second / "python" / "shared.py").write_text("TWO")
    (second / "lib").mkdir()
    (second / "lib" / "libx.so").write_bytes(b"\x7fELF")
    opt = prepare_opt([first, second], tmp_path / "opt")
    assert (opt / "python" / "shared.py").read_text() == "TWO"
    assert stat.S_IMODE((opt / "bin" / "tool").stat().st_mode) == 0o755
    assert (opt / "lib" / "libx.so").is_file()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../escape.py", r"got '\.\./escape\.py' which escapes it with '\.\.'"),
        ("python/../../escape.py", r"which escapes it with '\.\.'"),
        ("/etc/cron.d/evil", r"expected entries relative to /opt, got an absolute path '/etc/"),
        ("C:\\evil.py", r"got an absolute path 'C:\\\\evil\.py'"),
    ],
)
def test_zip_slip_is_refused_before_anything_is_written(
    tmp_path: Path, name: str, message: str
) -> None:
    layer = _zip(tmp_path / "evil.zip", {"python/ok.py": b"", name: b"x"})
    with pytest.raises(LayerError, match=message):
        prepare_opt([layer], tmp_path / "opt")
    assert not (tmp_path / "escape.py").exists()
    assert not (tmp_path / "opt" / "python" / "ok.py").exists()


def test_links_are_refused_in_zips_and_directories(tmp_path: Path) -> None:
    layer = _zip(tmp_path / "link.zip", {}, link="python/passwd")
    with pytest.raises(LayerError, match=r"got a symbolic link 'python/passwd'"):
        prepare_opt([layer], tmp_path / "opt1")
    directory = tmp_path / "dir"
    directory.mkdir()
    (directory / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(LayerError, match=r"got a symbolic link 'passwd'"):
        prepare_opt([directory], tmp_path / "opt2")


def test_unusable_layers_and_destinations(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"expected a layer zip or directory at .*missing\.zip"):
        prepare_opt([tmp_path / "missing.zip"], tmp_path / "opt1")
    (tmp_path / "notzip.zip").write_text("hello")
    with pytest.raises(LayerError, match=r"expected a zip file or a directory"):
        prepare_opt([tmp_path / "notzip.zip"], tmp_path / "opt2")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(ConfigError, match=r"expected an empty or new directory for /opt"):
        prepare_opt([], tmp_path / "full")


def test_layer_environment_follows_the_service_order(tmp_path: Path) -> None:
    opt = tmp_path.resolve()
    assert layer_environment(tmp_path, "3.12") == {
        "PYTHONPATH": f"{opt}/python/lib/python3.12/site-packages:{opt}/python",
        "PATH": f"{opt}/bin",
        "LD_LIBRARY_PATH": f"{opt}/lib",
    }
    base = {"PYTHONPATH": "/task", "PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": "/usr/lib64"}
    env = layer_environment(tmp_path, "3.9", base)
    assert env["PYTHONPATH"] == f"/task:{opt}/python/lib/python3.9/site-packages:{opt}/python"
    assert env["PATH"] == f"/usr/bin:/bin:{opt}/bin"
    assert env["LD_LIBRARY_PATH"] == f"/usr/lib64:{opt}/lib"
    with pytest.raises(LayerError, match="expected a Python version like 3.12 for layer paths"):
        layer_environment(tmp_path, "python3")
