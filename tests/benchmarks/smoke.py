"""What the benchmark smoke tests share: a benchmark script run with ``--quick``, and the check
that the processes it started in its function code are gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_quick(script: str, *args: str, timeout: float) -> str:
    """The stdout of ``benchmarks/<script> --quick args``, which must succeed and start with the
    machine it ran on."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("machine: ")
    return done.stdout


def processes_under(directory: str) -> list[str]:
    """Live processes whose working directory starts with ``directory`` (the benchmark's function
    code: the directory itself or one below it)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{entry}/cwd").startswith(directory):
                found.append(entry)
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found
