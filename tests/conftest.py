"""Suite-wide rules and fixtures.

- Under ``CI=true`` a test marked ``docker`` or ``peers`` that skips (for any reason: no Docker
  engine, no AWS peer, an ``importorskip``) is reported as FAILED instead: CI must run them all.
- Session fixtures ``rie_binary``, ``awslambdaric_python`` and ``sam_events_dir`` hand out the AWS
  peers located by :mod:`tests.peers` (skip locally when absent, fail under CI).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from tests import peers

MUST_RUN_IN_CI = ("docker", "peers")


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
