"""Memory accounting and enforcement for one runtime process tree.

Lambda kills an environment whose process tree goes past its memory size and reports
``Runtime.OutOfMemory`` in REPORT. Locally we watch the tree rooted at the runtime: its
descendants (found through ``/proc/<pid>/task/<tid>/children``, so a child that left the process
group still counts) plus members of its process group that were orphaned and re-parented (found by
an occasional full ``/proc`` scan, which is too slow to run on every sample: ~10 ms for ~100
processes against well under 1 ms for the walk).

Samples read ``statm`` (resident pages). Enforcement is sampled every ``interval_s``: an allocation
faster than the interval can overshoot before the kill. The reported peak is the larger of the
sampled maximum and the summed per-process high-water marks (``VmHWM``, read every few samples),
so a spike between samples still shows up in ``max_memory_used_mb`` (within a few samples).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Callable

_PROC = Path("/proc")
_MIB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")
_FULL_SCAN_EVERY = 20  # samples between full /proc scans for re-parented group members
_HWM_EVERY = (
    5  # samples between reads of the high-water marks (``status`` is slower than ``statm``)
)


def _stat_fields(pid: int) -> tuple[int, int] | None:
    """(ppid, pgid) of ``pid``, or ``None`` if it is gone or unreadable."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its last ")".
    rest = raw[raw.rfind(")") + 2 :].split()
    return int(rest[1]), int(rest[2])


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(_PROC / str(pid) / "task")
    except OSError:
        return []
    found: list[int] = []
    for tid in tasks:
        try:
            found.extend(
                int(c) for c in (_PROC / str(pid) / "task" / tid / "children").read_text().split()
            )
        except OSError:
            continue
    return found


def descendants(roots: set[int]) -> set[int]:
    """``roots`` (those still alive) and all their descendants."""
    seen: set[int] = set()
    todo = [pid for pid in roots if (_PROC / str(pid)).exists()]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo.extend(_children(pid))
    return seen


def group_members(pgid: int) -> set[int]:
    """Every live process whose process group is ``pgid`` (full ``/proc`` scan)."""
    members: set[int] = set()
    for name in os.listdir(_PROC):
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields is not None and fields[1] == pgid:
                members.add(int(name))
    return members


def tree_pids(root_pid: int) -> set[int]:
    """``root_pid``, its process group and all their descendants that are still alive."""
    return descendants({root_pid} | group_members(root_pid))


def rss_bytes(pids: set[int]) -> int:
    """Summed resident memory of ``pids`` (vanished ones count 0)."""
    total = 0
    for pid in pids:
        try:
            total += int((_PROC / str(pid) / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * _PAGE


def hwm_bytes(pids: set[int]) -> int:
    """Summed resident high-water marks (``VmHWM``) of ``pids``."""
    total = 0
    for pid in pids:
        try:
            text = (_PROC / str(pid) / "status").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) * 1024
    return total


def to_mb(n_bytes: int) -> int:
    """Bytes to whole MiB, rounded up (REPORT never shows 0 MB for a live process)."""
    return -(-n_bytes // _MIB)


class MemoryWatch:
    """Samples one process tree; calls ``on_exceeded`` once when it passes ``limit_mb``.

    ``run()`` loops until cancelled or the root is gone and never raises for a vanished process.
    ``sample()`` walks the tree (~0.4 ms); ``quick_peak_mb()`` only re-reads the processes found by
    the last walk, so the invoke path stays cheap.
    """

    def __init__(
        self,
        root_pid: int,
        limit_mb: int,
        on_exceeded: Callable[[], None],
        interval_s: float = 0.05,
    ) -> None:
        self.root_pid = root_pid
        self.limit_mb = limit_mb
        self.interval_s = interval_s
        self.exceeded = False
        self._on_exceeded = on_exceeded
        self._peak_bytes = 0
        self._orphans: set[int] = set()
        self._pids: set[int] = {root_pid}
        self._samples = 0

    def pids(self) -> set[int]:
        """The live tree now (a full scan for orphaned group members every few samples)."""
        if self._samples % _FULL_SCAN_EVERY == 0:
            self._orphans = group_members(self.root_pid)
        self._samples += 1
        self._pids = descendants({self.root_pid} | self._orphans)
        return self._pids

    def sample(self) -> int:
        """Walk and measure now; update the peak (high-water marks every few samples); trigger
        the limit. Returns current RSS in bytes."""
        pids = self.pids()
        current = rss_bytes(pids)
        self._record(current)
        if self._samples % _HWM_EVERY == 1:
            self._peak_bytes = max(self._peak_bytes, hwm_bytes(pids))
        return current

    def _record(self, current: int) -> None:
        self._peak_bytes = max(self._peak_bytes, current)
        if not self.exceeded and current > self.limit_mb * _MIB:
            self.exceeded = True
            self._on_exceeded()

    def quick_rss_bytes(self) -> int:
        """Current RSS of the processes found by the last walk (no walk); updates the peak."""
        current = rss_bytes(self._pids)
        self._record(current)
        return current

    def quick_peak_mb(self) -> int:
        """Largest usage seen so far, MiB, after a quick re-read of the known processes."""
        self.quick_rss_bytes()
        return to_mb(self._peak_bytes)

    def peak_mb(self) -> int:
        """Largest usage seen so far, MiB, after a full walk including high-water marks."""
        self._peak_bytes = max(self._peak_bytes, hwm_bytes(self.pids()))
        return to_mb(self._peak_bytes)

    async def run(self) -> None:
        """Sample every ``interval_s`` until cancelled or the root process is gone."""
        while _stat_fields(self.root_pid) is not None:
            self.sample()
            await asyncio.sleep(self.interval_s)
