"""A moto standalone server on 127.0.0.1: a real subprocess, probed, always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
            return True
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def moto_server(deadline_s: float = 30.0) -> Iterator[str]:
    """Yield the base URL of a fresh moto server; the process group is killed on exit."""
    moto = Path(sys.executable).with_name("moto_server")
    port = _free_port()
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        give_up = time.monotonic() + deadline_s
        while not _ready(url):
            if process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {process.returncode} before serving")
            if time.monotonic() > give_up:
                raise RuntimeError(f"moto_server did not answer on {url} within {deadline_s} s")
            time.sleep(0.05)  # poll interval of the readiness probe, not a readiness wait
        yield url
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
