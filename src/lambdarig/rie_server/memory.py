"""Memory accounting and enforcement for one runtime process tree.

Lambda kills an environment whose process tree goes past its memory size and reports
``Runtime.OutOfMemory`` in REPORT. Locally we watch the tree rooted at the runtime: the process
group it leads plus every descendant found through ``/proc/<pid>/stat`` parent links, so a child
that left the group is still counted. Measured values are resident set sizes (``VmRSS``); the
peak is the larger of the sampled maximum and the summed per-process high-water marks
(``VmHWM``), so a spike shorter than the sampling interval still shows up in
``max_memory_used_mb``.

Enforcement is sampled (every ``interval_s``): an allocation faster than the interval can overshoot
before the kill.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable

_PROC = Path("/proc")
_MIB = 1024 * 1024


def _stat_fields(pid: int) -> tuple[int, int] | None:
    """(ppid, pgid) of ``pid``, or ``None`` if it is gone or unreadable."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its last ")".
    rest = raw[raw.rfind(")") + 2 :].split()
    return int(rest[1]), int(rest[2])


def tree_pids(root_pid: int) -> set[int]:
    """``root_pid``, its process group and all their descendants that are still alive."""
    parents: dict[int, int] = {}
    members: set[int] = set()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None:
            continue
        pid, (ppid, pgid) = int(entry.name), fields
        parents[pid] = ppid
        if pid == root_pid or pgid == root_pid:
            members.add(pid)
    grew = True
    while grew:
        found = {pid for pid, ppid in parents.items() if ppid in members} - members
        members |= found
        grew = bool(found)
    return members


def _status_kib(pid: int, key: str) -> int:
    try:
        text = (_PROC / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def tree_usage_bytes(root_pid: int) -> tuple[int, int]:
    """(current RSS, summed RSS high-water marks) of the live tree, in bytes."""
    rss = hwm = 0
    for pid in tree_pids(root_pid):
        rss += _status_kib(pid, "VmRSS:")
        hwm += _status_kib(pid, "VmHWM:")
    return rss * 1024, hwm * 1024


def to_mb(n_bytes: int) -> int:
    """Bytes to whole MiB, rounded up (REPORT never shows 0 MB for a live process)."""
    return -(-n_bytes // _MIB)


class MemoryWatch:
    """Samples one process tree; calls ``on_exceeded`` once when it passes ``limit_mb``.

    ``run()`` is a coroutine that loops until cancelled or the root exits; it never raises for a
    vanished process. ``peak_mb`` is the largest usage seen (including high-water marks).
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

    @property
    def peak_mb(self) -> int:
        """Largest tree usage seen so far, in MiB."""
        return to_mb(self._peak_bytes)

    def sample(self) -> int:
        """Measure now; update the peak; trigger the limit. Returns current RSS in bytes."""
        current, high_water = tree_usage_bytes(self.root_pid)
        self._peak_bytes = max(self._peak_bytes, current, high_water)
        if not self.exceeded and current > self.limit_mb * _MIB:
            self.exceeded = True
            self._on_exceeded()
        return current

    async def run(self) -> None:
        """Sample every ``interval_s`` until cancelled or the root process is gone."""
        while _stat_fields(self.root_pid) is not None:
            self.sample()
            await asyncio.sleep(self.interval_s)
