"""tox.ini: the README's test command runs every env and then the summary; posargs reach one
pytest command only; each pytest run leaves JUnit XML where the summary reads it."""

from __future__ import annotations

import configparser
import fnmatch
from pathlib import Path

from tests.conftest import EVERY_PYTHON, ROOT, runs_on_every_python

JUNIT = "--junitxml={work_dir}{/}lambdarig-results{/}{env_name}{/}pytest.xml"


def tox_ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini")
    return parser


def env_list(ini: configparser.ConfigParser) -> list[str]:
    return [env.strip() for env in ini["tox"]["envlist"].split(",")]


def commands(ini: configparser.ConfigParser, env: str) -> list[str]:
    section = f"testenv:{env}" if ini.has_section(f"testenv:{env}") else "testenv"
    return [line.strip() for line in ini[section]["commands"].splitlines() if line.strip()]


def test_every_cpython_from_3_9_to_3_14_has_an_env() -> None:
    envs = env_list(tox_ini())

    assert [env for env in envs if env.startswith("py")] == [f"py3{m}" for m in range(9, 15)]
    assert envs[-1] == "summary"


def test_posargs_reach_one_pytest_command_per_env() -> None:
    ini = tox_ini()
    for env in env_list(ini):
        with_posargs = [line for line in commands(ini, env) if "{posargs" in line]
        pytest_runs = [line for line in commands(ini, env) if line.startswith("pytest")]
        assert len(with_posargs) <= 1, (env, with_posargs)
        assert with_posargs == pytest_runs, env


def test_every_pytest_run_leaves_junit_for_the_summary() -> None:
    ini = tox_ini()
    for env in env_list(ini):
        for line in commands(ini, env):
            if line.startswith("pytest"):
                assert JUNIT in line, env


def test_the_summary_runs_after_every_other_env_and_is_shown() -> None:
    ini = tox_ini()
    summary = ini["testenv:summary"]
    depends = [pattern.strip() for pattern in summary["depends"].split(",")]

    for env in env_list(ini)[:-1]:
        assert any(fnmatch.fnmatchcase(env, pattern) for pattern in depends), env
    assert summary["parallel_show_output"] == "true"
    assert "LAMBDARIG_TOX_RUN" in summary["pass_env"].split()


def test_the_every_python_tests_are_the_plugin_and_the_conformance_kit() -> None:
    assert EVERY_PYTHON == (
        "tests/testing/",
        "tests/conformance_kit/",
        "tests/cli/test_conformance.py",
    )
    assert runs_on_every_python(ROOT / "tests" / "testing" / "test_process.py")
    assert runs_on_every_python(ROOT / "tests" / "cli" / "test_conformance.py")
    assert not runs_on_every_python(ROOT / "tests" / "cli" / "test_invoke.py")
    assert not runs_on_every_python(ROOT / "tests" / "conformance" / "test_suite.py")
    assert not runs_on_every_python(Path("/elsewhere/tests/testing/test_x.py"))


def test_browser_tests_run_once_in_the_docker_env_and_nowhere_else() -> None:
    ini = tox_ini()
    marks = {env: " ".join(commands(ini, env)) for env in env_list(ini)}
    assert '-m "docker or browser"' in marks["docker"]
    for env in env_list(ini):
        if env.startswith("py"):
            assert "not browser" in marks[env], env
    assert "browser" not in marks["conformance"]
