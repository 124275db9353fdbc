"""tox plugin of this project: tox loads ``toxfile.py`` from the project root by itself.

1. **Interpreters.** tox (through virtualenv) finds Pythons on ``PATH`` and, with recent versions,
   in uv's store. CPythons installed by pyenv, asdf or mise are on ``PATH`` only while the version
   manager selects them, so a machine with 3.9 to 3.14 installed through pyenv ran one of them
   and skipped the others ("could not find python interpreter"). :func:`tox_add_core_config`
   appends the ``bin`` directory of every CPython those managers (and uv) installed to the end of
   the ``PATH`` tox runs with: what ``PATH`` already finds keeps precedence.
2. **Results.** Every environment leaves ``{work_dir}/lambdarig-results/<env>/run.json``: its exit
   code and commands, or why it did not run (a missing interpreter, a failed set-up). Its pytest
   run writes ``pytest.xml`` (JUnit XML) beside it. The ``summary`` env reads them
   (``tools/tox_summary.py``).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

try:
    from tox.plugin import impl
    from tox.tox_env.errors import Skip
except ImportError:  # imported by the tests, where tox is not installed

    def impl(function: Any) -> Any:
        return function

    class Skip(Exception):  # type: ignore[no-redef]
        """tox's: an env skipped for want of an interpreter."""


RESULTS_DIR = "lambdarig-results"
RUN_FILE = "run.json"
RUN_ID_VAR = "LAMBDARIG_TOX_RUN"
# One id per tox invocation: the summary reports only what this invocation ran.
RUN_ID = f"{time.time_ns()}-{os.getpid()}"

# Version directories named like a CPython release: 3.12.1, or uv's cpython-3.12.1-linux-x86_64-gnu.
_RELEASE = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_UV_CPYTHON = re.compile(r"cpython-(\d+)\.(\d+)\.(\d+)(?:[+-].*)?")


def version_manager_roots(env: Mapping[str, str], home: Path) -> list[tuple[Path, re.Pattern[str]]]:
    """The directories that hold one sub-directory per installed Python, with the pattern a
    CPython release's sub-directory name matches."""

    def root(var: str, default: Path) -> Path:
        return Path(env[var]) if env.get(var) else default

    data_home = root("XDG_DATA_HOME", home / ".local" / "share")
    return [
        (root("PYENV_ROOT", home / ".pyenv") / "versions", _RELEASE),
        (root("ASDF_DATA_DIR", home / ".asdf") / "installs" / "python", _RELEASE),
        (root("MISE_DATA_DIR", data_home / "mise") / "installs" / "python", _RELEASE),
        (root("UV_PYTHON_INSTALL_DIR", data_home / "uv" / "python"), _UV_CPYTHON),
    ]


def installed_python_dirs(env: Mapping[str, str], home: Path) -> list[Path]:
    """``bin`` directories of the CPython releases that pyenv, asdf, mise and uv installed, newest
    release first, each holding a ``python3.X`` executable."""
    found: list[tuple[tuple[int, int, int], Path]] = []
    for versions, pattern in version_manager_roots(env, home):
        try:
            entries = sorted(versions.iterdir())
        except OSError:
            continue
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match is None:
                continue
            major, minor, micro = (int(part) for part in match.groups())
            bin_dir = entry / "bin"
            if os.access(bin_dir / f"python{major}.{minor}", os.X_OK):
                found.append(((major, minor, micro), bin_dir))
    found.sort(key=lambda item: item[0], reverse=True)
    return [bin_dir for _, bin_dir in found]


def extended_path(path: str, extra: Iterable[Path]) -> str:
    """``path`` with the directories of ``extra`` it lacks appended, in order."""
    entries = [entry for entry in path.split(os.pathsep) if entry]
    for directory in map(str, extra):
        if directory not in entries:
            entries.append(directory)
    return os.pathsep.join(entries)


@impl
def tox_add_core_config(core_conf: Any, state: Any) -> None:
    os.environ["PATH"] = extended_path(
        os.environ.get("PATH", ""), installed_python_dirs(os.environ, Path.home())
    )
    os.environ[RUN_ID_VAR] = RUN_ID


def results_dir(tox_env: Any) -> Path:
    return Path(tox_env.core["work_dir"]) / RESULTS_DIR / str(tox_env.name)


def _is_reported(tox_env: Any) -> bool:
    # Packaging envs (.pkg) and the summary itself are not rows of the summary.
    name = str(tox_env.name)
    return not name.startswith(".") and name != "summary"


def _write_run(tox_env: Any, record: dict[str, Any]) -> None:
    directory = results_dir(tox_env)
    directory.mkdir(parents=True, exist_ok=True)
    record = {"run": RUN_ID, "env": str(tox_env.name), **record}
    (directory / RUN_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _ran_in_this_run(tox_env: Any) -> bool:
    try:
        record = json.loads((results_dir(tox_env) / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("run") == RUN_ID


def _never_raises(hook: Callable[..., None]) -> Callable[..., None]:
    """The results are bookkeeping: a failure here is logged and never breaks the tox run."""

    @functools.wraps(hook)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            hook(*args, **kwargs)
        except Exception as exc:
            logging.warning("toxfile.py: %s failed: %s: %s", hook.__name__, type(exc).__name__, exc)

    return guarded


@impl
@_never_raises
def tox_before_run_commands(tox_env: Any) -> None:
    if _is_reported(tox_env):
        shutil.rmtree(results_dir(tox_env), ignore_errors=True)
        results_dir(tox_env).mkdir(parents=True)


@impl
@_never_raises
def tox_after_run_commands(tox_env: Any, exit_code: int, outcomes: list[Any]) -> None:
    if not _is_reported(tox_env):
        return
    commands = [
        {
            "command": str(getattr(outcome, "shell_cmd", "")),
            "exit_code": int(outcome.exit_code),
            "seconds": round(float(getattr(outcome, "elapsed", 0.0)), 2),
        }
        for outcome in outcomes
    ]
    _write_run(tox_env, {"status": "ran", "exit_code": int(exit_code), "commands": commands})


@impl
@_never_raises
def tox_env_teardown(tox_env: Any) -> None:
    """An env that never reached its commands: record why (tox says it only in its log)."""
    if not _is_reported(tox_env) or _ran_in_this_run(tox_env):
        return
    reason = "its set-up failed before any command ran"
    status = "error"
    try:
        tox_env.base_python  # noqa: B018  (raises when no interpreter was found)
    except AttributeError:
        pass
    except Skip as exc:  # "could not find python interpreter with spec(s): py314"
        reason, status = str(exc), "skipped"
    except Exception as exc:  # tox's NoInterpreter (skip_missing_interpreters = false), ...
        reason = str(exc) or type(exc).__name__
    shutil.rmtree(results_dir(tox_env), ignore_errors=True)
    _write_run(tox_env, {"status": status, "reason": reason})
