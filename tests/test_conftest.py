"""The suite-wide rule in tests/conftest.py: under CI=true a skipped `docker`/`peers`/`browser` test
fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = """
import pytest

@pytest.mark.peers
def test_peer_missing():
    pytest.skip("no peer here")

@pytest.mark.docker
def test_engine_missing():
    pytest.skip("no engine here")

@pytest.mark.browser
def test_chromium_missing():
    pytest.skip("no chromium here")

def test_plain_skip():
    pytest.skip("unrelated")

@pytest.mark.docker
@pytest.mark.xfail(reason="expected", strict=True)
def test_expected_failure():
    assert False
"""


def run_sample(tmp_path: Path, ci: str) -> str:
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_runtest_makereport\n")
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    markers = "\n    ".join(("markers =", "docker", "peers", "browser"))
    (tmp_path / "pytest.ini").write_text(f"[pytest]\n{markers}\n")
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(tmp_path)]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    return done.stdout


def test_ci_turns_marked_skips_into_failures(tmp_path: Path) -> None:
    out = run_sample(tmp_path, "true")
    assert "3 failed, 1 skipped, 1 xfailed" in out, out
    assert "must run: Skipped: no peer here" in out
    assert "tests marked ['browser'] must run: Skipped: no chromium here" in out


def test_locally_marked_tests_just_skip(tmp_path: Path) -> None:
    out = run_sample(tmp_path, "")
    assert "4 skipped, 1 xfailed" in out, out
