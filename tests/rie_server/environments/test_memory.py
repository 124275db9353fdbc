"""Process-tree memory accounting and the limit watch, on real processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdarig.rie_server.environments import memory

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


def test_a_process_named_in_bytes_that_are_not_utf8_is_still_read() -> None:
    # A process chooses its own name (``/proc/self/comm``), and every process on the machine is
    # scanned for the group members: a name that is not UTF-8 (with a ")" in it) must not stop it.
    naming = (
        "import sys; open('/proc/self/comm', 'wb').write(b'\\xff) (\\xfe');"
        "b = bytearray(8 * 1024 * 1024); print('named', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", naming],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline() == b"named\n"
        with open(f"/proc/{proc.pid}/comm", "rb") as comm:
            assert comm.read() == b"\xff) (\xfe\n"  # the name the sampler reads
        assert memory.tree_pids(proc.pid) == {proc.pid}
        assert memory.hwm_bytes({proc.pid}) >= 8 * 1024 * 1024
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()


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
    watch.close()


def test_watch_below_the_limit_stays_quiet(holder: tuple[int, int]) -> None:
    root, _ = holder
    watch = memory.MemoryWatch(root, limit_mb=1024, on_exceeded=lambda: pytest.fail("fired"))
    watch.sample()
    assert not watch.exceeded
    assert watch.quick_peak_mb() >= 70
    watch.close()
    assert watch.quick_peak_mb() >= 70  # still readable once closed (files opened per read)


def test_run_stops_when_the_root_is_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    watch = memory.MemoryWatch(proc.pid, 10, lambda: None, interval_s=0.01)
    asyncio.run(asyncio.wait_for(watch.run(), timeout=2))
    assert memory.tree_pids(proc.pid) == set()


def test_statm_files_read_live_processes_and_drop_dead_ones(holder: tuple[int, int]) -> None:
    root, child = holder
    files = memory.StatmFiles()
    pids = {root, child}
    assert files.resident_bytes(pids) > 0
    assert sorted(files._fds) == sorted(pids)
    files.keep_only({root})
    assert list(files._fds) == [root]
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert files.resident_bytes({gone.pid}) == 0 and gone.pid not in files._fds
    files.close()
    assert files._fds == {}


def test_a_kept_descriptor_reads_zero_once_its_process_died() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    files = memory.StatmFiles()
    try:
        assert files.resident_bytes({proc.pid}) > 0
    finally:
        proc.kill()
        proc.wait()
    assert files.resident_bytes({proc.pid}) == 0  # not whatever may reuse the pid later
    assert files._fds == {}


def test_a_watch_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="expected interval_s > 0, got 0"):
        memory.MemoryWatch(os.getpid(), 1024, lambda: None, interval_s=0)


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
        watch.close()
    finally:
        os.kill(orphan, 9)


def test_walks_at_start_do_not_scan_and_the_backstop_finds_older_orphans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The walks as the runtime is adopted are on the first invoke's path: no full /proc scan
    # there. An orphan made before the watch began (its parent exited, the root still lives) is
    # found by the backstop scan one interval later.
    code = textwrap.dedent(
        """
        import os, subprocess, sys, time
        read, write = os.pipe()
        middle = os.fork()
        if middle == 0:
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
            os.write(write, str(child.pid).encode())
            os._exit(0)  # the grandchild is re-parented but stays in our process group
        os.waitpid(middle, 0)  # gone (and reaped) before the grandchild's pid is printed
        print(os.read(read, 32).decode(), flush=True)
        time.sleep(30)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert proc.stdout is not None
    orphan = int(proc.stdout.readline())
    scans: list[int] = []
    real_scan = memory.group_members
    monkeypatch.setattr(memory, "group_members", lambda pgid: scans.append(pgid) or real_scan(pgid))
    now = [100.0]
    watch = memory.MemoryWatch(proc.pid, 1024, lambda: None, interval_s=1.0, clock=lambda: now[0])
    try:
        assert watch.pids() == {proc.pid} and scans == []  # the walk at adoption
        assert watch.pids() == {proc.pid} and scans == []  # the sampler's first, right after
        now[0] = 100.999
        assert watch.pids() == {proc.pid} and scans == []
        now[0] = 101.0  # one interval after the first walk: the backstop
        assert watch.pids() == {proc.pid, orphan} and scans == [proc.pid]
        now[0] = 101.0 + memory._FULL_SCAN_EVERY - 0.001
        assert watch.pids() == {proc.pid, orphan} and scans == [proc.pid]
        now[0] = 101.0 + memory._FULL_SCAN_EVERY  # and every _FULL_SCAN_EVERY intervals
        assert watch.pids() == {proc.pid, orphan} and scans == [proc.pid, proc.pid]
    finally:
        watch.close()
        for pid in (orphan, proc.pid):
            os.kill(pid, 9)
        proc.wait()
        proc.stdout.close()


def test_a_member_that_vanished_triggers_the_scan_for_its_orphans() -> None:
    code = textwrap.dedent(
        """
        import os, subprocess, sys
        sys.stdin.readline()
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        print(child.pid, flush=True)
        sys.stdin.readline()
        os._exit(0)  # the child is re-parented but stays in our process group
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    watch = memory.MemoryWatch(proc.pid, 1024, lambda: None)
    assert watch.pids() == {proc.pid}  # the first sample: no orphans yet
    proc.stdin.write("spawn\n")
    proc.stdin.flush()
    orphan = int(proc.stdout.readline())
    try:
        assert watch.pids() == {proc.pid, orphan}
        proc.stdin.write("exit\n")
        proc.stdin.flush()
        proc.wait()
        assert watch.pids() == {orphan}  # found at once, not at the periodic scan
    finally:
        os.kill(orphan, 9)
        proc.stdin.close()
        proc.stdout.close()
        watch.close()


# --- cgroup v2 limit, against a directory shaped like cgroupfs (this suite's hosts may be v1) ---


def _fake_cgroupfs(tmp_path: Path, subtree: str) -> Path:
    own = tmp_path / "user.slice" / "emulator.scope"
    own.mkdir(parents=True)
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text(subtree)
    return own


def test_cgroup_not_created_without_cgroup2(tmp_path: Path) -> None:
    assert memory.CgroupLimit.create("x", 128, root=tmp_path, own_cgroup="/a") is None


def test_cgroup_not_created_without_delegated_memory(tmp_path: Path) -> None:
    _fake_cgroupfs(tmp_path, "cpu pids\n")
    made = memory.CgroupLimit.create(
        "x", 128, root=tmp_path, own_cgroup="/user.slice/emulator.scope"
    )
    assert made is None


def test_cgroup_created_with_the_limit(tmp_path: Path) -> None:
    own = _fake_cgroupfs(tmp_path, "cpu memory\n")
    limit = memory.CgroupLimit.create(
        "env-1", 128, root=tmp_path, own_cgroup="/user.slice/emulator.scope"
    )
    assert limit is not None and limit.path == own / "env-1"
    assert limit.relative == "/user.slice/emulator.scope/env-1"
    assert (own / "env-1" / "memory.max").read_text() == str(128 * 1024 * 1024)
    assert limit.peak_bytes() == 0 and not limit.oom_killed()
    (limit.path / "memory.current").write_text("1048576\n")
    assert limit.peak_bytes() == 1048576
    (limit.path / "memory.peak").write_text("2097152\n")
    assert limit.peak_bytes() == 2097152
    (limit.path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n")
    assert not limit.oom_killed()
    (limit.path / "memory.events").write_text("low 0\nmax 3\noom 1\noom_kill 1\n")
    assert limit.oom_killed()


def test_cgroup_holds_reads_proc(tmp_path: Path) -> None:
    own_line = next(
        line
        for line in Path("/proc/self/cgroup").read_text().splitlines()
        if line.startswith("0::")
    )
    assert memory.CgroupLimit(tmp_path, own_line[3:]).holds(os.getpid())
    assert not memory.CgroupLimit(tmp_path, "/elsewhere").holds(os.getpid())


def test_cgroup_remove_kills_then_removes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    memory.CgroupLimit(empty, "/empty").remove()
    assert not empty.exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "cgroup.kill").write_text("0")
    memory.CgroupLimit(busy, "/busy").remove()  # a plain directory with files: rmdir fails
    assert (busy / "cgroup.kill").read_text() == "1"
    assert "could not remove cgroup" in caplog.text
