"""One function behind one HTTP front: ``lambdarig serve HANDLER --http KIND``.

Starts the emulator (its Invoke API as usual), then the front; prints the emulator's ready line
and ``lambdarig: HTTP front (KIND) listening on http://HOST:PORT`` on stderr; runs until SIGINT
or SIGTERM, then stops the front and the emulator. Exit status as ``lambdarig-rie``: 0 after a
signal, 1 when something cannot start.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TextIO

from lambdarig.rie_server.cli import PROG, READY_LINE, configure_logging
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from lambdarig.rie_server.environments.environment import InvokeOutcome
from lambdarig.rie_server.errors import EmulatorError
from lambdarig.rie_server.fronts.routing import BUFFERED, RouteTable, single_function_routes
from lambdarig.rie_server.fronts.server import HttpFront

if TYPE_CHECKING:
    from lambdarig.rie_server.cli import EarlySignals
    from lambdarig.rie_server.fast_start import Prestarted
    from lambdarig.rie_server.fronts.streamed import StreamStart

FRONT_LINE = "lambdarig: HTTP front ({kind}) listening on {url}"


async def serve(
    config: EmulatorConfig,
    kind: str,
    host: str,
    port: int,
    *,
    multi_value_headers: bool = False,
    invoke_mode: str = BUFFERED,
    status: TextIO | None = None,
    prestarted: Prestarted | None = None,
    signalled: EarlySignals | None = None,
) -> int:
    """Serve ``config``'s function behind a ``kind`` front on ``host:port`` until a signal
    (``invoke_mode``: a Function URL's; ``RESPONSE_STREAM`` streams its answers). ``prestarted``
    and ``signalled``: as ``cli.run`` takes them (``cli.serve`` bound and spawned first)."""
    status = status if status is not None else sys.stderr
    configure_logging(config.log_level, status)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if signalled is not None and signalled.received:
        stop.set()
    emulator = Emulator(config, prestarted=prestarted)
    name = config.function.name
    settings: dict[str, Any] = {}
    if kind == "alb":
        settings["multi_value_headers"] = multi_value_headers
    if kind == "url":
        settings["invoke_mode"] = invoke_mode
    routes = RouteTable(single_function_routes(kind, name, **settings))

    def invoke(function: str, payload: bytes) -> asyncio.Future[InvokeOutcome]:
        return asyncio.ensure_future(emulator.invoke(payload))

    def invoke_streaming(function: str, payload: bytes) -> Awaitable[StreamStart]:
        return emulator.invoke_streaming(payload)

    front = HttpFront(
        routes,
        invoke,
        host,
        port,
        stream_invoke=invoke_streaming,
        stream_throttle=config.stream_throttle,
    )
    try:
        try:
            await emulator.start()
            await front.start()
        except (OSError, EmulatorError) as exc:
            print(f"{PROG}: error: could not start: {exc}", file=status, flush=True)
            return 1
        print(READY_LINE.format(url=emulator.invoke_url), file=status, flush=True)
        print(FRONT_LINE.format(kind=kind, url=front.url), file=status, flush=True)
        await stop.wait()
        return 0
    finally:
        await front.stop()
        await emulator.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
