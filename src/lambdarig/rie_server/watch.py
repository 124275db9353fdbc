"""``--watch``: notice code changes and re-initialise the environments, not the emulator.

``CodeWatcher`` polls the code directory and layer paths (stdlib only, no watchdog): every
``interval_s`` it compares each file's modification time, size and inode with the last scan. A
burst of writes (an editor's save, a ``git checkout``) is reported once, after ``debounce_s``
without further change, as the sorted list of changed, added and removed paths. Byte-code caches,
dot-files and dot-directories and editor temporaries are ignored. Two writes of the same size within
the filesystem's timestamp granularity (a few milliseconds) look like one.

``reinitialise`` is the policy the emulator applies to a change, as Lambda does when a function's
code is updated: no new invocation reaches an environment running the old code; an idle one stops
now, a busy one after its current invocation (``retire``), then the environments the emulator
pre-warms at start-up (provisioned, Managed Instances, or the eager on-demand one) are created again
from the new code (``environments.pool.warm_plan``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from lambdarig.rie_server.environments.pool import WarmPlan
from lambdarig.runtime_api import INIT_ON_DEMAND

NOTICE = "lambdarig: {count} file(s) changed ({first}{more}), re-initialising environments"
IGNORED_DIRS = frozenset({"__pycache__"})
IGNORED_SUFFIXES = (".pyc", ".pyo", "~", ".swp", ".swx", ".swo", "___jb_tmp___", "___jb_old___")
IGNORED_NAMES = frozenset({"4913"})  # vim's "can I write here" probe

# (mtime_ns, size, inode) of one file.
Signature = tuple[int, int, int]
Snapshot = dict[Path, Signature]
OnChange = Callable[[list[Path]], Awaitable[None]]

_log = logging.getLogger(__name__)


def ignored_dir(name: str) -> bool:
    """Directories never scanned: dot-directories (``.git``, ``.venv``) and ``__pycache__``."""
    return name.startswith(".") or name in IGNORED_DIRS


def ignored_file(name: str) -> bool:
    """Files whose changes are not code changes: byte code, dot-files (vim swap files, emacs
    locks), backups and editors' temporary files."""
    return (
        name.startswith(".")
        or (name.startswith("#") and name.endswith("#"))
        or name.endswith(IGNORED_SUFFIXES)
        or name in IGNORED_NAMES
    )


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """Signatures of every watched file under ``roots`` (directories, or files such as a layer
    zip). Blocks. A missing root, an unreadable directory or a file removed mid-scan is simply
    absent from the result: it shows up as removed, never as an error."""
    found: Snapshot = {}
    for root in roots:
        if root.is_dir():
            for directory, dirnames, filenames in os.walk(root):
                dirnames[:] = [name for name in dirnames if not ignored_dir(name)]
                for name in filenames:
                    if not ignored_file(name):
                        _add(found, Path(directory, name))
        else:
            _add(found, root)
    return found


def _add(found: Snapshot, path: Path) -> None:
    try:
        info = path.stat()
    except OSError:  # removed since listed, or a dangling link: absent, like a removed file
        return
    found[path] = (info.st_mtime_ns, info.st_size, info.st_ino)


def changed_paths(before: Snapshot, after: Snapshot) -> set[Path]:
    """Paths added, removed or modified between two snapshots."""
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def change_notice(changed: Sequence[Path], base: Path | None = None) -> str:
    """The one line printed for a change: ``lambdarig: 2 file(s) changed (app.py…), …``.

    The first path is shown relative to ``base`` (default: the current directory) when it lies
    below it; ``…`` follows it when more files changed.
    """
    if not changed:
        raise ValueError("expected at least one changed path, got none")
    first = changed[0]
    base = Path.cwd() if base is None else base
    try:
        shown = str(first.relative_to(base))
    except ValueError:
        shown = str(first)
    more = "…" if len(changed) > 1 else ""
    return NOTICE.format(count=len(changed), first=shown, more=more)


class CodeWatcher:
    """Polls ``paths`` and awaits ``on_change(sorted changed paths)`` after each quiet burst.

    ``on_change`` calls never overlap: changes made meanwhile are reported by the next call. An
    exception from ``on_change`` is logged (``lambdarig.rie_server.watch``, ERROR) and watching
    goes on. ``start()`` and ``stop()`` must run on one event loop; scans run in the loop's
    default executor so a large tree never stalls invocations.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        on_change: OnChange,
        *,
        interval_s: float = 0.3,
        debounce_s: float = 0.2,
    ) -> None:
        if interval_s <= 0 or debounce_s < 0:
            raise ValueError(
                f"expected interval_s > 0 and debounce_s >= 0, got {interval_s} and {debounce_s}"
            )
        self._paths = tuple(Path(path).absolute() for path in paths)
        self._on_change = on_change
        self._interval_s = interval_s
        self._debounce_s = debounce_s
        self._task: asyncio.Future[None] | None = None
        self._stopping = False
        self._delivering = False

    @property
    def paths(self) -> tuple[Path, ...]:
        """The watched roots, absolute."""
        return self._paths

    async def start(self) -> None:
        """Take the reference scan, then poll in the background: any change made after this
        returns is reported. Raises ``RuntimeError`` if already started."""
        if self._task is not None:
            raise RuntimeError("expected a stopped CodeWatcher, got one already watching")
        self._stopping = False
        baseline = await self._scan()
        self._task = asyncio.ensure_future(self._run(baseline))

    async def stop(self) -> None:
        """Stop polling. An ``on_change`` call in progress is let finish, never cut half-way
        (it may be stopping environments). Idempotent."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if not self._delivering:
            task.cancel()
        await asyncio.wait({task})
        if not task.cancelled():
            task.result()  # re-raise a failure of the watcher itself (not of on_change)

    async def _scan(self) -> Snapshot:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, snapshot, self._paths)

    async def _run(self, previous: Snapshot) -> None:
        pending: set[Path] = set()
        while not self._stopping:
            await asyncio.sleep(self._debounce_s if pending else self._interval_s)
            current = await self._scan()
            changed = changed_paths(previous, current)
            previous = current
            if changed:
                pending |= changed
            elif pending:
                batch, pending = sorted(pending), set()
                await self._deliver(batch)

    async def _deliver(self, batch: list[Path]) -> None:
        self._delivering = True
        try:
            await self._on_change(batch)
        except Exception as exc:  # the emulator keeps serving; the next change tries again
            _log.error(
                "reacting to %d changed file(s) failed: %s: %s", len(batch), type(exc).__name__, exc
            )
        finally:
            self._delivering = False


class Reinitialisable(Protocol):
    """The part of ``pool.EnvironmentPool`` a code change uses (a fake stands in for tests)."""

    async def retire(self, grace_s: float = 2.0) -> int: ...

    async def prewarm(self, count: int, initialization_type: str = INIT_ON_DEMAND) -> None: ...


async def reinitialise(pool: Reinitialisable, plan: WarmPlan, grace_s: float = 2.0) -> int:
    """Retire every environment (idle ones stop now, busy ones after their invocation), then
    pre-warm ``plan`` from the new code. Returns how many environments were retired. Init
    failures of the new environments go to the pool's listener, as at start-up."""
    retired = await pool.retire(grace_s)
    if plan.count:
        await pool.prewarm(plan.count, plan.initialization_type)
    return retired
