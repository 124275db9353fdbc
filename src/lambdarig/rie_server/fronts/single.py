"""One function behind one HTTP front: ``lambdarig serve HANDLER --http KIND``.

Starts the emulator (its Invoke API as usual), then the front; prints the emulator's ready line
and ``lambdarig: HTTP front (KIND) listening on http://HOST:PORT`` on stderr; runs until SIGINT
or SIGTERM, then stops the front and the emulator. Exit status as ``lambdarig-rie``'s: 0 after a
signal (also one received while it starts), and a failure to start is one line with the status
``cli.start_failure`` gives it (2 for an address in use: the line names ``--port``, or
``--http-port`` for the front's own).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TextIO

from lambdarig.rie_server.cli import (
    INVOKE_ADDRESS_FLAG,
    PROG,
    READY_LINE,
    StopOnSignals,
    configure_logging,
    start_failure,
    start_unless_stopped,
)
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from lambdarig.rie_server.environments.environment import InvokeOutcome
from lambdarig.rie_server.errors import EmulatorError, ListenError
from lambdarig.rie_server.fronts.routing import BUFFERED, RouteTable, single_function_routes
from lambdarig.rie_server.fronts.server import HttpFront

if TYPE_CHECKING:
    from lambdarig.rie_server.cli import EarlySignals
    from lambdarig.rie_server.fast_start import Prestarted
    from lambdarig.rie_server.fronts.streamed import StreamStart

FRONT_LINE = "lambdarig: HTTP front ({kind}) listening on {url}"
HTTP_PORT_FLAG = "--http-port"


async def serve(
    config: EmulatorConfig,
    kind: str,
    host: str,
    port: int,
    *,
    multi_value_headers: bool = False,
    invoke_mode: str = BUFFERED,
    status: TextIO | None = None,
    prog: str = PROG,
    invoke_address_flag: str = INVOKE_ADDRESS_FLAG,
    prestarted: Prestarted | None = None,
    signalled: EarlySignals | None = None,
) -> int:
    """Serve ``config``'s function behind a ``kind`` front on ``host:port`` until a signal
    (``invoke_mode``: a Function URL's; ``RESPONSE_STREAM`` streams its answers). ``prog``,
    ``invoke_address_flag``, ``prestarted`` and ``signalled``: as ``cli.run`` takes them."""
    status = status if status is not None else sys.stderr
    configure_logging(config.log_level, status)
    settings: dict[str, Any] = {}
    if kind == "alb":
        settings["multi_value_headers"] = multi_value_headers
    if kind == "url":
        settings["invoke_mode"] = invoke_mode
    routes = RouteTable(single_function_routes(kind, config.function.name, **settings))
    with StopOnSignals(signalled) as stop:
        emulator = Emulator(config, prestarted=prestarted)
        front = _front(emulator, routes, host, port)
        try:
            try:
                if not await start_unless_stopped(emulator, stop) or stop.is_set():
                    return 0
                await _listen(front, host, port)
            except _FrontInUse as exc:
                print(f"{prog}: error: {exc}", file=status, flush=True)
                return 2
            except (OSError, EmulatorError) as exc:  # ConfigError: a --layer over the size limit
                message, exit_status = start_failure(exc, invoke_address_flag)
                print(f"{prog}: error: {message}", file=status, flush=True)
                return exit_status
            print(READY_LINE.format(url=emulator.invoke_url), file=status, flush=True)
            print(FRONT_LINE.format(kind=kind, url=front.url), file=status, flush=True)
            await stop.wait()
            return 0
        finally:
            try:
                await front.stop()
            finally:
                await emulator.stop()


def _front(emulator: Emulator, routes: RouteTable, host: str, port: int) -> HttpFront:
    def invoke(function: str, payload: bytes) -> asyncio.Future[InvokeOutcome]:
        return asyncio.ensure_future(emulator.invoke(payload))

    def invoke_streaming(function: str, payload: bytes) -> Awaitable[StreamStart]:
        return emulator.invoke_streaming(payload)

    return HttpFront(
        routes,
        invoke,
        host,
        port,
        stream_invoke=invoke_streaming,
        stream_throttle=emulator.config.stream_throttle,
    )


class _FrontInUse(Exception):
    """The front's own address cannot be bound: one line naming ``--http-port``."""


async def _listen(front: HttpFront, host: str, port: int) -> None:
    try:
        await front.start()
    except OSError as exc:
        failure = ListenError("front", host, port, exc)
        hint = f"the HTTP front address; choose another with {HTTP_PORT_FLAG}"
        raise _FrontInUse(f"{failure} ({hint})") from None
