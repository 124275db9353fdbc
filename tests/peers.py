"""Locate (and, when allowed, fetch) AWS's reference implementations that our tests compare against.

The peers are never committed. They live in a cache directory, ``$LAMBDARIG_CACHE`` or else
``~/.cache/lambdarig``::

    wheels/aws_sam_cli-1.170.0-py3-none-any.whl   # pip download --no-deps aws-sam-cli==1.170.0
    peers/aws-lambda-rie-x86_64                   # AWS's emulator, unzipped from that wheel
    peers/sam-events/                             # SAM CLI's generated sample events (JSON)
    peers/ric-venv/                               # a venv with awslambdaric==4.2.2
    peers/sam-venv/                               # a venv with aws-sam-cli==1.170.0 (`sam`)
    peers/.lock                                   # flock held while fetching (parallel tox envs)

Downloads happen only when ``LAMBDARIG_FETCH_PEERS=1`` or ``CI=true``; otherwise a missing peer is
reported as ``None`` so a laptop without network just skips the tests that need it.

Contract of the ``require_*`` helpers: they return the path when the peer is available; otherwise
they call ``pytest.skip`` locally and ``pytest.fail`` when ``CI=true`` (CI must never skip them).

``python -m tests.peers`` pre-fetches every peer (``.ci/run`` calls it before tox) and prints
the paths.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

SAM_CLI_VERSION = "1.170.0"
AWSLAMBDARIC_VERSION = "4.2.2"
SAM_CLI_WHEEL = f"aws_sam_cli-{SAM_CLI_VERSION}-py3-none-any.whl"
RIE_MEMBER = "samcli/local/rapid/aws-lambda-rie-x86_64"
SAM_EVENTS_PREFIX = "samcli/lib/generated_sample_events/events/"
# The interpreter used for the awslambdaric venv when the running one has no awslambdaric wheel.
FALLBACK_VERSION = "3.11"
# The interpreters the conformance suite runs under (AWS's current managed Python runtimes), each
# with its own venv ``peers/ric-venv-<version>``; awslambdaric 4.2.2 has no wheel for 3.9.
CONFORMANCE_VERSIONS = ("3.11", "3.12", "3.13")
# Pythons whose tox env runs the harness against awslambdaric (4.2.2 has no 3.9 wheel).
HARNESS_VERSIONS = ("3.10", *CONFORMANCE_VERSIONS)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def fetch_allowed() -> bool:
    return os.environ.get("LAMBDARIG_FETCH_PEERS") == "1" or in_ci()


def cache_dir() -> Path:
    configured = os.environ.get("LAMBDARIG_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "lambdarig"


def _peers_dir() -> Path:
    return cache_dir() / "peers"


@contextlib.contextmanager
def _fetch_lock() -> Iterator[None]:
    """Hold an exclusive flock so parallel tox envs fetch each peer once (blocks until free)."""
    _peers_dir().mkdir(parents=True, exist_ok=True)
    with open(_peers_dir() / ".lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _pip_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PIP_CACHE_DIR", str(cache_dir() / "pip"))
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return env


def _run(argv: list[str]) -> bool:
    """Run a fetch step; on failure print its output on stderr and return False."""
    done = subprocess.run(argv, env=_pip_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"peers: {' '.join(argv)} exited {done.returncode}:", file=sys.stderr)
        print(done.stdout + done.stderr, file=sys.stderr)
    return done.returncode == 0


def sam_cli_wheel() -> Path | None:
    """The aws-sam-cli wheel (carries AWS's emulator binary and the sample events)."""
    wheel = cache_dir() / "wheels" / SAM_CLI_WHEEL
    if wheel.is_file():
        return wheel
    if not fetch_allowed():
        return None
    with _fetch_lock():
        if not wheel.is_file():
            wheel.parent.mkdir(parents=True, exist_ok=True)
            pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
            _run([*pip, "-d", str(wheel.parent), f"aws-sam-cli=={SAM_CLI_VERSION}"])
    return wheel if wheel.is_file() else None


def rie_binary() -> Path | None:
    """AWS's ``aws-lambda-rie`` (x86_64), executable."""
    binary = _peers_dir() / "aws-lambda-rie-x86_64"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    wheel = sam_cli_wheel()
    if wheel is None:
        return None
    with _fetch_lock():
        if not binary.is_file():
            partial = binary.with_suffix(".partial")
            with zipfile.ZipFile(wheel) as archive, archive.open(RIE_MEMBER) as source:
                with open(partial, "wb") as target:
                    shutil.copyfileobj(source, target)
            partial.replace(binary)
        binary.chmod(0o755)
    return binary


def sam_sample_events_dir() -> Path | None:
    """SAM CLI's sample event templates (``<service>/<Name>.json``, with ``{{{placeholders}}}``)."""
    events = _peers_dir() / "sam-events"
    marker = events / ".complete"
    if marker.is_file():
        return events
    wheel = sam_cli_wheel()
    if wheel is None:
        return None
    with _fetch_lock():
        if not marker.is_file():
            shutil.rmtree(events, ignore_errors=True)
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if member.startswith(SAM_EVENTS_PREFIX) and not member.endswith("/"):
                        target = events / member[len(SAM_EVENTS_PREFIX) :]
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(archive.read(member))
            marker.write_text(SAM_CLI_VERSION)
    return events


def _ric_installed(venv: Path, version: str | None = None) -> bool:
    python = venv / "bin" / "python"
    metadata = f"awslambdaric-{AWSLAMBDARIC_VERSION}.dist-info"
    lib = f"python{version}" if version else "python3.*"
    return python.exists() and any(venv.glob(f"lib/{lib}/site-packages/{metadata}"))


def find_python(version: str) -> str | None:
    """The newest pyenv build of ``python<version>``, else one on PATH (pyenv shims excluded:
    they fail for versions that are installed but not selected)."""
    candidates = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    if candidates:
        return str(candidates[-1])
    found = shutil.which(f"python{version}")
    return found if found and "/shims/" not in found else None


def _make_ric_venv(venv: Path, base_python: str) -> bool:
    shutil.rmtree(venv, ignore_errors=True)
    if not _run([base_python, "-m", "venv", str(venv)]):
        return False
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--only-binary=:all:"]
    return _run([*pip, f"awslambdaric=={AWSLAMBDARIC_VERSION}"])


def awslambdaric_python(version: str | None = None) -> Path | None:
    """A Python interpreter whose environment has ``awslambdaric==4.2.2`` (run ``-m awslambdaric``).

    With ``version`` (e.g. ``"3.12"``) the venv ``peers/ric-venv-<version>`` is built from that
    interpreter (None if it is not installed). Without it, ``peers/ric-venv`` is built from the
    running interpreter when awslambdaric has a wheel for it, else from python3.11; its version
    may then differ from ``sys.executable``'s.
    """
    venv = _peers_dir() / (f"ric-venv-{version}" if version else "ric-venv")
    if _ric_installed(venv, version):
        return venv / "bin" / "python"
    if not fetch_allowed():
        return None
    bases = [find_python(version)] if version else [sys.executable, find_python(FALLBACK_VERSION)]
    with _fetch_lock():
        for base in bases:
            if _ric_installed(venv, version) or (base and _make_ric_venv(venv, base)):
                break
    return venv / "bin" / "python" if _ric_installed(venv, version) else None


def _sam_installed(venv: Path) -> bool:
    metadata = f"aws_sam_cli-{SAM_CLI_VERSION}.dist-info"
    return (venv / "bin" / "sam").is_file() and any(
        venv.glob(f"lib/python3.*/site-packages/{metadata}")
    )


def sam_cli(fetch: bool = False) -> Path | None:
    """``sam`` of a venv with ``aws-sam-cli==1.170.0`` (``peers/sam-venv``), for the
    ``sam local start-api`` rows of benchmarks/http_front.py: the cached wheel, its dependencies
    from PyPI (about 100 MB, a minute or two, once). ``fetch`` installs it even when
    :func:`fetch_allowed` is false (the benchmark is an explicit run)."""
    venv = _peers_dir() / "sam-venv"
    if _sam_installed(venv):
        return venv / "bin" / "sam"
    if not (fetch or fetch_allowed()):
        return None
    wheel = sam_cli_wheel()
    requirement = str(wheel) if wheel is not None else f"aws-sam-cli=={SAM_CLI_VERSION}"
    with _fetch_lock():
        if not _sam_installed(venv):
            shutil.rmtree(venv, ignore_errors=True)
            if _run([sys.executable, "-m", "venv", str(venv)]):
                pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--only-binary=:all:"]
                _run([*pip, requirement])
    return venv / "bin" / "sam" if _sam_installed(venv) else None


def _unavailable(what: str) -> NoReturn:
    import pytest

    how = "set LAMBDARIG_FETCH_PEERS=1 (needs PyPI) or run `python -m tests.peers`"
    if in_ci():
        pytest.fail(f"{what} is required under CI=true but could not be fetched", pytrace=False)
    pytest.skip(f"{what} not available; {how}")


def require_rie() -> Path:
    return rie_binary() or _unavailable("AWS's aws-lambda-rie binary")


def require_awslambdaric(version: str | None = None) -> Path:
    what = f"awslambdaric=={AWSLAMBDARIC_VERSION}" + (f" on python{version}" if version else "")
    return awslambdaric_python(version) or _unavailable(what)


def require_sam_cli() -> Path:
    return sam_cli() or _unavailable(f"aws-sam-cli=={SAM_CLI_VERSION} (peers/sam-venv)")


def require_sam_events() -> Path:
    return sam_sample_events_dir() or _unavailable("SAM CLI sample events")


def main() -> int:
    os.environ.setdefault("LAMBDARIG_FETCH_PEERS", "1")
    found = {
        "sam-cli wheel": sam_cli_wheel(),
        "aws-lambda-rie": rie_binary(),
        "sam sample events": sam_sample_events_dir(),
        "awslambdaric python": awslambdaric_python(),
        "sam-cli venv": sam_cli(),
    }
    for version in HARNESS_VERSIONS:
        found[f"awslambdaric python{version}"] = awslambdaric_python(version)
    for name, path in found.items():
        print(f"{name}: {path if path is not None else 'MISSING'}")
    return 0 if all(path is not None for path in found.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
