"""``lambdarig serve --watch``: editing the code re-initialises the environments while the same
emulator process keeps serving on the same port, with a one-line notice on stderr."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.rie_server.emulator_process import Running, alive, emulator

SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")
DEADLINE_S = 30.0
NOTICE = re.compile(
    r"^lambdarig: 1 file\(s\) changed \((?P<first>\S+)\), re-initialising environments$"
)
APP = """\
import os

VERSION = {version!r}


def handler(event, context):
    return {{"version": VERSION, "pid": os.getpid(), "ppid": os.getppid()}}
"""


def write_app(code: Path, version: str) -> None:
    (code / "app.py").write_text(APP.format(version=version))


def invoke(running: Running) -> dict[str, Any]:
    url = f"{running.url}/2015-03-31/functions/function/invocations"
    response = httpx.post(url, json={}, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def poll(probe: Callable[[], dict[str, Any] | None], what: str) -> dict[str, Any]:
    """Call ``probe`` until it returns a value, within ``DEADLINE_S``."""
    deadline = time.monotonic() + DEADLINE_S
    last: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last is not None:
            return last
        time.sleep(0.05)
    raise AssertionError(f"expected {what} within {DEADLINE_S} s; it never happened")


def stderr_line(running: Running, pattern: re.Pattern[str]) -> re.Match[str]:
    """Read the emulator's stderr past its ready line until a line matches ``pattern``."""
    stream = running.process.stderr
    assert stream is not None
    deadline = time.monotonic() + DEADLINE_S
    buffer = b""
    while time.monotonic() < deadline:
        for line in running.stderr_lines:
            match = pattern.match(line)
            if match:
                return match
        ready, _, _ = select.select([stream], [], [], 0.1)
        if not ready:
            continue
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            break
        *complete, buffer = (buffer + chunk).split(b"\n")
        running.stderr_lines.extend(raw.decode(errors="replace") for raw in complete)
    raise AssertionError(f"expected a line like {pattern.pattern}; stderr: {running.stderr_lines}")


def test_an_edit_is_served_by_new_environments_of_the_same_emulator(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    write_app(code, "one")
    argv = ["app.handler", "--code", str(code), "--watch", "--port", "0"]
    with emulator(argv, tmp_path, cwd=tmp_path, entry=SERVE) as running:
        before = invoke(running)
        assert before["version"] == "one"
        assert before["ppid"] == running.process.pid

        write_app(code, "two, edited")

        def edited() -> dict[str, Any] | None:
            body = invoke(running)
            return body if body["version"] == "two, edited" else None

        after = poll(edited, "the edited handler to answer")
        notice = stderr_line(running, NOTICE)
        assert running.process.poll() is None
        assert after["ppid"] == running.process.pid  # the same emulator spawned the new runtime
        assert after["pid"] != before["pid"]
        poll(lambda: None if alive(before["pid"]) else {}, "the old runtime to be stopped")
    assert notice.group("first") == "code/app.py"


def test_an_edited_layer_is_laid_out_again_for_the_new_environments(tmp_path: Path) -> None:
    code, layer = tmp_path / "code", tmp_path / "layer"
    code.mkdir()
    (layer / "python").mkdir(parents=True)
    (code / "app.py").write_text(
        "import helper\n\n\ndef handler(event, context):\n    return {'version': helper.VERSION}\n"
    )
    (layer / "python" / "helper.py").write_text("VERSION = 'one'\n")
    argv = ["app.handler", "--code", str(code), "--layer", str(layer), "--watch", "--port", "0"]
    with emulator(argv, tmp_path, cwd=tmp_path, entry=SERVE) as running:
        assert invoke(running)["version"] == "one"
        (layer / "python" / "helper.py").write_text("VERSION = 'two, edited'\n")

        def edited() -> dict[str, Any] | None:
            body = invoke(running)
            return body if body["version"] == "two, edited" else None

        poll(edited, "the edited layer to be imported")
        notice = stderr_line(running, NOTICE)
    assert notice.group("first") == "layer/python/helper.py"


def test_watch_with_an_image_is_a_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [*SERVE, "app.handler", "--watch", "--image", "some-image"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "lambdarig: error: expected --watch without --image (the image holds the code: "
        "rebuild it), got both\n"
    )
