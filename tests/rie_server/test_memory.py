"""Process-tree memory accounting and the limit watch, on real processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from lambdarig.rie_server import memory

HOLDER = textwrap.dedent(
    """
    import os, subprocess, sys, time
    b = bytearray(40 * 1024 * 1024)
    # a child that leaves the process group: still part of the tree through its parent link
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import time; b = bytearray(30 * 1024 * 1024); print('c', flush=True); time.sleep(30)"],
        start_new_session=True, stdout=subprocess.PIPE, text=True)
    child.stdout.readline()
    print(child.pid, flush=True)
    time.sleep(30)
    """
)


@pytest.fixture
def holder() -> Iterator[tuple[int, int]]:
    """(root pid, escaped child pid) of a small tree holding ~70 MiB; killed afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    try:
        yield proc.pid, child
    finally:
        for pid in (child, proc.pid):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        proc.wait()
        proc.stdout.close()


def test_tree_includes_descendants_outside_the_group(holder: tuple[int, int]) -> None:
    root, child = holder
    assert {root, child} <= memory.tree_pids(root)
    assert os.getpid() not in memory.tree_pids(root)


def test_usage_counts_the_whole_tree(holder: tuple[int, int]) -> None:
    root, _ = holder
    pids = memory.tree_pids(root)
    rss, high_water = memory.rss_bytes(pids), memory.hwm_bytes(pids)
    assert 70 <= memory.to_mb(rss) < 160
    assert high_water >= rss


def test_watch_fires_once_past_the_limit(holder: tuple[int, int]) -> None:
    root, _ = holder
    fired: list[int] = []
    watch = memory.MemoryWatch(root, limit_mb=50, on_exceeded=lambda: fired.append(1))
    watch.sample()
    watch.sample()
    assert fired == [1] and watch.exceeded and watch.peak_mb() >= 70


def test_watch_below_the_limit_stays_quiet(holder: tuple[int, int]) -> None:
    root, _ = holder
    watch = memory.MemoryWatch(root, limit_mb=1024, on_exceeded=lambda: pytest.fail("fired"))
    watch.sample()
    assert not watch.exceeded


def test_run_stops_when_the_root_is_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    watch = memory.MemoryWatch(proc.pid, 10, lambda: None, interval_s=0.01)
    asyncio.run(asyncio.wait_for(watch.run(), timeout=2))
    assert memory.tree_pids(proc.pid) == set()


def test_to_mb_rounds_up() -> None:
    assert [memory.to_mb(n) for n in (0, 1, 1024 * 1024, 1024 * 1024 + 1)] == [0, 1, 1, 2]


def test_descendant_walk_is_cheap(holder: tuple[int, int]) -> None:
    root, child = holder
    assert memory.descendants({root}) == {root, child}
    started = time.perf_counter()
    for _ in range(20):
        memory.descendants({root})
    assert (time.perf_counter() - started) / 20 < 0.005


def test_orphaned_group_member_is_still_counted() -> None:
    code = textwrap.dedent(
        """
        import os, subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        print(child.pid, flush=True)
        os._exit(0)  # the child is re-parented but stays in our process group
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    orphan = int(proc.stdout.readline())
    proc.wait()
    proc.stdout.close()
    try:
        assert orphan in memory.tree_pids(proc.pid)
        watch = memory.MemoryWatch(proc.pid, 1024, lambda: None)
        assert orphan in watch.pids()
    finally:
        os.kill(orphan, 9)
