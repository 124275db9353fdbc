"""The pytest plugin, run through pytester in a subprocess as a user project runs it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
from pathlib import Path

import pytest

from tests.testing.conftest import FIXTURES, README_EXAMPLE, Stack

APP = (FIXTURES / "app" / "app.py").read_text()


def _fake_emulator_args(pytester: pytest.Pytester, mode: str) -> list[str]:
    pytester.makepyfile(app=APP)
    os.environ["FAKE_EMULATOR_MODE"] = mode  # restored by the monkeypatch fixture below
    return [f"--lambda-emulator={sys.executable} {FIXTURES / 'fake_emulator.py'}"]


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAKE_EMULATOR_MODE", "FAKE_EMULATOR_PIDFILE", "LAMBDARIG_EMULATOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FAKE_EMULATOR_MODE", "ok")


def test_readme_example_runs_verbatim(pytester: pytest.Pytester, stack: Stack) -> None:
    shutil.copytree(README_EXAMPLE, pytester.path, dirs_exist_ok=True)
    result = pytester.runpytest_subprocess(*stack.pytest_args)
    result.assert_outcomes(passed=2)


def test_each_function_starts_once_per_session(pytester: pytest.Pytester, stack: Stack) -> None:
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        test_reuse="""
        import pytest

        PIDS = []

        @pytest.mark.lambda_function("app.handler")
        def test_one(lambda_fn):
            PIDS.append(lambda_fn.pid)
            assert lambda_fn.invoke({"n": 1}).payload["echo"] == {"n": 1}

        @pytest.mark.lambda_function("app.handler")
        def test_two_reuses_it_with_fresh_logs(lambda_fn):
            PIDS.append(lambda_fn.pid)
            assert lambda_fn.logs == []
            assert lambda_fn.invoke({"n": 2}).logs == ['handling {"n": 2}']

        def test_other_arguments_get_another_emulator(lambda_function):
            fn = lambda_function("app.handler", env={"X": "1"})
            assert fn.invoke({"env": "X"}).payload == "1"
            assert PIDS[0] == PIDS[1] != fn.pid
        """
    )
    result = pytester.runpytest_subprocess(*stack.pytest_args)
    result.assert_outcomes(passed=3)


def test_emulator_crash_fails_the_test_that_caused_it(pytester: pytest.Pytester) -> None:
    args = _fake_emulator_args(pytester, "crash")
    pytester.makepyfile(
        test_crash="""
        def test_crashes_it(lambda_function):
            lambda_function("app.handler").invoke({})

        def test_next_test_gets_a_restarted_emulator(lambda_function):
            assert lambda_function("app.handler").pid is not None
        """
    )
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*EmulatorCrashed: expected the emulator to keep running*"])


def test_emulator_internal_error_fails_the_test(pytester: pytest.Pytester) -> None:
    args = _fake_emulator_args(pytester, "internal-error")
    pytester.makepyfile(
        test_internal="""
        def test_logs_an_emulator_error(lambda_function):
            lambda_function("app.handler").invoke({})
        """
    )
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*EmulatorCrashed: the emulator reported an internal error*"])


def test_session_fails_when_something_it_started_is_still_alive(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    args = _fake_emulator_args(pytester, "leak")
    pidfile = tmp_path / "leaked.pid"
    os.environ["FAKE_EMULATOR_PIDFILE"] = str(pidfile)
    pytester.makepyfile(
        test_leak="""
        def test_passes(lambda_function):
            assert lambda_function("app.handler").invoke({}).payload == {}
        """
    )
    try:
        result = pytester.runpytest_subprocess(*args)
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGKILL)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*lambdarig: the lambdarig harness left behind: port 127.0.0.1:*"])


def test_marker_is_required_for_lambda_fn(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_nomarker="def test_it(lambda_fn):\n    pass\n")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*expected @pytest.mark.lambda_function(handler, ...)*"])


def test_awslambdaric_runtime_needs_its_python(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_any="def test_it():\n    pass\n")
    result = pytester.runpytest_subprocess("--lambda-runtime=awslambdaric")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--lambda-runtime awslambdaric needs a python*"])


def test_layers_rejected_by_the_emulator_is_a_clear_error(pytester: pytest.Pytester) -> None:
    args = _fake_emulator_args(pytester, "reject-flags")
    pytester.mkdir("layer")
    pytester.makepyfile(
        test_layers="""
        def test_it(lambda_function):
            lambda_function("app.handler", layers=["layer"])
        """
    )
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*UnsupportedEmulatorOption*rejected a command-line flag*"])


def test_readme_shows_the_example_that_ci_runs() -> None:
    """README's "Testing your function" shows readme_example/ verbatim: the code CI runs above."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "\n## Testing your function\n" in readme, "README lacks '## Testing your function'"
    section = readme.split("\n## Testing your function\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert blocks[:2] == [
        (README_EXAMPLE / "src" / "app.py").read_text(),
        (README_EXAMPLE / "tests" / "test_app.py").read_text(),
    ]


def _python_outside(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A python path outside the pytester project, in a directory with no pytest configuration
    above it (as a venv in ~/.cache is)."""
    bin_dir = tmp_path_factory.mktemp("venv") / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    return str(bin_dir / "python")


@pytest.mark.parametrize("form", ["space", "equals"])
def test_awslambdaric_python_with_a_space_or_equals_keeps_the_root(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, form: str
) -> None:
    """pytest reads ``--lambda-awslambdaric-python PATH`` before the plugin loads and takes PATH
    for a test path when it picks the rootdir; ``code="src"`` must still mean the project's."""
    shutil.copytree(README_EXAMPLE, pytester.path, dirs_exist_ok=True)
    python = _python_outside(tmp_path_factory)
    option = ["--lambda-awslambdaric-python", python]
    result = pytester.runpytest_subprocess(*(option if form == "space" else ["=".join(option)]))
    result.assert_outcomes(passed=2)


def test_a_space_that_made_pytest_miss_its_configuration_is_a_usage_error(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shutil.copytree(README_EXAMPLE, pytester.path, dirs_exist_ok=True)
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\nmarkers = ['mine: a marker']\n")
    python = _python_outside(tmp_path_factory)
    result = pytester.runpytest_subprocess("--lambda-awslambdaric-python", python)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        f"ERROR: expected --lambda-awslambdaric-python=PATH (with '='): pytest takes a separate "
        f"{python} for a test path while it looks for its configuration file (before plugins "
        f"load), and read no configuration file instead of {pytester.path / 'pyproject.toml'}"
    ) in result.stderr.lines  # (pytest-asyncio may warn first: it read no configuration either)
    result = pytester.runpytest_subprocess(f"--lambda-awslambdaric-python={python}")
    result.assert_outcomes(passed=2)
