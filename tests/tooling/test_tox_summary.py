"""tools/tox_summary.py: the one summary a person reads at the end of the test command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tools import tox_summary

RUN = "1700000000000000000-42"
OLDER_RUN = "1600000000000000000-7"

JUNIT_WITH_A_FAILURE = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="1" skipped="2"
 tests="5" time="1.2">
<testcase classname="tests.rie_server.test_pool" name="test_reuse" time="0.01" />
<testcase classname="tests.rie_server.test_runtime_api_server" name="test_long_polls" time="0.3">
<failure message="assert 0 == 50">assert 0 == 50</failure></testcase>
<testcase classname="tests.rie_server.test_pool.TestQueue" name="test_waits[2]" time="0.01" />
<testcase classname="tests.images.test_images" name="test_hello" time="0.0">
<skipped type="pytest.skip" message="no reachable Docker engine: connection refused">x</skipped>
</testcase>
<testcase classname="tests.images.test_images" name="test_ric" time="0.0">
<skipped type="pytest.skip" message="no reachable Docker engine: connection refused">x</skipped>
</testcase>
</testsuite></testsuites>
"""

JUNIT_ALL_PASSED = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="0" skipped="0" tests="3">
<testcase classname="tests.test_boundaries" name="test_a" time="0.01" />
<testcase classname="tests.test_boundaries" name="test_b" time="0.01" />
<testcase classname="tests.test_boundaries" name="test_c" time="0.01" />
</testsuite></testsuites>
"""


def write_env(root: Path, env: str, record: dict[str, Any], junit: str | None = None) -> None:
    directory = root / env
    directory.mkdir(parents=True)
    (directory / "run.json").write_text(json.dumps({"env": env, **record}))
    if junit is not None:
        (directory / "pytest.xml").write_text(junit)


def ran(exit_code: int, run: str = RUN, seconds: float = 61.4) -> dict[str, Any]:
    command = {"command": "pytest", "exit_code": exit_code, "seconds": seconds}
    return {"run": run, "status": "ran", "exit_code": exit_code, "commands": [command]}


@pytest.fixture
def results(tmp_path: Path) -> Path:
    root = tmp_path / ".tox" / "lambdarig-results"
    write_env(root, "py311", ran(1), JUNIT_WITH_A_FAILURE)
    write_env(root, "py39", ran(0), JUNIT_ALL_PASSED)
    write_env(root, "py314", {"run": RUN, "status": "skipped", "reason": "could not find py314"})
    write_env(root, "lint", ran(0, seconds=1.2))
    write_env(root, "py310", ran(1, run=OLDER_RUN), JUNIT_WITH_A_FAILURE)  # another run's
    return root


def test_the_summary_counts_each_env_and_names_every_failure_and_skip(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tox_summary.main([str(results)], {"LAMBDARIG_TOX_RUN": RUN}) == 1

    out = capsys.readouterr().out.splitlines()
    work_dir = results.parent
    assert out[0] == f"lambdarig test summary: 4 tox envs (their logs: {work_dir}/ENV/log/)"
    assert out[1:6] == [
        "env           result     passed  failed  skipped    time",
        "py39          ok              3       0        0    61 s",
        "py311         FAIL (1)        2       1        2    61 s",
        "py314         skipped         -       -        -       -",
        "lint          ok              -       -        -     1 s",
    ]
    assert out[6:] == [
        "FAILED py311 tests/rie_server/test_runtime_api_server.py::test_long_polls",
        f"       py311's output: {work_dir}/py311/log/",
        "skipped: py311: 2 test(s): no reachable Docker engine: connection refused",
        "skipped: py314 (the whole env): could not find py314",
        "envs: 2 ok, 1 failed, 1 skipped",
        "total: 5 passed, 1 failed, 2 skipped",
    ]


def test_without_a_run_id_the_newest_run_counts(results: Path) -> None:
    names = {r.name for r in tox_summary.load_run(results, None)}

    assert names == {"py39", "py311", "py314", "lint"}


def test_test_ids_keep_classes_and_parameters(results: Path) -> None:
    (py311,) = [r for r in tox_summary.load_run(results, RUN) if r.name == "py311"]

    assert py311.passed == 2 and py311.failed == [
        "tests/rie_server/test_runtime_api_server.py::test_long_polls"
    ]
    case = tox_summary.ET.fromstring(
        '<testcase classname="tests.rie_server.test_pool.TestQueue" name="test_waits[2]"/>'
    )
    assert tox_summary._test_id(case) == "tests/rie_server/test_pool.py::TestQueue::test_waits[2]"


def test_an_env_that_failed_without_tests_names_its_failing_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = ran(1)
    record["commands"] = [
        {"command": "ruff check .", "exit_code": 0, "seconds": 0.1},
        {"command": "ruff format --check .", "exit_code": 1, "seconds": 0.1},
    ]
    write_env(tmp_path, "lint", record)

    assert tox_summary.main([str(tmp_path)], {}) == 1
    out = capsys.readouterr().out
    assert "FAILED lint: ruff format --check .\n" in out
    assert out.endswith("total: 0 passed, 0 failed, 0 skipped\n")


def test_everything_passed_or_skipped_locally_is_success(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(tmp_path, "py39", ran(0), JUNIT_ALL_PASSED)
    write_env(tmp_path, "py314", {"run": RUN, "status": "skipped", "reason": "no py314"})
    write_env(tmp_path, "docker", {"run": RUN, "status": "skipped", "reason": "no python3.11"})

    assert tox_summary.main([str(tmp_path)], {}) == 0
    assert capsys.readouterr().out.endswith("total: 3 passed, 0 failed, 0 skipped\n")


def test_under_ci_only_a_python_the_machine_lacks_may_be_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(tmp_path, "py39", {"run": RUN, "status": "skipped", "reason": "no py39"})
    write_env(tmp_path, "py314", {"run": RUN, "status": "skipped", "reason": "no py314"})
    write_env(tmp_path, "docker", {"run": RUN, "status": "skipped", "reason": "no python3.11"})
    environ = {"CI": "true", "LAMBDARIG_EXPECT_PYTHONS": "3.9 3.10"}

    assert tox_summary.main([str(tmp_path)], environ) == 1
    out = capsys.readouterr().out
    assert "CI: py39 was skipped under CI=true, but CPython 3.9 is installed" in out
    assert "CI: docker was skipped under CI=true: no python3.11" in out
    assert "CI: py314" not in out
    assert "envs: 0 ok, 0 failed, 3 skipped, 2 CI problem(s)" in out


def test_no_results_is_a_failure_that_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tox_summary.main([str(tmp_path)], {}) == 1
    assert "no results under" in capsys.readouterr().out


def test_an_unreadable_junit_file_fails_the_env(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(tmp_path, "py39", ran(0), "<testsuites><testcase")

    assert tox_summary.main([str(tmp_path)], {}) == 1
    assert (
        f"FAILED py39: unreadable {tmp_path / 'py39' / 'pytest.xml'}: " in capsys.readouterr().out
    )
