"""Which Python runs a template function's ``Runtime``: ``python3.X`` on ``PATH`` (not a pyenv
shim: it fails for a version ``pyenv global`` does not select), else pyenv's
``~/.pyenv/versions/3.X.*/bin/python3.X`` (``$PYENV_ROOT`` when set), else the current
interpreter with one warning line. Reads ``PATH``, ``PYENV_ROOT`` and ``HOME`` from the
environment it is given (only ``cli`` modules read ``os.environ``)."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

import lambdarig
from lambdarig.cli import CommandError

_RUNTIME = re.compile(r"python3\.(\d+)")
SUPPORTED_MINORS = range(9, 14)  # python3.9 - python3.13


def python_for(runtime: str, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """(interpreter path, warning or None) for ``runtime`` (e.g. ``python3.12``); raises
    ``CommandError`` for a runtime that is not Python 3.9-3.13."""
    match = _RUNTIME.fullmatch(runtime)
    if match is None or int(match.group(1)) not in SUPPORTED_MINORS:
        raise CommandError(f"expected a Runtime in python3.9-python3.13, got {runtime!r}")
    minor = int(match.group(1))
    if minor == sys.version_info[1]:
        return sys.executable, None
    found = shutil.which(runtime, path=environ.get("PATH", ""))
    if found is not None and Path(found).parent.name == "shims":
        found = None  # pyenv's shim runs only the versions `pyenv global` selects: look past it
    if found is None:
        found = _pyenv(runtime, environ)
    if found is not None:
        return found, None
    current = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    warning = f"lambdarig: warning: {runtime} is not installed, running {current} instead"
    return sys.executable, warning


def _pyenv(runtime: str, environ: Mapping[str, str]) -> str | None:
    root = environ.get("PYENV_ROOT") or (
        str(Path(environ["HOME"]) / ".pyenv") if environ.get("HOME") else None
    )
    if root is None:
        return None
    version = runtime[len("python") :]
    candidates = sorted(Path(root, "versions").glob(f"{version}.*/bin/{runtime}"), reverse=True)
    return str(candidates[0]) if candidates else None


def lambdarig_path() -> str:
    """The directory holding the ``lambdarig`` package: put on another Python's ``PYTHONPATH``
    so that it finds ``lambdarig.runtime_client`` (stdlib-only, any Python 3.9+)."""
    return str(Path(lambdarig.__file__).resolve().parent.parent)
