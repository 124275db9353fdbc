"""Dependency layers and wheelhouses: ``pip download`` for Lambda's platform, on the host.

Nothing here reaches the network from inside a container: wheels are downloaded on the host for the
target platform (``--platform manylinux2014_<arch> --only-binary=:all: --python-version 3.X``) and
then unpacked (layers) or copied into a Docker build context (images).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from lambdarig.build.errors import DependencyError, LayerSourceError
from lambdarig.build.layers import LayerZip, check_limits, collect_tree, write_zip
from lambdarig.build.wheels import WheelError, unpack_wheels

ARCH_PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
_REQUIREMENT_FILE_FLAGS = ("-r", "--requirement")
_COMPLETE = ".complete"


def platform_for(arch: str) -> str:
    """Lambda architecture name (``x86_64`` / ``arm64``) -> pip platform tag."""
    try:
        return ARCH_PLATFORMS[arch]
    except KeyError:
        raise DependencyError(
            f"expected an architecture among {sorted(ARCH_PLATFORMS)}, got {arch!r}"
        ) from None


def check_python_version(version: str) -> str:
    """Validate ``3.X`` and return it."""
    major, _, minor = version.partition(".")
    if major != "3" or not minor.isdigit():
        raise DependencyError(f"expected a Python version like 3.12, got {version!r}")
    return version


def download_wheels(
    requirements: Sequence[str],
    dest: Path,
    *,
    python_version: str,
    arch: str = "x86_64",
    pip_args: Sequence[str] = (),
    python: str = sys.executable,
) -> list[Path]:
    """``pip download`` binary wheels for Lambda's platform into ``dest``; return them, sorted.

    ``requirements`` are pip arguments such as ``["-r", "requirements.txt"]`` or ``["lambdarig"]``.
    ``pip_args`` are extra pip options (``--no-index --find-links DIR`` for offline builds).
    Blocks until pip exits. Raises DependencyError with pip's output tail when it fails.
    """
    dest.mkdir(parents=True, exist_ok=True)
    command = [
        python, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
        "--dest", str(dest),
        "--only-binary=:all:",
        "--platform", platform_for(arch),
        "--python-version", check_python_version(python_version),
        "--implementation", "cp",
        *pip_args, *requirements,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise DependencyError(
            f"expected pip to download binary wheels for Python {python_version} on {arch}, it "
            f"exited with status {result.returncode}:\n{tail}"
        )
    return sorted(dest.glob("*.whl"))


def _cache_key(
    requirements: Sequence[str], python_version: str, arch: str, pip_args: Sequence[str]
) -> str:
    """What decides a download's result: the requirements (a ``-r`` file by its content), the
    Python version, the platform and pip's options."""
    material: list[str] = []
    previous = ""
    for arg in requirements:
        if previous in _REQUIREMENT_FILE_FLAGS and Path(arg).is_file():
            arg = "sha256:" + hashlib.sha256(Path(arg).read_bytes()).hexdigest()
        material.append(arg)
        previous = arg
    key = json.dumps([material, python_version, platform_for(arch), list(pip_args)])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:  # another filesystem, or links not allowed: a copy does the same job
        shutil.copyfile(source, dest)


def download_wheels_cached(
    requirements: Sequence[str],
    dest: Path,
    *,
    cache: Path | None,
    python_version: str,
    arch: str = "x86_64",
    pip_args: Sequence[str] = (),
    python: str = sys.executable,
) -> tuple[list[Path], bool]:
    """:func:`download_wheels`, reusing ``cache`` (a directory; ``None``: no cache).

    Downloads are kept in ``cache/<key>``, the key hashing the requirements (a ``-r`` file by its
    content), Python version, platform and pip options; a second call with the same key copies
    the wheels without running pip. Nothing re-resolves a cached entry: delete the directory to
    pick up new releases. Returns the wheels in ``dest`` and whether they came from the cache.
    """
    fetch = functools.partial(
        download_wheels, python_version=python_version, arch=arch, pip_args=pip_args, python=python
    )
    if cache is None:
        return fetch(requirements, dest), False
    entry = cache / _cache_key(requirements, python_version, arch, pip_args)
    hit = (entry / _COMPLETE).is_file()
    if not hit:
        cache.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=cache, prefix=f".{entry.name}-"))
        try:
            fetch(requirements, scratch)
            (scratch / _COMPLETE).write_text(json.dumps(list(requirements)) + "\n")
            try:
                os.rename(scratch, entry)
            except OSError:
                if not (entry / _COMPLETE).is_file():  # not a concurrent build that got there first
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    dest.mkdir(parents=True, exist_ok=True)
    for wheel in sorted(entry.glob("*.whl")):
        _link_or_copy(wheel, dest / wheel.name)
    return sorted(dest.glob("*.whl")), hit


def dependency_entries(site_packages: Path, python_version: str) -> dict[str, Path]:
    """Map an unpacked site-packages to ``python/lib/python3.X/site-packages/...`` entries."""
    return collect_tree(site_packages, f"python/lib/python{python_version}/site-packages")


def build_dependency_layer(
    requirements_file: Path,
    dest: Path,
    *,
    python_version: str,
    arch: str = "x86_64",
    pip_args: Sequence[str] = (),
    python: str = sys.executable,
    function_unzipped_bytes: int = 0,
) -> LayerZip:
    """Build ``dest``: the wheels of ``requirements_file`` for Lambda, unpacked under
    ``python/lib/python3.X/site-packages``; checked against Lambda's limits
    (``function_unzipped_bytes``: see ``layers.check_limits``).

    Raises LayerSourceError (no such file), DependencyError (pip or a wheel failed),
    LayerLimitExceeded.
    """
    if not requirements_file.is_file():
        raise LayerSourceError(f"expected a requirements file at {requirements_file}, none there")
    with tempfile.TemporaryDirectory(prefix="lambdarig-deps-") as scratch:
        wheel_dir, site = Path(scratch, "wheels"), Path(scratch, "site-packages")
        download_wheels(
            ["-r", str(requirements_file)],
            wheel_dir,
            python_version=python_version,
            arch=arch,
            pip_args=pip_args,
            python=python,
        )
        site.mkdir()
        try:
            unpack_wheels(wheel_dir, site)
        except WheelError as exc:
            raise DependencyError(str(exc)) from exc
        layer = write_zip(dependency_entries(site, python_version), dest)
    check_limits(layer, function_unzipped_bytes=function_unzipped_bytes)
    return layer
