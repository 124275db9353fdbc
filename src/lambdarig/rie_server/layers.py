"""Lay out ``--layer`` zips and directories as Lambda lays out ``/opt``, and the paths it sets.

Lambda extracts a function's layers into ``/opt`` in the order they are listed; a later layer's file
replaces an earlier one's. In process mode we do the same into a per-function directory and point
``PYTHONPATH``, ``PATH`` and ``LD_LIBRARY_PATH`` at it as the service points them at ``/opt``; in
container mode that directory is mounted at ``/opt``.

Every zip entry is checked before anything is written: absolute names, ``..`` components, drive
letters and symbolic links are refused (zip-slip), as are links inside directory layers.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from lambdarig.rie_server.errors import LayerError


def _check_entry(layer: Path, info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise LayerError(
            f"layer {layer}: expected entries relative to /opt, got an absolute path "
            f"{info.filename!r}"
        )
    if ".." in path.parts:
        raise LayerError(
            f"layer {layer}: expected entries inside /opt, got {info.filename!r} which escapes it "
            f"with '..'"
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise LayerError(
            f"layer {layer}: expected regular files and directories, got a symbolic link "
            f"{info.filename!r} (links may point outside /opt)"
        )
    return path


def _extract_zip(layer: Path, dest: Path) -> None:
    try:
        archive = zipfile.ZipFile(layer)
    except (OSError, zipfile.BadZipFile) as exc:
        raise LayerError(f"layer {layer}: expected a zip file or a directory: {exc}") from exc
    with archive:
        checked = [(info, _check_entry(layer, info)) for info in archive.infolist()]
        for info, relative in checked:
            target = dest.joinpath(*relative.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir():
                shutil.rmtree(target)
            target.write_bytes(archive.read(info))
            target.chmod(0o755 if (info.external_attr >> 16) & 0o111 else 0o644)


def _copy_dir(layer: Path, dest: Path) -> None:
    for source in sorted(layer.rglob("*")):
        relative = source.relative_to(layer)
        if source.is_symlink():
            raise LayerError(
                f"layer {layer}: expected regular files and directories, got a symbolic link "
                f"{relative.as_posix()!r} (links may point outside /opt)"
            )
        target = dest / relative
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            target.chmod(0o755 if source.stat().st_mode & 0o111 else 0o644)


def prepare_opt(layers: Sequence[Path], dest: Path) -> Path:
    """Lay out ``layers`` (zips or directories, in order) into ``dest`` as Lambda fills ``/opt``.

    ``dest`` must not exist or be empty; it is created. Later layers overwrite earlier layers'
    files. Blocks while extracting. Raises LayerError (nothing is half-written for an unsafe zip:
    all its entries are checked before the first is extracted). Returns ``dest`` resolved.
    """
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise LayerError(f"expected an empty or new directory for /opt, got {dest} (not empty)")
    dest.mkdir(parents=True, exist_ok=True)
    for layer in layers:
        if layer.is_dir():
            _copy_dir(layer, dest)
        elif layer.is_file():
            _extract_zip(layer, dest)
        else:
            raise LayerError(f"expected a layer zip or directory at {layer}, nothing is there")
    return dest.resolve()


def _join(first: str | None, *rest: str) -> str:
    return ":".join(part for part in (first, *rest) if part)


# Where the service looks inside /opt, appended to what the runtime has: a layer's executables
# (``bin``, last on PATH) and shared libraries (``lib``, last on LD_LIBRARY_PATH). Process mode
# points them at the laid-out directory, container mode at the /opt it is mounted on.
OPT_SEARCH_DIRS = {"PATH": "bin", "LD_LIBRARY_PATH": "lib"}


def opt_search_paths(opt: str, base: Mapping[str, str]) -> dict[str, str]:
    """``PATH`` and ``LD_LIBRARY_PATH`` of ``base`` with ``opt``'s ``bin`` and ``lib`` appended
    (unless already there, as in Lambda's base images)."""
    paths = {}
    for name, sub in OPT_SEARCH_DIRS.items():
        entry = f"{opt.rstrip('/')}/{sub}"
        current = base.get(name) or ""
        paths[name] = current if entry in current.split(":") else _join(current, entry)
    return paths


def layer_environment(
    opt_dir: Path, python_version: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``PYTHONPATH``, ``PATH`` and ``LD_LIBRARY_PATH`` for a runtime whose ``/opt`` is ``opt_dir``.

    As the service does for ``/opt``: ``python/lib/python3.X/site-packages`` then ``python`` on the
    Python path, ``bin`` last on ``PATH``, ``lib`` last on ``LD_LIBRARY_PATH``. Each is appended
    after the same variable in ``base`` (so put the task root first there, as Lambda orders
    ``sys.path``: task root, layers, runtime). Raises LayerError for a version not like ``3.12``.
    """
    major, _, minor = python_version.partition(".")
    if major != "3" or not minor.isdigit():
        raise LayerError(
            f"expected a Python version like 3.12 for layer paths, got {python_version!r}"
        )
    base = base or {}
    opt = opt_dir.resolve()
    return {
        "PYTHONPATH": _join(
            base.get("PYTHONPATH"),
            str(opt / "python" / "lib" / f"python{python_version}" / "site-packages"),
            str(opt / "python"),
        ),
        **opt_search_paths(str(opt), base),
    }
