"""``lambdarig-rie`` / ``python -m lambdarig.rie_server``: aws-lambda-rie's command line.

Exit status: 0 after SIGINT/SIGTERM (every environment stopped), 2 for a bad flag, value or command
(one line on stderr, before anything starts), 1 when the emulator cannot start (address in use, a
runtime that cannot be spawned). Once ready it prints ``lambdarig-rie: listening on
http://HOST:PORT`` on stderr (tools parse that line).

``--log-level`` (or ``$LOG_LEVEL``) sets the verbosity of the emulator's own diagnostics on stderr,
``lambdarig-rie: LEVEL: message``: ``debug`` adds the resolved configuration, ``info`` (default)
adds Event retries, ``warn`` keeps dropped Event invocations and internal failures, ``error`` only
internal failures. The function's own output and the platform's START / END / REPORT lines are
the function's logs and are never filtered.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from lambdarig.rie_server import fast_start
from lambdarig.rie_server.config import LOG_LEVELS, EmulatorConfig
from lambdarig.rie_server.errors import ConfigError, EmulatorError

if TYPE_CHECKING:
    from lambdarig.rie_server.fast_start import Prestarted

PROG = "lambdarig-rie"
READY_LINE = PROG + ": listening on {url}"


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        config = EmulatorConfig.from_environ_and_args(os.environ, args)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return serve(config)


def serve(config: EmulatorConfig) -> int:
    """Bind and spawn first, then load asyncio and run (``fast_start``); the exit status."""
    try:
        prestarted = fast_start.prestart(config)
    except OSError as exc:
        print(f"{PROG}: error: could not start: {exc}", file=sys.stderr, flush=True)
        return 1
    if config.image is None:  # the Docker SDK (--image) may want asyncio with ssl
        fast_start.import_asyncio_without_ssl()
    import asyncio

    return asyncio.run(run(config, prestarted=prestarted))


async def run(
    config: EmulatorConfig, status: TextIO | None = None, prestarted: Prestarted | None = None
) -> int:
    """Serve ``config`` until SIGINT or SIGTERM; returns the exit status."""
    import asyncio

    from lambdarig.rie_server.emulator import Emulator

    status = status if status is not None else sys.stderr
    configure_logging(config.log_level, status)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    emulator = Emulator(config, prestarted=prestarted)
    try:
        try:
            await emulator.start()
        except (OSError, EmulatorError) as exc:
            print(f"{PROG}: error: could not start: {exc}", file=status, flush=True)
            return 1
        _log_configuration(config)
        print(READY_LINE.format(url=emulator.invoke_url), file=status, flush=True)
        await stop.wait()
        return 0
    finally:
        await emulator.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def configure_logging(level: str, stream: TextIO) -> None:
    """Send ``lambdarig.rie_server``'s diagnostics at ``level`` (a ``LOG_LEVELS`` name) and above
    to ``stream``, one ``lambdarig-rie: LEVEL: message`` line each (replacing earlier handlers)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(PROG + ": %(levelname)s: %(message)s"))
    logger = logging.getLogger("lambdarig.rie_server")
    logger.handlers[:] = [handler]
    logger.setLevel(LOG_LEVELS[level])
    logger.propagate = False


def _log_configuration(config: EmulatorConfig) -> None:
    log = logging.getLogger(__name__)
    if not log.isEnabledFor(logging.DEBUG):
        return
    log.debug("command: %s (cwd %s)", " ".join(config.command), config.cwd or ".")
    log.debug("handler: %s; function: %s", config.handler, config.function.arn)
    log.debug(
        "timeout %g s, memory %d MB, init timeout %g s",
        config.timeout_s,
        config.memory_mb,
        config.init_timeout_s,
    )
    log.debug(
        "max concurrency %d, provisioned %d, lazy init %s, managed concurrency %s",
        config.max_concurrency,
        config.provisioned,
        config.lazy_init,
        config.managed_concurrency,
    )
    log.debug(
        "runtime API %s, compat %s, log format %s, Event retry delays %s",
        config.runtime_api_address,
        config.compat.value,
        config.log_format.value,
        ",".join(f"{delay:g}" for delay in config.async_retry_delays) or "none",
    )
    log.debug("layers: %s; image: %s", ", ".join(config.layers) or "none", config.image)
