"""http.listen: listening sockets resolved without loading anything in the resolver's thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[3] / "src")

_BIND_AND_REPORT = """
import asyncio, json, socket, sys, threading
from lambdarig.rie_server.http.listen import bind

async def main(host):
    sockets = await bind(host, 0)
    try:
        return [sock.getsockname()[0] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()

before = set(sys.modules)
addresses = asyncio.run(main(sys.argv[1]))
print(json.dumps([addresses, sorted(set(sys.modules) - before)]))
"""


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_bind_resolves_an_ascii_host_without_the_idna_codec(host: str) -> None:
    """asyncio resolves in its executor's thread; a ``str`` host would make that thread import
    ``encodings.idna`` while the loop's thread may be importing too (CPython 3.10 then printed
    an "Exception ignored" traceback from its import locks under ``lambdarig invoke -t``)."""
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run(
        [sys.executable, "-c", _BIND_AND_REPORT, host],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    addresses, loaded = json.loads(done.stdout.splitlines()[-1])
    assert addresses and all(address in ("127.0.0.1", "::1") for address in addresses)
    assert "encodings.idna" not in loaded, loaded
