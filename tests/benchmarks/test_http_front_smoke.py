"""Smoke runs of benchmarks/http_front.py with tiny counts (the benchmark is not a test; these only
prove it still runs end to end, prints every row with figures, and leaves no process, container or
image behind): without sam anywhere, and with `sam local start-api` where Docker is (the `docker`
tox env, which fails rather than skips under CI=true)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import peers
from tests.benchmarks.smoke import processes_under, run_quick
from tests.images.conftest import engine_client, require_base

pytestmark = pytest.mark.slow

PATHS = ("HTTP API front (GET /hello)", "Invoke API (POST .../invocations)")
SAM_ROWS = (
    "sam local start-api (GET /hello)",
    "sam local start-api --warm-containers EAGER (GET /hello)",
)
SAM = "sam.cli.container.type=lambda"
FIGURES = r"\| ([\d,]+) \| ([\d.]+) \| ([\d.]+) \|$"


def _run(*args: str, timeout: float) -> str:
    stdout = run_quick("http_front.py", *args, timeout=timeout)
    assert re.search(r"load average at the start: \d+\.\d\d", stdout)
    assert re.search(r"load average at the end: \d+\.\d\d", stdout)
    return stdout


def _assert_rows(stdout: str, labels: tuple[str, ...]) -> None:
    for label in labels:
        for callers in (1, 8):
            row = re.search(rf"^\| {re.escape(label)} \| {callers} {FIGURES}", stdout, re.MULTILINE)
            notes = [line for line in stdout.splitlines() if ": not measured: " in line]
            assert row is not None, (label, callers, notes, stdout)  # why first: stdout is long
            assert int(row.group(1).replace(",", "")) > 0
            assert float(row.group(2)) <= float(row.group(3))  # p50 <= p99


def _assert_cleaned_up(stdout: str) -> None:
    tmp = re.search(r"^function code and server log: (\S+)$", stdout, re.MULTILINE)
    assert tmp is not None
    assert not Path(tmp.group(1)).exists()
    assert processes_under(tmp.group(1)) == []


def test_benchmark_runs_with_tiny_counts() -> None:  # ~4 s: one server, four short windows
    stdout = _run("--no-sam", timeout=120)
    _assert_rows(stdout, PATHS)
    assert "| sam local start-api (GET /hello) | 1, 8 | n/a | n/a | n/a |" in stdout
    assert "sam local start-api: not measured: --no-sam" in stdout
    _assert_cleaned_up(stdout)


@pytest.mark.docker
def test_sam_rows_with_tiny_counts() -> None:
    """~1 min with the sam venv cached: a stand-in image, sam's image built on it, sam started
    twice (default and --warm-containers EAGER), each on four short windows."""
    client = engine_client()
    try:
        require_base(client, "bookworm")
        sam_containers = {c.id for c in client.containers.list(all=True, filters={"label": SAM})}
    finally:
        client.close()
    peers.require_sam_cli()  # installs it when allowed; else skips locally, fails under CI=true
    stdout = _run(timeout=600)
    _assert_rows(stdout, PATHS + SAM_ROWS)
    assert "ratios ours / sam" in stdout, stdout
    ratios = stdout.split("ratios ours / sam", 1)[1]  # after the table of figures
    for label in SAM_ROWS:  # the ratios ours / sam, one per sam row and number of callers
        for callers in (1, 8):
            ratio = (
                rf"^\| {re.escape(label)} \| {callers} \| [\d.e+]+ \| [\d.e+-]+ \| [\d.e+-]+ \|$"
            )
            assert re.search(ratio, ratios, re.MULTILINE), (label, callers, stdout)
    run_label = re.search(r"\(label (org\.lambdarig\.build=bench-sam-\w+)\)", stdout)
    assert run_label is not None or "found in the engine" in stdout, stdout
    _assert_cleaned_up(stdout)
    client = engine_client()
    try:
        if run_label is not None:  # the stand-in and sam's image built on it are gone
            assert client.images.list(all=True, filters={"label": run_label.group(1)}) == []
        left = {c.id for c in client.containers.list(all=True, filters={"label": SAM})}
        assert left <= sam_containers
    finally:
        client.close()
