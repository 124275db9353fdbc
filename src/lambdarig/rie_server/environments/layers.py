"""Lay out ``--layer`` zips and directories as Lambda lays out ``/opt``, and the paths it sets.

Lambda extracts a function's layers into ``/opt`` in the order they are listed; a later layer's file
replaces an earlier one's. In process mode we do the same into a per-function directory and point
``PYTHONPATH``, ``PATH`` and ``LD_LIBRARY_PATH`` at it as the service points them at ``/opt``; in
container mode that directory is mounted at ``/opt``.

Every zip entry is checked before anything is written: absolute names, ``..`` components, drive
letters and symbolic links are refused (zip-slip), as are links inside directory layers. Sizes are
bounded as the service bounds them (``zip_bounds``): at most 250 MB unzipped for all the layers
together, checked on the declared sizes first and on the bytes written as they are streamed; at most
``MAX_ENTRIES`` entries per zip, counted before ``zipfile`` loads the central directory. A failed or
cancelled layout removes what it wrote.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from lambdarig.rie_server.environments.zip_bounds import (
    MAX_ENTRIES,
    UNZIPPED_LIMIT_BYTES,
    Budget,
    Cancel,
    check_cancel,
    count_entries,
)
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


def _unzip_errors(layer: Path, name: str, exc: Exception) -> LayerError:
    return LayerError(f"layer {layer}: expected a readable zip, entry {name!r} is not: {exc}")


def _extract_zip(
    layer: Path, dest: Path, budget: Budget, max_entries: int, cancel: Cancel | None
) -> None:
    count_entries(layer, max_entries)  # before zipfile loads every entry into memory
    try:
        archive = zipfile.ZipFile(layer)
    except (OSError, zipfile.BadZipFile) as exc:
        raise LayerError(f"layer {layer}: expected a zip file or a directory: {exc}") from exc
    with archive:
        checked = [(info, _check_entry(layer, info)) for info in archive.infolist()]
        budget.declare(layer, sum(info.file_size for info, _ in checked))
        for info, relative in checked:
            check_cancel(cancel)
            target = dest.joinpath(*relative.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir():
                shutil.rmtree(target)
            try:
                with archive.open(info) as source, open(target, "wb") as out:
                    budget.copy(layer, source, out, cancel)
            # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression.
            except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError) as exc:
                raise _unzip_errors(layer, info.filename, exc) from exc
            target.chmod(0o755 if (info.external_attr >> 16) & 0o111 else 0o644)


def _directory_entries(layer: Path, max_entries: int) -> list[Path]:
    """Every entry under the directory ``layer``, sorted; LayerError for a link or past
    ``max_entries``."""
    found: list[Path] = []
    for directory, dirnames, filenames in os.walk(layer):
        for name in [*dirnames, *filenames]:
            source = Path(directory, name)
            if source.is_symlink():
                raise LayerError(
                    f"layer {layer}: expected regular files and directories, got a symbolic link "
                    f"{source.relative_to(layer).as_posix()!r} (links may point outside /opt)"
                )
            found.append(source)
            if len(found) > max_entries:
                raise LayerError(
                    f"layer {layer}: expected at most {max_entries:,} entries in a layer, it has "
                    "more"
                )
    return sorted(found)


def _copy_dir(
    layer: Path, dest: Path, budget: Budget, max_entries: int, cancel: Cancel | None
) -> None:
    sources = _directory_entries(layer, max_entries)
    budget.declare(layer, sum(s.stat().st_size for s in sources if s.is_file()))
    for source in sources:
        check_cancel(cancel)
        target = dest / source.relative_to(layer)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(source, "rb") as data, open(target, "wb") as out:
                budget.copy(layer, data, out, cancel)
            target.chmod(0o755 if source.stat().st_mode & 0o111 else 0o644)


def prepare_opt(
    layers: Sequence[Path],
    dest: Path,
    *,
    limit: int = UNZIPPED_LIMIT_BYTES,
    max_entries: int = MAX_ENTRIES,
    cancel: Cancel | None = None,
) -> Path:
    """Lay out ``layers`` (zips or directories, in order) into ``dest`` as Lambda fills ``/opt``.

    ``dest`` must not exist or be empty; it is created. Later layers overwrite earlier layers'
    files. The layers together may take ``limit`` bytes unzipped (Lambda's 250 MB), each at most
    ``max_entries`` entries. Blocks while extracting (run it in a worker thread from an event
    loop); ``cancel`` is asked between chunks. Raises LayerError, or LayoutCancelled once
    ``cancel`` is set; either way ``dest`` is left as it was (what was written is removed).
    Returns ``dest`` resolved.
    """
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise LayerError(f"expected an empty or new directory for /opt, got {dest} (not empty)")
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    budget = Budget(limit)
    try:
        for layer in layers:
            if layer.is_dir():
                _copy_dir(layer, dest, budget, max_entries, cancel)
            elif layer.is_file():
                _extract_zip(layer, dest, budget, max_entries, cancel)
            else:
                raise LayerError(f"expected a layer zip or directory at {layer}, nothing is there")
    except BaseException:
        _remove(dest, keep_dir=not created)
        raise
    return dest.resolve()


def _remove(dest: Path, *, keep_dir: bool) -> None:
    if not keep_dir:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink()


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
