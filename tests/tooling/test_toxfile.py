"""toxfile.py (the project's tox plugin): every CPython that pyenv, asdf, mise or uv installed is
added to tox's interpreter discovery; each env's outcome is recorded for the summary."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import toxfile


def fake_python(bin_dir: Path, name: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / name
    exe.write_text("#!/bin/sh\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


def test_pyenv_asdf_mise_and_uv_cpythons_are_found_newest_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    pyenv = home / ".pyenv" / "versions"
    for version in ("3.9.18", "3.13.0", "3.14.0"):
        fake_python(pyenv / version / "bin", f"python{version.rsplit('.', 1)[0]}")
    fake_python(pyenv / "pypy3.10-7.3.12" / "bin", "python3.10")  # not CPython: not a release
    fake_python(pyenv / "myenv" / "bin", "python3.11")  # a pyenv-virtualenv: not a release
    (pyenv / "3.8.18" / "bin").mkdir(parents=True)  # no interpreter inside
    fake_python(home / ".asdf" / "installs" / "python" / "3.10.13" / "bin", "python3.10")
    fake_python(home / ".local/share/mise/installs/python/3.11.7/bin", "python3.11")
    uv = home / ".local" / "share" / "uv" / "python"
    fake_python(uv / "cpython-3.12.1-linux-x86_64-gnu" / "bin", "python3.12")

    found = toxfile.installed_python_dirs({}, home)

    assert found == [
        pyenv / "3.14.0" / "bin",
        pyenv / "3.13.0" / "bin",
        uv / "cpython-3.12.1-linux-x86_64-gnu" / "bin",
        home / ".local/share/mise/installs/python/3.11.7/bin",
        home / ".asdf" / "installs" / "python" / "3.10.13" / "bin",
        pyenv / "3.9.18" / "bin",
    ]


def test_the_managers_roots_follow_their_environment_variables(tmp_path: Path) -> None:
    fake_python(tmp_path / "pyenv" / "versions" / "3.12.1" / "bin", "python3.12")
    fake_python(tmp_path / "asdf" / "installs" / "python" / "3.11.7" / "bin", "python3.11")
    env = {"PYENV_ROOT": str(tmp_path / "pyenv"), "ASDF_DATA_DIR": str(tmp_path / "asdf")}

    found = toxfile.installed_python_dirs(env, tmp_path / "nohome")

    assert found == [
        tmp_path / "pyenv" / "versions" / "3.12.1" / "bin",
        tmp_path / "asdf" / "installs" / "python" / "3.11.7" / "bin",
    ]


def test_found_directories_go_after_what_path_already_has() -> None:
    path = os.pathsep.join(["/usr/bin", "/root/.pyenv/versions/3.11.7/bin"])
    extra = [Path("/root/.pyenv/versions/3.12.1/bin"), Path("/root/.pyenv/versions/3.11.7/bin")]

    assert toxfile.extended_path(path, extra) == os.pathsep.join(
        ["/usr/bin", "/root/.pyenv/versions/3.11.7/bin", "/root/.pyenv/versions/3.12.1/bin"]
    )


def test_the_core_config_hook_extends_path_for_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_python(tmp_path / ".pyenv" / "versions" / "3.13.0" / "bin", "python3.13")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PYENV_ROOT", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin")

    toxfile.tox_add_core_config(None, None)

    assert os.environ["PATH"].split(os.pathsep) == [
        "/usr/bin",
        str(tmp_path / ".pyenv" / "versions" / "3.13.0" / "bin"),
    ]
    assert os.environ[toxfile.RUN_ID_VAR] == toxfile.RUN_ID


class FakeEnv:
    """What the hooks read of a tox env: its name, the work dir, and (a Python env) its
    base_python, which raises when tox found no interpreter."""

    def __init__(self, work_dir: Path, name: str, missing: Exception | None = None) -> None:
        self.name = name
        self.core = {"work_dir": work_dir}
        self._missing = missing

    @property
    def base_python(self) -> str:
        if self._missing is not None:
            raise self._missing
        return "/usr/bin/python3"


def fake_env(work_dir: Path, name: str, missing: Exception | None = None) -> Any:
    return FakeEnv(work_dir, name, missing)


def record(work_dir: Path, name: str) -> dict[str, Any]:
    path = work_dir / toxfile.RESULTS_DIR / name / toxfile.RUN_FILE
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_a_run_records_its_exit_code_and_commands(tmp_path: Path) -> None:
    env = fake_env(tmp_path, "py311")
    stale = tmp_path / toxfile.RESULTS_DIR / "py311" / "pytest.xml"
    stale.parent.mkdir(parents=True)
    stale.write_text("<testsuites/>")
    outcome = SimpleNamespace(shell_cmd="pytest -m 'not docker'", exit_code=1, elapsed=2.345)

    toxfile.tox_before_run_commands(env)
    assert not stale.exists()  # an earlier run's results never count for this one
    toxfile.tox_after_run_commands(env, 1, [outcome])
    toxfile.tox_env_teardown(env)  # it ran: teardown leaves the record alone

    assert record(tmp_path, "py311") == {
        "run": toxfile.RUN_ID,
        "env": "py311",
        "status": "ran",
        "exit_code": 1,
        "commands": [{"command": "pytest -m 'not docker'", "exit_code": 1, "seconds": 2.35}],
    }


def test_an_env_without_its_interpreter_is_recorded_as_skipped_with_why(tmp_path: Path) -> None:
    why = toxfile.Skip("could not find python interpreter with spec(s): py314")
    env = fake_env(tmp_path, "py314", missing=why)

    toxfile.tox_env_teardown(env)

    assert record(tmp_path, "py314") == {
        "run": toxfile.RUN_ID,
        "env": "py314",
        "status": "skipped",
        "reason": "could not find python interpreter with spec(s): py314",
    }


def test_a_failed_set_up_is_recorded_as_an_error(tmp_path: Path) -> None:
    toxfile.tox_env_teardown(fake_env(tmp_path, "lint"))

    assert record(tmp_path, "lint")["status"] == "error"


def test_packaging_envs_and_the_summary_are_not_recorded(tmp_path: Path) -> None:
    for name in (".pkg", "summary"):
        env = fake_env(tmp_path, name)
        toxfile.tox_before_run_commands(env)
        toxfile.tox_after_run_commands(env, 0, [])
        toxfile.tox_env_teardown(env)

    assert not (tmp_path / toxfile.RESULTS_DIR).exists()


def test_a_bookkeeping_failure_never_breaks_the_tox_run(caplog: pytest.LogCaptureFixture) -> None:
    broken = SimpleNamespace(name="py311")  # no work dir to write to

    toxfile.tox_env_teardown(broken)

    assert "toxfile.py: tox_env_teardown failed: AttributeError" in caplog.text
