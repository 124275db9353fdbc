"""Unpack wheels into a directory, with the standard library only.

Used for dependency layers (``python/lib/python3.X/site-packages``) and copied verbatim into image
build contexts, where the base image's Python may have no pip (Debian minbase): there it runs as
``python3 install_wheels.py WHEEL_DIR TARGET_DIR``. Keep it stdlib-only and runnable as a script on
Python 3.9+.

A wheel's ``*.data/purelib`` and ``*.data/platlib`` go into the target like its root;
``*.data/scripts`` go to ``TARGET/bin`` (only with ``scripts=True``); ``*.data/headers`` and
``*.data/data`` are skipped (a layer or image has no use for them). Entries that would land outside
the target are refused.
"""

from __future__ import annotations

import os
import stat
import sys
import zipfile
from pathlib import Path, PurePosixPath


class WheelError(Exception):
    """A wheel is malformed or unsafe; the message names the wheel and the entry."""


def _destination(name: str, target: Path, scripts: bool) -> Path | None:
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ".." in parts:
        raise WheelError(f"expected relative entries inside the wheel, got {name!r}")
    if parts[0].endswith(".data") and len(parts) > 2:
        scheme = parts[1]
        if scheme in ("purelib", "platlib"):
            return target.joinpath(*parts[2:])
        if scheme == "scripts" and scripts:
            return target.joinpath("bin", *parts[2:])
        return None
    if parts[0].endswith(".data"):
        return None
    return target.joinpath(*parts)


def unpack_wheel(wheel: Path, target: Path, *, scripts: bool = False) -> list[Path]:
    """Unpack one wheel into ``target``; return the files written. Raises WheelError."""
    written: list[Path] = []
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise WheelError(f"expected a wheel (zip) at {wheel}, could not open it: {exc}") from exc
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise WheelError(
                    f"expected regular files in {wheel.name}, got a link {info.filename!r}"
                )
            dest = _destination(info.filename, target, scripts)
            if dest is None:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(archive.read(info))
            if mode & stat.S_IXUSR or dest.parent.name == "bin":
                os.chmod(dest, 0o755)
            written.append(dest)
    return written


def unpack_wheels(wheel_dir: Path, target: Path, *, scripts: bool = False) -> list[Path]:
    """Unpack every ``*.whl`` in ``wheel_dir`` (sorted by name) into ``target``."""
    wheels = sorted(wheel_dir.glob("*.whl"))
    written: list[Path] = []
    for wheel in wheels:
        written.extend(unpack_wheel(wheel, target, scripts=scripts))
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: install_wheels.py WHEEL_DIR TARGET_DIR", file=sys.stderr)
        return 2
    wheel_dir, target = Path(argv[0]), Path(argv[1])
    try:
        files = unpack_wheels(wheel_dir, target)
    except WheelError as exc:
        print(f"install_wheels.py: error: {exc}", file=sys.stderr)
        return 1
    wheel_count = len(list(wheel_dir.glob("*.whl")))
    print(f"install_wheels.py: {wheel_count} wheels, {len(files)} files into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
