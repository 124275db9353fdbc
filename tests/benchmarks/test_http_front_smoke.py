"""A smoke run of benchmarks/http_front.py with tiny counts (the benchmark is not a test; this only
proves it still runs end to end, prints every row with figures, and leaves no process behind)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # ~4 s: one server, four short windows

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "http_front.py"
PATHS = ("HTTP API front (GET /hello)", "Invoke API (POST .../invocations)")


def _processes_under(directory: str) -> list[str]:
    """Live processes whose working directory is in ``directory`` (the function code)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{entry}/cwd").startswith(directory):
                found.append(entry)
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def test_benchmark_runs_with_tiny_counts() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("machine: ")
    assert re.search(r"load average at the start: \d+\.\d\d", done.stdout)
    assert re.search(r"load average at the end: \d+\.\d\d", done.stdout)
    for label in PATHS:
        for callers in (1, 8):
            row = re.search(
                rf"^\| {re.escape(label)} \| {callers} \| ([\d,]+) \| ([\d.]+) \| ([\d.]+) \|$",
                done.stdout,
                re.MULTILINE,
            )
            assert row is not None, (label, callers, done.stdout)
            assert int(row.group(1).replace(",", "")) > 0
            assert float(row.group(2)) <= float(row.group(3))  # p50 <= p99
    assert "| sam local start-api (GET /hello) |" in done.stdout
    assert "sam local start-api: " in done.stdout
    tmp = re.search(r"^function code and server log: (\S+)$", done.stdout, re.MULTILINE)
    assert tmp is not None
    assert not Path(tmp.group(1)).exists()
    assert _processes_under(tmp.group(1)) == []
