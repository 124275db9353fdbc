"""A smoke run of benchmarks/runtime_client.py with tiny counts (the benchmark is not a test; this
only proves it still runs end to end and prints every row)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.peers

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "runtime_client.py"
ROWS = ("cold init", "warm invokes/s", "RSS after init", "pip install", "client alone")


def test_benchmark_runs_with_tiny_counts(rie_binary: Path, awslambdaric_python: Path) -> None:
    argv = [sys.executable, str(SCRIPT), "--reuse-peers", "--spawns", "2", "--seconds", "0.2"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("machine: ")
    for row in ROWS:
        assert any(line.startswith(row) for line in done.stdout.splitlines()), done.stdout
