"""The directory relative ``code=`` and ``layers=`` paths are resolved against: pytest's rootdir, as
pytest would have found it without our own path-valued options.

pytest chooses its rootdir and configuration file from the command line *before* it loads plugins
(see "Initialization: determining rootdir and configfile" in pytest's documentation), so it does
not know ``--lambda-awslambdaric-python`` yet: in ``--lambda-awslambdaric-python PATH`` (with a
space, as ``--help`` shows it) it takes ``PATH`` for a test path and roots the run at PATH's
directory; ``--lambda-awslambdaric-python=PATH`` is read as one token and is not affected.
``plugin_root`` redoes pytest's choice without those values: when only the rootdir moved, the
plugin uses the right one; when pytest also missed the project's configuration file, the run
cannot be trusted and ``plugin_root`` raises ``pytest.UsageError`` saying to use ``=``.
"""

from __future__ import annotations

import inspect
import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest


def stray_values(args: Sequence[str], options: Sequence[str]) -> list[str]:
    """The values of ``options`` given as a separate token (``--opt VALUE``) in ``args``."""
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in options]


def plugin_root(config: pytest.Config, options: Sequence[str], environ: Mapping[str, str]) -> Path:
    """``config.rootpath``, or the rootdir pytest would have chosen had it known ``options`` (whose
    values pytest read as test paths). Raises ``pytest.UsageError`` when those values also made
    pytest miss its configuration file."""
    args = [*shlex.split(environ.get("PYTEST_ADDOPTS", "")), *config.invocation_params.args]
    strays = [value for value in stray_values(args, options) if os.path.exists(value)]
    if not strays:
        return config.rootpath
    found = _determine_setup(config, _test_paths(config))
    if found is None or found[1] != config.inipath:
        option = next(arg for arg in args if arg in options)
        missed = f"read {config.inipath or 'no configuration file'}"
        if found is not None:
            missed += f" instead of {found[1] or 'none'}"
        raise pytest.UsageError(
            f"expected {option}=PATH (with '='): pytest takes a separate {strays[0]} for a test "
            f"path while it looks for its configuration file (before plugins load), and {missed}"
        )
    return found[0]


def _test_paths(config: pytest.Config) -> list[str]:
    """The test paths given on the command line (none when pytest fell back to testpaths/cwd)."""
    source = getattr(config, "args_source", None)  # pytest >= 7.2
    if source is None or source is pytest.Config.ArgsSource.ARGS:
        return [str(arg) for arg in config.args]
    return []


def _determine_setup(config: pytest.Config, args: list[str]) -> tuple[Path, Path | None] | None:
    """pytest's own rootdir and config-file discovery for ``args`` (its signature changed across
    pytest 7-9: arguments are passed by the names it has); None if it cannot be called."""
    try:
        from _pytest.config.findpaths import determine_setup
    except ImportError:  # pragma: no cover - moved in a future pytest
        return None
    known: dict[str, Any] = {
        "inifile": config.option.inifilename,
        "args": args,
        "rootdir_cmd_arg": config.option.rootdir or None,
        "invocation_dir": config.invocation_params.dir,
        "override_ini": config.option.override_ini,
        "config": None,
    }
    try:
        wanted = inspect.signature(determine_setup).parameters
        found = determine_setup(**{name: known[name] for name in wanted if name in known})
    except Exception:  # pragma: no cover - an incompatible pytest: fall back to the hint
        return None
    rootdir, inipath = found[0], found[1]
    return Path(rootdir), (Path(inipath) if inipath is not None else None)
