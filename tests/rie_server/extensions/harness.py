"""What the extension tests share: the extension executable written from parameters (its events
and its behaviour), the records it writes, a function directory with a handler, and the two ways
to run them (an ``Environment`` from a spec, or an ``Emulator`` from a config)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.environments.environment import (
    Environment,
    EnvironmentSpec,
    InvokeRequest,
)

ARN = "arn:aws:lambda:us-east-1:012345678912:function:test_function"
SRC = str(Path(__file__).parents[3] / "src")

# An external extension (a Python script using only urllib) that logs what it gets to
# $EXT_LOG_DIR/<its name>.jsonl. MODE picks its behaviour; see ``write_extension``.
EXTENSION = r"""#!/usr/bin/env python3
import json, os, sys, time, urllib.request
BASE = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2020-01-01/extension"
NAME = os.path.basename(__file__)
LOG = os.environ["EXT_LOG_DIR"] + "/" + NAME + ".jsonl"
EVENTS = {events!r}
MODE = {mode!r}

def log(record):
    with open(LOG, "a") as f:
        f.write(json.dumps(record) + "\n")

def call(path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, headers=headers or {{}})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")

if MODE == "crash":
    sys.exit(3)
if MODE == "ignore_shutdown":
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
status, headers, body = call("/register", {{"events": EVENTS}}, {{"Lambda-Extension-Name": NAME}})
ident = headers["Lambda-Extension-Identifier"]
log({{"registered": body, "status": status}})
if MODE == "init_error":
    req = urllib.request.Request(BASE + "/init/error", data=b"{{}}", headers={{
        "Lambda-Extension-Identifier": ident,
        "Lambda-Extension-Function-Error-Type": "Extension.ConfigInvalid"}})
    urllib.request.urlopen(req, timeout=10).read()
    sys.exit(1)
while True:
    status, headers, event = call("/event/next", headers={{"Lambda-Extension-Identifier": ident}})
    log({{"event": event, "event_id": headers.get("Lambda-Extension-Event-Identifier"),
         "at": time.time()}})
    if event["eventType"] == "SHUTDOWN":
        if MODE == "ignore_shutdown":
            time.sleep(60)
        sys.exit(0)
    if MODE == "exit_on_invoke":
        # a test that wants the runtime to answer first holds this invoke until it releases it
        hold = os.environ["EXT_LOG_DIR"] + "/hold-" + event["requestId"]
        waited = 0.0
        while os.path.exists(hold) and not os.path.exists(hold + ".released") and waited < 30:
            time.sleep(0.01)
            waited += 0.01
        sys.exit(7)
    if MODE == "slow":
        time.sleep(0.5)
        log({{"done": event["requestId"], "at": time.time()}})
"""

HANDLER = "def handler(event, context):\n    return {'echo': event}\n"


def write_extension(opt: Path, name: str, events: list[str], mode: str = "normal") -> None:
    """``opt/extensions/name``, subscribed to ``events``. ``mode``: ``normal``; ``crash`` (exits
    3 before registering); ``init_error`` (reports Extension.ConfigInvalid); ``ignore_shutdown``;
    ``exit_on_invoke`` (exits 7 on INVOKE); ``slow`` (works 0.5 s after each INVOKE)."""
    directory = opt / "extensions"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(EXTENSION.format(events=events, mode=mode))
    path.chmod(0o755)


def records(logs: Path, name: str) -> list[dict[str, Any]]:
    """What the extension ``name`` logged so far."""
    path = logs / f"{name}.jsonl"
    if not path.exists():
        return []
    complete = path.read_text().split("\n")[:-1]  # a line still being written is not read
    return [json.loads(line) for line in complete]


def function_dirs(tmp_path: Path) -> tuple[Path, Path]:
    """``task`` (with ``app.py``: ``HANDLER``) and the extensions' ``logs``."""
    task, logs = tmp_path / "task", tmp_path / "logs"
    task.mkdir(), logs.mkdir()
    (task / "app.py").write_text(HANDLER)
    return task, logs


def runtime_env(task: Path, logs: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(task), SRC]),
        "_HANDLER": "app.handler",
        "EXT_LOG_DIR": str(logs),
    }


def environment_spec(task: Path, opt: Path, logs: Path) -> EnvironmentSpec:
    """The runtime client on ``task``'s handler, with ``opt/extensions``."""
    env = runtime_env(task, logs)
    env.update(
        LAMBDA_TASK_ROOT=str(task),
        AWS_LAMBDA_FUNCTION_NAME="test_function",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
    )
    return EnvironmentSpec(
        command=(sys.executable, "-m", "lambdarig.runtime_client", "app.handler"),
        cwd=str(task),
        env=env,
        function_arn=ARN,
        timeout_s=5.0,
        memory_mb=512,
        extensions_dir=str(opt / "extensions"),
    )


def emulator_config(
    task: Path, logs: Path, *, layer: Path | None = None, extensions_dir: Path | None = None
) -> EmulatorConfig:
    """The runtime client on ``task``'s handler, its extensions from ``layer`` (as ``--layer``)
    or from ``extensions_dir`` (lambdarig-rie's /opt/extensions)."""
    return EmulatorConfig(
        command=(sys.executable, "-m", "lambdarig.runtime_client", "app.handler"),
        cwd=str(task),
        invoke_host="127.0.0.1",
        invoke_port=0,
        runtime_api_address="127.0.0.1:0",
        layers=() if layer is None else (str(layer),),
        extensions_dir=None if extensions_dir is None else str(extensions_dir),
        runtime_env=runtime_env(task, logs),
    )


def run(spec: EnvironmentSpec, body: Any) -> Any:
    """``body(env)`` on a new ``Environment`` of ``spec``, stopped (spindown) after it."""

    async def main() -> Any:
        env = Environment(spec, "env-1", lambda _env, line: None)
        try:
            return await body(env)
        finally:
            await env.stop()

    return asyncio.run(main())


def request(
    request_id: str, trace: str | None = None, payload: bytes = b'{"a": 1}'
) -> InvokeRequest:
    return InvokeRequest(request_id=request_id, payload=payload, trace_id=trace)
