"""Memory accounting and enforcement for one runtime process tree.

Lambda kills an environment whose process tree goes past its memory size and reports
``Runtime.OutOfMemory`` in REPORT. Locally we watch the tree rooted at the runtime: its
descendants (found through ``/proc/<pid>/task/<tid>/children``, so a child that left the process
group still counts) plus members of its process group that were orphaned and re-parented (found by
a full ``/proc`` scan when a member seen before has vanished, since only a parent's exit orphans,
and every ``_FULL_SCAN_EVERY`` sampling intervals as a backstop). The scan is too slow for every
sample: ~2-10 ms for ~100 processes (more on a desktop), during which the event loop serves no
invoke, against well under 1 ms for the walk. So the walks taken as the runtime is adopted (the
supervisor's and the sampler's first), which the first invoke usually waits for, do not scan: the
backstop scans first one interval after the first walk.

Samples read ``statm`` (resident pages). Enforcement is sampled every ``interval_s``: an allocation
faster than the interval can overshoot before the kill. The reported peak is the larger of the
sampled maximum and the summed per-process high-water marks (``VmHWM``, read every few samples),
so a spike between samples still shows up in ``max_memory_used_mb`` (within a few samples).

Where the host delegates a cgroup v2 subtree with the memory controller, ``CgroupLimit`` puts the
runtime in its own cgroup with ``memory.max``: the kernel then enforces the limit exactly and its
``memory.events``/``memory.peak`` are read back; the sampler keeps running alongside it.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from pathlib import Path

_MIB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")
_FULL_SCAN_EVERY = 200  # sampling intervals between full /proc scans when no member vanished
_HWM_EVERY = (
    5  # samples between reads of the high-water marks (``status`` is slower than ``statm``)
)


def _read_text(path: str) -> str:
    """A ``/proc`` file's text (``Path.read_text`` without ``pathlib``, which the plain start
    path does not load). A process names itself (``stat``, ``status``: any bytes but NUL and
    newline, e.g. through ``/proc/self/comm``): undecodable bytes are kept as surrogates, so the
    numbers around the name still read."""
    with open(path, encoding="utf-8", errors="surrogateescape") as file:
        return file.read()


def _stat_fields(pid: int) -> tuple[int, int] | None:
    """(ppid, pgid) of ``pid``, or ``None`` if it is gone or unreadable."""
    try:
        raw = _read_text(f"/proc/{pid}/stat")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its last ")".
    rest = raw[raw.rfind(")") + 2 :].split()
    return int(rest[1]), int(rest[2])


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for tid in tasks:
        try:
            found.extend(int(c) for c in _read_text(f"/proc/{pid}/task/{tid}/children").split())
        except OSError:
            continue
    return found


def descendants(roots: set[int]) -> set[int]:
    """``roots`` (those still alive) and all their descendants."""
    seen: set[int] = set()
    todo = [pid for pid in roots if os.path.exists(f"/proc/{pid}")]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo.extend(_children(pid))
    return seen


def group_members(pgid: int) -> set[int]:
    """Every live process whose process group is ``pgid`` (full ``/proc`` scan)."""
    members: set[int] = set()
    for name in os.listdir("/proc"):
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
            total += int(_read_text(f"/proc/{pid}/statm").split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * _PAGE


def hwm_bytes(pids: set[int]) -> int:
    """Summed resident high-water marks (``VmHWM``) of ``pids``."""
    total = 0
    for pid in pids:
        try:
            text = _read_text(f"/proc/{pid}/status")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) * 1024
    return total


class StatmFiles:
    """Resident memory of processes through kept-open ``/proc/<pid>/statm`` descriptors: one
    ``pread`` per process and sample instead of open/read/close (the invoke path reads these).

    A descriptor names the process it was opened for, so a reused pid cannot be misread: a dead
    process reads as 0 resident pages and its descriptor is dropped. ``close()`` releases them all.
    """

    def __init__(self) -> None:
        self._fds: dict[int, int] = {}

    def resident_bytes(self, pids: set[int]) -> int:
        """Summed resident memory of ``pids`` (vanished ones count 0)."""
        total = 0
        for pid in pids:
            fd = self._fds.get(pid)
            if fd is None:
                try:
                    fd = os.open(f"/proc/{pid}/statm", os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    continue
                self._fds[pid] = fd
            try:
                pages = int(os.pread(fd, 256, 0).split()[1])
            except (OSError, IndexError, ValueError):
                pages = 0
            if pages == 0:
                self._forget(pid)
            total += pages
        return total * _PAGE

    def keep_only(self, pids: set[int]) -> None:
        """Close the descriptors of processes no longer in ``pids``."""
        for pid in [pid for pid in self._fds if pid not in pids]:
            self._forget(pid)

    def _forget(self, pid: int) -> None:
        fd = self._fds.pop(pid, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        for pid in list(self._fds):
            self._forget(pid)


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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"expected interval_s > 0, got {interval_s}")
        self.root_pid = root_pid
        self.limit_mb = limit_mb
        self.interval_s = interval_s
        self.exceeded = False
        self._on_exceeded = on_exceeded
        self._peak_bytes = 0
        self._orphans: set[int] = set()
        self._pids: set[int] = {root_pid}
        self._samples = 0
        self._clock = clock
        self._scan_at: float | None = None  # when (``clock``) the backstop scan is next due
        self._statm: StatmFiles | None = StatmFiles()

    def close(self) -> None:
        """Release the kept ``/proc`` descriptors; later reads open and close their files."""
        statm, self._statm = self._statm, None
        if statm is not None:
            statm.close()

    def _resident_bytes(self, pids: set[int]) -> int:
        return rss_bytes(pids) if self._statm is None else self._statm.resident_bytes(pids)

    def pids(self) -> set[int]:
        """The live tree now. The full scan for orphaned group members runs when a member seen
        before has vanished (its children may have been re-parented), and as a backstop one
        interval after the first call, then every ``_FULL_SCAN_EVERY`` intervals."""
        walked = descendants({self.root_pid} | self._orphans)
        now = self._clock()
        if self._scan_at is None:  # the first walk: the backstop is due one interval later
            self._scan_at, due = now + self.interval_s, False
        else:
            due = now >= self._scan_at
        if due or not self._pids <= walked:
            self._scan_at = now + _FULL_SCAN_EVERY * self.interval_s
            self._orphans = group_members(self.root_pid)
            walked = descendants({self.root_pid} | self._orphans)
        self._samples += 1
        self._pids = walked
        if self._statm is not None:
            self._statm.keep_only(self._pids)
        return self._pids

    def sample(self) -> int:
        """Walk and measure now; update the peak (high-water marks every few samples); trigger
        the limit. Returns current RSS in bytes."""
        pids = self.pids()
        current = self._resident_bytes(pids)
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
        """Current RSS of the processes found by the last walk (no walk, one ``pread`` per
        process); updates the peak."""
        current = self._resident_bytes(self._pids)
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
        import asyncio  # here: the emulator spawns its first runtime before loading asyncio

        try:
            while _stat_fields(self.root_pid) is not None:
                self.sample()
                await asyncio.sleep(self.interval_s)
        finally:
            self.close()


class CgroupLimit:
    """A cgroup v2 child holding one runtime tree, so the kernel enforces ``memory.max`` exactly.

    Only created where the emulator's own cgroup is delegated to it with the memory controller
    enabled for children (``memory`` in its ``cgroup.subtree_control``) and writable: typically a
    systemd user scope with delegation, or a container started with a private writable cgroup.
    Elsewhere ``create`` returns ``None`` and sampling (``MemoryWatch``) enforces the limit alone.
    The runtime joins the cgroup itself between fork and exec (``join``), before any allocation.
    """

    def __init__(self, path: Path, relative: str) -> None:
        self.path = path
        self.relative = relative  # as /proc/<pid>/cgroup names it: "/<own cgroup>/<name>"

    @classmethod
    def create(
        cls,
        name: str,
        limit_mb: int,
        root: str | Path = "/sys/fs/cgroup",
        own_cgroup: str | None = None,
    ) -> CgroupLimit | None:
        """Make ``<own cgroup>/<name>`` with the limit (no swap, whole-group OOM kill), or
        ``None`` when this host does not allow it. Never raises."""
        try:
            if own_cgroup is None:
                lines = _read_text("/proc/self/cgroup").splitlines()
                own_cgroup = next((line[3:] for line in lines if line.startswith("0::")), None)
            if own_cgroup is None or not os.path.exists(os.path.join(root, "cgroup.controllers")):
                return None
            parent = os.path.join(root, own_cgroup.lstrip("/"))
            if "memory" not in _read_text(os.path.join(parent, "cgroup.subtree_control")).split():
                return None
            # Only a host that delegates the memory controller gets here (and loads pathlib).
            from pathlib import Path

            path = Path(parent, name)
            path.mkdir()
        except (OSError, StopIteration):
            return None
        limit = cls(path, "/" + own_cgroup.strip("/") + "/" + name)
        try:
            (path / "memory.max").write_text(str(limit_mb * _MIB))
            for optional, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                if (path / optional).exists():
                    (path / optional).write_text(value)
        except OSError:
            limit.remove()
            return None
        return limit

    def join(self) -> None:
        """Move the calling process into the cgroup (runs in the child before exec)."""
        (self.path / "cgroup.procs").write_text("0")

    def holds(self, pid: int) -> bool:
        """Whether ``pid`` is in this cgroup (the parent's check that ``join`` worked)."""
        try:
            lines = _read_text(f"/proc/{pid}/cgroup").splitlines()
        except OSError:
            return False
        return f"0::{self.relative}" in lines

    def _read(self, name: str) -> str:
        try:
            return (self.path / name).read_text()
        except OSError:
            return ""

    def peak_bytes(self) -> int:
        """The kernel's peak (``memory.peak``, Linux 5.19+), else current usage, else 0."""
        for name in ("memory.peak", "memory.current"):
            text = self._read(name).strip()
            if text.isdigit():
                return int(text)
        return 0

    def oom_killed(self) -> bool:
        """Whether the kernel killed anything in the cgroup for passing ``memory.max``."""
        for line in self._read("memory.events").splitlines():
            key, _, count = line.partition(" ")
            if key in ("oom_kill", "oom_group_kill") and count.strip() not in ("", "0"):
                return True
        return False

    def remove(self) -> None:
        """Kill what is left (``cgroup.kill``, Linux 5.14+) and remove the directory. Best effort:
        a failure is logged and leaves an empty cgroup behind, which is harmless."""
        kill = self.path / "cgroup.kill"
        try:
            if kill.exists():
                kill.write_text("1")
            self.path.rmdir()
        except OSError as exc:
            # Imported here: the first runtime is spawned before logging is loaded (fast_start).
            import logging

            logging.getLogger(__name__).warning("could not remove cgroup %s: %s", self.path, exc)
