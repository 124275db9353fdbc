"""Zips made small on disk for the size and entry-count tests (built in the test, never stored)."""

from __future__ import annotations

import stat
import struct
import zipfile
from pathlib import Path

MIB = 1024 * 1024


def zeros_zip(path: Path, size: int, name: str = "python/zeros.bin") -> Path:
    """One deflated entry of ``size`` zero bytes (250 MB of zeros take about 250 KB)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    chunk = bytes(MIB)
    with zipfile.ZipFile(path, "w") as archive, archive.open(info, "w", force_zip64=True) as out:
        left = size
        while left > 0:
            out.write(chunk[: min(left, MIB)])
            left -= MIB
    return path


def many_files_zip(path: Path, count: int, prefix: str = "python/many") -> Path:
    """``count`` empty entries ``PREFIX/fN.py`` (laying 50,000 out takes a few seconds)."""
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(count):
            archive.writestr(f"{prefix}/f{n}.py", b"")
    return path


def understate_sizes(path: Path, declared: int) -> Path:
    """Rewrite every central-directory entry's uncompressed size to ``declared`` (a lying zip)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        struct.pack_into("<L", data, at + 24, declared)
        at = data.find(b"PK\x01\x02", at + 46)
    path.write_bytes(bytes(data))
    return path
