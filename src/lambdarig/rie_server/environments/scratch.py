"""Temporary directories owned by one emulator process, and the sweep of those a killed one left.

An emulator lays its layers out under ``$TMPDIR/lambdarig-opt-<pid>-<random>``. ``stop`` removes
it; an emulator killed with SIGKILL cannot, so every emulator removes the directories of that
prefix whose owner process is gone: at its start when it lays layers out, else when it stops
(``artifacts.Artifacts``: a start without layers loads no ``tempfile``). Only directories matching
the exact name pattern, owned by this user and whose process no longer exists are removed: never a
link, never another user's, never one whose process (or a process reusing its id) is alive.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

PREFIX = "lambdarig-opt-"
_NAME = re.compile(re.escape(PREFIX) + r"([0-9]+)-[a-z0-9_]+\Z")


def make_scratch(base: Path | None = None) -> Path:
    """A new directory ``lambdarig-opt-<our pid>-<random>`` under ``base`` (default the system's
    temporary directory)."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (ours or another user's); unsure counts as alive."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def sweep_stale(base: Path | None = None) -> list[Path]:
    """Remove the scratch directories under ``base`` (default the system's temporary directory)
    whose emulator process is gone; return them. Never raises for what it cannot remove."""
    base = Path(tempfile.gettempdir()) if base is None else base
    removed: list[Path] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not entry.is_dir(follow_symlinks=False) or info.st_uid != os.getuid():
            continue
        if not process_alive(int(match.group(1))):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed
