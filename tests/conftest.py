"""Suite-wide rules and fixtures.

- Under ``CI=true`` a test marked ``docker``, ``peers`` or ``browser`` that skips (for any reason:
  no Docker engine, no AWS peer, no Chromium, an ``importorskip``) is reported as FAILED
  instead: CI must run them all.
- Session fixtures ``rie_binary``, ``awslambdaric_python`` and ``sam_events_dir`` hand out the AWS
  peers located by :mod:`tests.peers` (skip locally when absent, fail under CI).
- ``peers`` tests of the pytest plugin and the conformance kit are also marked ``every_python``:
  tox's ``pyXY`` envs run them on every Python, ``conformance`` runs the other ``peers`` tests.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from tests import peers

MUST_RUN_IN_CI = ("docker", "peers", "browser")
# Where the `peers` tests that run on every Python live (issue 5's matrix), relative to the root.
EVERY_PYTHON = ("tests/testing/", "tests/conformance_kit/", "tests/cli/test_conformance.py")
ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "every_python: a `peers` test that tox runs in every pyXY env (set by tests/conftest.py)",
    )


def runs_on_every_python(path: Path) -> bool:
    """True for a test file under one of :data:`EVERY_PYTHON`."""
    try:
        relative = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return False
    return any(relative == where or relative.startswith(where) for where in EVERY_PYTHON)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("peers") is not None and runs_on_every_python(item.path):
            item.add_marker("every_python")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not (report.skipped and peers.in_ci() and not hasattr(report, "wasxfail")):
        return
    markers = [name for name in MUST_RUN_IN_CI if item.get_closest_marker(name) is not None]
    if markers:
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under CI=true, but tests marked {markers} must run: {reason}"


@pytest.fixture(scope="session")
def rie_binary() -> Path:
    return peers.require_rie()


@pytest.fixture(scope="session")
def awslambdaric_python() -> Path:
    return peers.require_awslambdaric()


@pytest.fixture(scope="session")
def sam_events_dir() -> Path:
    return peers.require_sam_events()
