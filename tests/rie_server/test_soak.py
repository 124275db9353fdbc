"""A bounded soak of a real emulator (issue 8): 8 callers, a seeded mix of echo, 5 MiB echo,
raise, exit, timeout, OOM, Event and DryRun for ``LAMBDARIG_SOAK_SECONDS`` (default 60). The
logic is ``soak.py``; ``benchmarks/soak.py`` runs it longer and prints the same totals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.rie_server.soak import WEIGHTS, soak

pytestmark = [pytest.mark.slow, pytest.mark.soak]  # ~70 s; run once, in the conformance env

SECONDS = float(os.environ.get("LAMBDARIG_SOAK_SECONDS", "60"))


def test_every_invocation_is_answered_once_rightly_and_nothing_is_left(tmp_path: Path) -> None:
    totals = soak(SECONDS, tmp_path, callers=8)
    summary = "\n".join(totals.lines())
    print(summary)
    assert not totals.wrong, summary + "\n" + "\n".join(totals.wrong[:20])
    assert not totals.lost, summary + "\n" + "\n".join(totals.lost[:20])
    assert not totals.duplicates, summary + "\n" + "\n".join(totals.duplicates[:20])
    assert set(totals.by_kind) == set(WEIGHTS), summary  # every kind came up
    assert totals.pids_seen, summary  # the sampling saw the runtimes
    assert totals.pids_left == [], summary
    assert totals.fds_after == totals.fds_before, summary
    tracebacks = [line for line in totals.stderr_lines if "Traceback" in line]
    assert not tracebacks, "\n".join(totals.stderr_lines[-100:])
