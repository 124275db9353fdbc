"""Reproducible layer zips, the runtime-client layer, and Lambda's layer size limits.

A zip built here depends only on the names and contents of its inputs: entries are sorted, carry a
fixed timestamp (1980-01-01 00:00:00, the zip epoch) and fixed modes (0755 for executables, 0644
otherwise), no directory entries and no extra fields, so the same input gives the same bytes and
the same SHA-256 on every machine whose zlib deflates alike (checked: Python 3.9, 3.11 and 3.13
with zlib 1.2.13 give one SHA-256; a zlib-ng build may compress differently).
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from lambdarig.build.errors import LayerLimitExceeded, LayerSourceError

# Lambda's quotas for layers (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
ZIPPED_LIMIT_BYTES = 50 * 1024 * 1024  # direct upload of a .zip
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024  # function + all its layers, unzipped

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o644
_EXEC_MODE = 0o755
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")

# What of lambdarig a runtime-client layer carries: the stdlib-only parts, nothing else.
_RUNTIME_CLIENT_PARTS = ("__init__.py", "py.typed", "runtime_api.py", "runtime_client")
_LAYER_FILES = Path(__file__).with_name("layer_files")

Source = Union[Path, bytes]


@dataclass(frozen=True)
class LayerZip:
    """A zip written by :func:`write_zip`."""

    path: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    entries: int


def collect_tree(root: Path, prefix: str) -> dict[str, Path]:
    """Map every regular file under ``root`` to ``prefix/<relative path>`` (POSIX separators).

    Skips caches (``__pycache__``, ``*.pyc``, tool caches). Symbolic links are refused: a layer
    must not depend on what a link points at on the build machine. Raises LayerSourceError.
    """
    if not root.is_dir():
        raise LayerSourceError(f"expected a directory to put in the layer, got {root} (missing?)")
    found: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if name.endswith(_SKIPPED_SUFFIXES):
                continue
            if path.is_symlink() or not path.is_file():
                raise LayerSourceError(
                    f"expected regular files only under {root}, got a link or special file: {path}"
                )
            relative = path.relative_to(root).as_posix()
            found[f"{prefix.strip('/')}/{relative}" if prefix.strip("/") else relative] = path
    return found


def _mode_of(source: Source) -> int:
    if isinstance(source, bytes):
        return _FILE_MODE
    return _EXEC_MODE if source.stat().st_mode & stat.S_IXUSR else _FILE_MODE


def write_zip(
    entries: Mapping[str, Source], dest: Path, *, executables: frozenset[str] = frozenset()
) -> LayerZip:
    """Write ``entries`` (archive name -> file path or bytes) to ``dest`` reproducibly.

    A file's mode is 0755 when its source is executable by its owner or its name is in
    ``executables``, else 0644. Overwrites ``dest``. Returns its size, SHA-256 and unzipped size.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    unzipped = 0
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(entries):
            source = entries[name]
            data = source if isinstance(source, bytes) else source.read_bytes()
            mode = _EXEC_MODE if name in executables else _mode_of(source)
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix: the mode bits below are honoured on extraction
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
            unzipped += len(data)
    blob = dest.read_bytes()
    return LayerZip(
        path=dest,
        sha256=hashlib.sha256(blob).hexdigest(),
        zipped_bytes=len(blob),
        unzipped_bytes=unzipped,
        entries=len(entries),
    )


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB ({n:,} bytes)"


def check_limits(
    layer: LayerZip,
    *,
    function_unzipped_bytes: int = 0,
    zipped_limit: int = ZIPPED_LIMIT_BYTES,
    unzipped_limit: int = UNZIPPED_LIMIT_BYTES,
) -> None:
    """Raise LayerLimitExceeded when ``layer`` breaks Lambda's size limits.

    ``function_unzipped_bytes`` counts the function code and other layers that share the 250 MB.
    """
    if layer.zipped_bytes > zipped_limit:
        raise LayerLimitExceeded(
            f"layer {layer.path.name} is {_megabytes(layer.zipped_bytes)} zipped; Lambda "
            f"accepts at most {_megabytes(zipped_limit)} for a direct upload (upload it to S3 "
            f"and publish from there, or split it)"
        )
    total = layer.unzipped_bytes + function_unzipped_bytes
    if total > unzipped_limit:
        shared = (
            f"; with {_megabytes(function_unzipped_bytes)} of function code and other layers "
            f"that is {_megabytes(total)}"
            if function_unzipped_bytes
            else ""
        )
        raise LayerLimitExceeded(
            f"layer {layer.path.name} unzips to {_megabytes(layer.unzipped_bytes)}{shared}; "
            f"Lambda allows at most {_megabytes(unzipped_limit)} unzipped for a function and "
            f"all its layers"
        )


def unzipped_size(path: Path) -> int:
    """Bytes that ``path`` (a directory, or a zip such as another layer) takes unzipped, as it
    counts toward the 250 MB a function shares with its layers. Raises LayerSourceError."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (OSError, zipfile.BadZipFile) as exc:
        raise LayerSourceError(
            f"expected function code or a layer (a directory or a zip) at {path}: {exc}"
        ) from exc


def runtime_client_entries(package_dir: Path | None = None) -> dict[str, Path]:
    """The runtime-client layer's entries: ``python/lambdarig/...`` (stdlib-only parts),
    ``bin/lambdarig-wrapper`` (for ``AWS_LAMBDA_EXEC_WRAPPER``) and ``bootstrap``."""
    package = package_dir if package_dir is not None else Path(__file__).resolve().parents[1]
    entries: dict[str, Path] = {}
    for part in _RUNTIME_CLIENT_PARTS:
        source = package / part
        if source.is_dir():
            entries.update(collect_tree(source, f"python/lambdarig/{part}"))
        elif source.is_file():
            entries[f"python/lambdarig/{part}"] = source
        elif part != "py.typed":
            raise LayerSourceError(f"expected {source} in the lambdarig package, it is missing")
    entries.update(collect_tree(_LAYER_FILES, ""))
    return entries


def build_runtime_layer(dest: Path, *, function_unzipped_bytes: int = 0) -> LayerZip:
    """Build the runtime-client layer zip at ``dest`` and check it against Lambda's limits
    (``function_unzipped_bytes``: see :func:`check_limits`)."""
    layer = write_zip(
        runtime_client_entries(),
        dest,
        executables=frozenset({"bootstrap", "bin/lambdarig-wrapper"}),
    )
    check_limits(layer, function_unzipped_bytes=function_unzipped_bytes)
    return layer
