"""examples/sam-app, the project ``sam init`` generates for Python, served unchanged by
``lambdarig serve -t`` (no ``sam build``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import httpx

from tests.rie_server.emulator_process import ROOT, emulator

TEMPLATE = ROOT / "examples" / "sam-app" / "template.yaml"
SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")


def test_get_hello_answers_hello_world(tmp_path: Path) -> None:
    argv = ["-t", str(TEMPLATE), "--port", "0", "--http-port", "0"]
    with emulator(argv, tmp_path, cwd=ROOT, entry=SERVE) as running:
        table = "\n".join(running.stderr_lines)
        match = re.search(
            r"HelloWorldFunction\s+HelloWorldFunction\s+REST API\s+GET\s+(\S+)", table
        )
        assert match is not None, table
        assert match.group(1).endswith("/hello")
        reply = httpx.get(match.group(1), timeout=30, trust_env=False)
        assert reply.status_code == 200
        assert reply.json() == {"message": "hello world"}
        invoked = httpx.post(
            f"{running.url}/2015-03-31/functions/HelloWorldFunction/invocations",
            content=b"{}",
            timeout=30,
            trust_env=False,
        )
        assert invoked.json() == {"statusCode": 200, "body": '{"message": "hello world"}'}
