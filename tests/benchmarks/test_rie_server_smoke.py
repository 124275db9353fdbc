"""A smoke run of benchmarks/rie_server.py with tiny counts (the benchmark is not a test; this only
proves it still runs end to end, prints every row, and leaves no process behind)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.benchmarks.smoke import processes_under, run_quick

pytestmark = [pytest.mark.peers, pytest.mark.slow]  # ~15 s: three stacks, every figure

ROWS = (
    "sequential warm invokes/s",
    "sequential p50 latency (ms)",
    "sequential p90 latency (ms)",
    "sequential p99 latency (ms)",
    "CPU per sequential invoke: emulator (µs)",
    "CPU per sequential invoke: runtime (µs)",
    "invokes/s, 1 concurrent caller",
    "invokes/s, 2 concurrent callers",
    "invokes/s, 4 concurrent callers",
    "invokes/s, 8 concurrent callers",
    "5 MiB echo, median (ms)",
    "start-up: spawn → listening (ms)",
    "start-up: spawn → first invoke answered (ms)",
    "idle RSS: emulator (MiB)",
    "idle RSS: runtime (MiB)",
    "idle RSS: one environment, total (MiB)",
    "idle RSS after 8 callers, total (MiB)",
    "runtime processes after 8 callers",
)


def _number(cell: str) -> bool:
    return cell.replace(",", "").replace(".", "").isdigit()


def _cells(stdout: str, label: str) -> list[str]:
    """Row ``label``: reference, ours + awslambdaric, ratio, ours + ours, ratio, target."""
    for line in stdout.splitlines():
        if line.startswith(f"| {label} |"):
            return [cell.strip() for cell in line.strip().strip("|").split("|")][1:]
    raise AssertionError(f"no row {label!r} in:\n{stdout}")


def test_benchmark_runs_with_tiny_counts(rie_binary: Path, awslambdaric_python: Path) -> None:
    stdout = run_quick("rie_server.py", timeout=180)
    for label in ROWS:
        cells = _cells(stdout, label)
        assert len(cells) == 6, cells
        # AWS's emulator panics on overlapping invokes, so it has no figures from 2 callers on
        overlapping = label.endswith("concurrent callers")
        after_crash = "after 8 callers" in label
        if overlapping or after_crash:
            assert cells[0] == ("n/a (crashes)" if overlapping else "n/a (crashed)"), cells
        else:
            assert _number(cells[0]), (label, cells)
        for ours, ratio in ((cells[1], cells[2]), (cells[3], cells[4])):
            assert _number(ours), (label, cells)
            assert ratio == "—" if cells[0].startswith("n/a") else _number(ratio[:-1]), cells
    assert "load average at the start: " in stdout
    # The three floors (without the emulator), each one note with its figures.
    floors = {
        "note: per-invoke floor: ": r"[0-9]+ µs of CPU per sequential invoke \(lambdarig-rie: "
        r"[0-9]+ µs, aws-lambda-rie: [0-9]+ µs\) and [0-9,]+ invokes/s \([0-9.]+× "
        r"lambdarig-rie \+ lambdarig, [0-9.]+× aws-lambda-rie \+ awslambdaric\)",
        "note: start-up floor: ": r"[0-9.]+ ms to the first answer = [0-9.]+× ",
        "note: first-invoke floor without asyncio: ": r"[0-9.]+ ms = [0-9.]+× aws-lambda-rie \+ "
        r"awslambdaric's first invoke \([0-9.]+ ms = [0-9.]+× with lambdarig-rie's "
        r"configuration read before the spawn\)",
    }
    for prefix, figures in floors.items():
        notes = [line for line in stdout.splitlines() if line.startswith(prefix)]
        assert len(notes) == 1, (prefix, stdout)
        assert re.match(re.escape(prefix) + figures, notes[0]), notes[0]
    assert "load average at the end: " in stdout
    for target in ("≥ 1.5× (≥ 1.2× with awslambdaric)", "≤ 0.7×", "≤ 200 µs", "≤ 40 ms"):
        assert f"| {target} |" in stdout, target
    # On a busy machine (load > 1.0 at the start) the verdicts are withheld, with the reason.
    judged = "target met" in stdout or "target NOT met" in stdout
    assert judged != ("targets not judged: the load average was" in stdout), stdout
    code = next(
        line.split(": ", 1)[1]
        for line in stdout.splitlines()
        if line.startswith("function code and emulator logs: ")
    )
    assert not Path(code).exists()
    assert processes_under(code) == []
