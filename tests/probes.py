"""Probe state instead of sleeping: poll a condition until it holds or a deadline passes.

A test that waits for something to happen polls for it here; a test that asserts something did
NOT happen first waits for a later event that would come after it (never a bare sleep).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Callable

DEFAULT_TIMEOUT_S = 10.0


async def eventually(
    condition: Callable[[], bool],
    what: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = 0.005,
) -> None:
    """Return once ``condition()`` holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        await asyncio.sleep(interval_s)


def wait_until(
    condition: Callable[[], bool],
    what: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = 0.01,
) -> None:
    """The blocking twin of :func:`eventually`, for tests without an event loop."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(interval_s)


def process_gone(pid: int) -> bool:
    """True once ``pid`` is no longer running: gone, or a zombie (dead, but its parent or, for an
    orphan, a PID 1 that does not reap, has not collected it yet; kill(0) still answers those)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="surrogateescape") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
