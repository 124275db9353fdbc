"""examples/flask-app, served by ``lambdarig serve -t``: a Flask application behind apig-wsgi, as
a browser and as httpx see it, through the HTTP API route and through the Function URL.

The browser test drives Debian's headless Chromium (marker ``browser``: skips locally without
``chromium`` and ``chromium-driver``, fails under CI=true; tox runs it once, in the ``docker`` env).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lambdarig.cli.runtimes import SUPPORTED_MINORS
from tests.examples.webdriver import browser, chromium_tools
from tests.probes import wait_until
from tests.rie_server.emulator_process import ROOT, Running, drained_stderr, emulator

pytest.importorskip("flask")
pytest.importorskip("apig_wsgi")
if sys.version_info[1] not in SUPPORTED_MINORS:
    pytest.skip("serve -t runs python3.9-3.13 only", allow_module_level=True)

TEMPLATE = ROOT / "examples" / "flask-app" / "template.yaml"
SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")
# The function runs on this interpreter, where the example's requirements.txt is installed.
RUNTIME = f"PythonRuntime=python3.{sys.version_info[1]}"
FRONTS = ("HTTP API", "Function URL")
NAME = "Ann Lee"


@pytest.fixture(scope="module")
def flask_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The example served; front kind -> its base URL (from the start table)."""
    tmp_path = tmp_path_factory.mktemp("flask-app")
    argv = ["-t", str(TEMPLATE), "--port", "0", "--http-port", "0"]
    argv += ["--parameter-overrides", RUNTIME]
    with emulator(argv, tmp_path, cwd=ROOT, entry=SERVE) as running, drained_stderr(running):
        yield base_urls(running)


def base_urls(running: Running) -> dict[str, str]:
    found = {}
    for line in running.stderr_lines:
        match = re.search(r"(HTTP API|Function URL)\s+ANY\s+(http://[^/\s]+)/", line)
        if match:
            found[match.group(1)] = match.group(2)
    assert set(found) == set(FRONTS), running.stderr_lines
    return found


@pytest.mark.parametrize("front", FRONTS)
def test_the_form_sets_a_cookie_and_redirects_to_the_greeting(
    flask_app: dict[str, str], front: str
) -> None:
    with httpx.Client(base_url=flask_app[front], timeout=30, trust_env=False) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert '<form id="form" method="post" action="/greet">' in page.text
        assert 'id="greeting"' not in page.text

        posted = client.post("/greet", data={"name": NAME})
        assert posted.status_code == 303
        assert posted.headers["location"] == "/"
        assert posted.headers["set-cookie"] == f'name="{NAME}"; HttpOnly; Path=/; SameSite=Lax'
        assert client.cookies["name"] == f'"{NAME}"'  # quoted by Werkzeug: it has a space

        followed = client.post("/greet", data={"name": NAME}, follow_redirects=True)
        assert [r.status_code for r in followed.history] == [303]
        assert followed.status_code == 200
        assert f'<p id="greeting">Hello, {NAME}!</p>' in followed.text

        assert client.get("/api/hello").json() == {"message": f"Hello, {NAME}!", "name": NAME}


@pytest.mark.parametrize("front", FRONTS)
def test_the_json_endpoint_and_the_png(flask_app: dict[str, str], front: str) -> None:
    with httpx.Client(base_url=flask_app[front], timeout=30, trust_env=False) as client:
        hello = client.get("/api/hello")
        assert hello.headers["content-type"] == "application/json"
        assert hello.json() == {"message": "Hello, world!", "name": None}
        png = client.get("/pixel.png")
        assert png.status_code == 200
        assert png.headers["content-type"] == "image/png"
        assert png.content.startswith(b"\x89PNG\r\n\x1a\n")  # binary, decoded from base64
        assert png.content[16:24] == b"\x00\x00\x00\x01\x00\x00\x00\x01"  # IHDR: 1 x 1
        assert client.get("/missing").status_code == 404


@pytest.mark.browser
@pytest.mark.skipif(chromium_tools() is None, reason="needs chromium and chromium-driver")
def test_a_browser_submits_the_form_and_sees_the_greeting_and_the_png(
    flask_app: dict[str, str], tmp_path: Path
) -> None:
    with browser(tmp_path / "profile") as chromium:
        for front in FRONTS:
            base = flask_app[front]
            chromium.clear_cookies()  # cookies ignore the port: each front starts without one
            chromium.get(base + "/")
            assert chromium.script("return document.title") == "lambdarig + Flask"
            assert chromium.script("return document.querySelector('#greeting')") is None
            chromium.type("#name", NAME)
            chromium.click("#submit")
            wait_until(
                lambda: chromium.script("return document.querySelector('#greeting') !== null"),
                f"the greeting after the redirect ({front})",
            )
            assert chromium.url == base + "/"  # followed the 303 back to the page
            greeting = chromium.script("return document.querySelector('#greeting').textContent")
            assert greeting == f"Hello, {NAME}!"
            wait_until(
                lambda: chromium.script("return document.querySelector('#pixel').complete"),
                f"the PNG to load ({front})",
            )
            assert chromium.script("return document.querySelector('#pixel').naturalWidth") == 1
            cookie = chromium.command("GET", "/cookie/name")
            assert cookie["httpOnly"] is True
