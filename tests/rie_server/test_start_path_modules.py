"""What the common start path loads: ``lambdarig-rie`` serving one local runtime, no extensions,
no Telemetry/Logs subscription, no ``--image``, answering one invoke, must not load the
Extensions API nor the Telemetry API (``extensions.on_demand``, ``telemetry.on_demand``: both
are made on first need). A real emulator process; its modules are written by an ``atexit`` hook
when it stops."""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.rie_server.emulator_process import OUR_RUNTIME, emulator

# The emulator, run as ``python -m lambdarig.rie_server`` is, that writes ``sys.modules`` (one
# name a line) to the file named by its first argument when it exits.
RECORDING = (
    "import atexit, runpy, sys\n"
    "path = sys.argv.pop(1)\n"
    "def record():\n"
    "    with open(path, 'w') as out:\n"
    "        out.write('\\n'.join(sorted(sys.modules)))\n"
    "atexit.register(record)\n"
    "runpy.run_module('lambdarig.rie_server', run_name='__main__', alter_sys=True)\n"
)
# Not ``lambdarig.extensions_api``: wire strings only (no import of its own), among them the
# shutdown reasons every environment ends its processes with.
NOT_NEEDED = (
    "lambdarig.rie_server.extensions.backend",
    "lambdarig.rie_server.extensions.host",
    "lambdarig.rie_server.extensions.phases",
    "lambdarig.rie_server.extensions.protocol",
    "lambdarig.rie_server.extensions.state",
    "lambdarig.rie_server.telemetry.dispatch",
    "lambdarig.rie_server.telemetry.events",
    "lambdarig.rie_server.telemetry.hub",
    "lambdarig.rie_server.telemetry.subscription",
)
LOCAL = ["--runtime-interface-emulator-address", "127.0.0.1:0"]
LOCAL += ["--runtime-api-address", "127.0.0.1:0"]
INVOKE = "/2015-03-31/functions/function/invocations"


def _loaded_after_one_invoke(tmp_path: Path, *argv: str) -> set[str]:
    record = tmp_path / "modules.txt"
    entry = (sys.executable, "-c", RECORDING, str(record))
    command = [*LOCAL, *argv, *OUR_RUNTIME, "app.handler"]
    with emulator(command, tmp_path, entry=entry) as running:
        request = urllib.request.Request(running.url + INVOKE, data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200
            assert b"Hello, world!" in answer.read()
    assert running.process.returncode == 0, running.stderr_lines
    return set(record.read_text().split())


@pytest.mark.skipif(
    os.path.isdir("/opt/extensions"), reason="this machine has /opt/extensions: extensions load"
)
def test_one_plain_runtime_and_one_invoke_load_neither_extensions_nor_telemetry(
    tmp_path: Path,
) -> None:
    loaded = _loaded_after_one_invoke(tmp_path)
    assert "lambdarig.rie_server.runtime.server" in loaded  # the record is the emulator's
    assert "lambdarig.rie_server.extensions.on_demand" in loaded
    assert sorted(loaded.intersection(NOT_NEEDED)) == []


def test_the_check_sees_the_extensions_api_once_an_extensions_directory_exists(
    tmp_path: Path,
) -> None:
    # An empty extensions directory: the Extensions API is served (the host is made).
    layer = tmp_path / "layer"
    (layer / "extensions").mkdir(parents=True)
    loaded = _loaded_after_one_invoke(tmp_path, "--layer", str(layer))
    assert "lambdarig.rie_server.extensions.host" in loaded
