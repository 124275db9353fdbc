"""``lambdarig-rie`` / ``python -m lambdarig.rie_server``: aws-lambda-rie's command line.

Exit status: 0 after SIGINT/SIGTERM (every environment stopped), 2 for a bad flag, value or command
(one line on stderr, before anything starts), 1 when the emulator cannot start (address in use, a
runtime that cannot be spawned). Once ready it prints ``lambdarig-rie: listening on
http://HOST:PORT`` on stderr (tools parse that line).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from lambdarig.rie_server.errors import ConfigError, EmulatorError

PROG = "lambdarig-rie"
READY_LINE = PROG + ": listening on {url}"


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        config = EmulatorConfig.from_environ_and_args(os.environ, args)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(run(config))


async def run(config: EmulatorConfig, status: TextIO | None = None) -> int:
    """Serve ``config`` until SIGINT or SIGTERM; returns the exit status."""
    status = status if status is not None else sys.stderr
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    emulator = Emulator(config)
    try:
        try:
            await emulator.start()
        except (OSError, EmulatorError) as exc:
            print(f"{PROG}: error: could not start: {exc}", file=status, flush=True)
            return 1
        print(READY_LINE.format(url=emulator.invoke_url), file=status, flush=True)
        await stop.wait()
        return 0
    finally:
        await emulator.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
