"""A headless Chromium for tests, driven through chromedriver's W3C WebDriver protocol (JSON over
HTTP: httpx is all it takes, no browser bindings).

Debian's ``chromium`` and ``chromium-driver`` packages (``.ci/run`` installs them); nothing is
downloaded. ``browser()`` starts chromedriver on a free loopback port, opens one session with a
fresh profile, and always ends both.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.probes import wait_until
from tests.rie_server.emulator_process import alive, descendants

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver element reference key
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # runs as root in CI
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
START_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 30.0


def chromium_tools() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, or None when either is not installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Browser:
    """One WebDriver session: navigate, find, type, click, run a script."""

    def __init__(self, client: httpx.Client, session: str) -> None:
        self._client = client
        self._session = f"/session/{session}"

    def command(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """``method path`` of the session; its ``value``, or AssertionError with the error."""
        reply = self._client.request(method, self._session + path, json=body)
        value = reply.json()["value"]
        assert reply.status_code == 200, f"WebDriver {method} {path}: {reply.status_code} {value}"
        return value

    def get(self, url: str) -> None:
        self.command("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return str(self.command("GET", "/url"))

    def find(self, css: str) -> str:
        return str(
            self.command("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]
        )

    def type(self, css: str, text: str) -> None:
        self.command("POST", f"/element/{self.find(css)}/value", {"text": text})

    def click(self, css: str) -> None:
        self.command("POST", f"/element/{self.find(css)}/click", {})

    def script(self, source: str) -> Any:
        """The value of ``source``, a function body run in the page (``return ...``)."""
        return self.command("POST", "/execute/sync", {"script": source, "args": []})

    def clear_cookies(self) -> None:
        self.command("DELETE", "/cookie")


@contextlib.contextmanager
def browser(profile: Path) -> Iterator[Browser]:
    """A headless Chromium session with its profile in ``profile`` (a fresh directory)."""
    tools = chromium_tools()
    assert tools is not None, "chromium and chromedriver are not installed"
    chromium, driver = tools
    port = free_port()
    log = profile.parent / f"chromedriver-{port}.log"
    process = subprocess.Popen(
        [driver, f"--port={port}", f"--log-path={log}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", timeout=COMMAND_TIMEOUT_S, trust_env=False
    )
    try:
        wait_until(lambda: _ready(client), "chromedriver to answer /status", START_TIMEOUT_S)
        options = {"binary": chromium, "args": [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]}
        capabilities = {"browserName": "chrome", "goog:chromeOptions": options}
        reply = client.post("/session", json={"capabilities": {"alwaysMatch": capabilities}})
        assert reply.status_code == 200, f"no WebDriver session: {reply.text}"
        session = reply.json()["value"]["sessionId"]
        try:
            yield Browser(client, session)
        finally:
            client.delete(f"/session/{session}")  # ends Chromium
    finally:
        client.close()
        started = descendants(process.pid)  # Chromium and its helpers
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _end(started)


def _end(pids: set[int]) -> None:
    """Wait for ``pids`` to exit (Chromium quits with its session); kill any left, and fail."""
    with contextlib.suppress(AssertionError):
        wait_until(lambda: not any(alive(pid) for pid in pids), "Chromium to exit", 10.0)
    leaked = [pid for pid in pids if alive(pid)]
    for pid in leaked:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not leaked, f"Chromium processes outlived chromedriver: {leaked}"


def _ready(client: httpx.Client) -> bool:
    try:
        return bool(client.get("/status").json()["value"]["ready"])
    except (httpx.HTTPError, ValueError, KeyError):
        return False
