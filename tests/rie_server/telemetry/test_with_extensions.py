"""The Telemetry API behind the real Extensions API: an external extension in a layer's
``extensions/`` registers, subscribes with its ``Lambda-Extension-Identifier`` (as AWS's Python
telemetry sample extension does, https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html),
and its listener receives ``platform.extension`` and the invoke's events from the emulator."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from tests.probes import eventually
from tests.rie_server.telemetry.listeners import HttpListener
from tests.rie_server.telemetry.test_end_to_end import Output

EXTENSION = """#!{python}
import json, os, urllib.request
BASE = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"]
NAME = os.path.basename(__file__)

def call(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, headers=headers or {{}}, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, dict(resp.headers), resp.read()

_, headers, _ = call("POST", "/2020-01-01/extension/register", {{"events": ["INVOKE", "SHUTDOWN"]}},
                     {{"Lambda-Extension-Name": NAME}})
ident = headers["Lambda-Extension-Identifier"]
subscription = {{
    "schemaVersion": "2022-12-13",
    "types": ["platform", "function"],
    "buffering": {{"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25}},
    "destination": {{"protocol": "HTTP", "URI": "http://sandbox.localdomain:{port}/telemetry"}},
}}
call("PUT", "/2022-07-01/telemetry", subscription, {{"Lambda-Extension-Identifier": ident}})
while True:
    _, _, event = call("GET", "/2020-01-01/extension/event/next", None,
                       {{"Lambda-Extension-Identifier": ident}})
    if json.loads(event)["eventType"] == "SHUTDOWN":
        break
"""

HANDLER = "def handler(event, context):\n    print('from the function')\n    return 'ok'\n"


@pytest.mark.asyncio
async def test_a_registered_extension_subscribes_and_receives_the_invoke(tmp_path: Path) -> None:
    listener = HttpListener()
    port = await listener.start()
    layer = tmp_path / "layer"
    (layer / "extensions").mkdir(parents=True)
    script = layer / "extensions" / "telemetry-ext"
    script.write_text(EXTENSION.format(python=sys.executable, port=port))
    script.chmod(0o755)
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    config = EmulatorConfig(
        command=(sys.executable, "-m", "lambdarig.runtime_client", "app.handler"),
        cwd=str(code),
        invoke_host="127.0.0.1",
        invoke_port=0,
        runtime_api_address="127.0.0.1:0",
        timeout_s=5.0,
        memory_mb=256,
        layers=(str(layer),),
        runtime_env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"},
    )
    emulator = Emulator(config, output=Output())  # type: ignore[arg-type]
    await emulator.start()
    try:
        async with httpx.AsyncClient() as client:
            url = f"{emulator.invoke_url}/2015-03-31/functions/function/invocations"
            response = await client.post(url, content=b"{}", timeout=30)
        assert response.status_code == 200 and response.json() == "ok"

        def seen(kind: str) -> bool:
            return any(event["type"] == kind for event in listener.events)

        await eventually(lambda: seen("platform.report"), "the invoke's platform.report")
    finally:
        await emulator.stop()
        await listener.stop()
    types = [event["type"] for event in listener.events]
    extension = next(e for e in listener.events if e["type"] == "platform.extension")
    assert extension["record"]["name"] == "telemetry-ext"
    assert extension["record"]["events"] == ["INVOKE", "SHUTDOWN"]
    assert "platform.telemetrySubscription" in types
    start = types.index("platform.start")
    assert types.index("platform.runtimeDone") > start and types.index("platform.report") > start
    assert any(
        e["type"] == "function" and "from the function" in str(e["record"]) for e in listener.events
    )
