"""``lambdarig-rie`` / ``python -m lambdarig.rie_server``: aws-lambda-rie's command line.

Exit status: 0 after SIGINT/SIGTERM (every environment stopped, even while starting: a signal
that arrives once the first runtime is spawned, before the event loop runs, stops it as soon as
the loop starts); 2 for a user mistake, as one line on stderr: a bad flag, value or command
(before anything starts), an address in use or not local (the line names the flag that changes
it), an ``--image`` that is not in the engine, no docker SDK or no reachable engine for
``--image``, a ``--layer`` that is unusable or over Lambda's size limits, a runtime that cannot be
spawned; 1 when the emulator fails to start for another reason. Once ready it prints
``lambdarig-rie: listening on http://HOST:PORT`` on stderr (tools parse that line). The Invoke API
address usually listens earlier, as soon as the process starts (``early_bind``: not for a host
name, nor when ``-h``/``--help`` appears), so a caller that connects before that line waits for
its answer.

``--log-level`` (or ``$LOG_LEVEL``) sets the verbosity of the emulator's own diagnostics on stderr,
``lambdarig-rie: LEVEL: message``: ``debug`` adds the resolved configuration, ``info`` (default)
adds Event retries, ``warn`` keeps dropped Event invocations and internal failures, ``error`` only
internal failures. The function's own output and the platform's START / END / REPORT lines are
the function's logs and are never filtered.
"""

from __future__ import annotations

import gc
import os
import sys

# Only this before the Invoke API socket listens (``early_bind``): the rest of the command line's
# imports (argparse, dataclasses, typing...) are tens of milliseconds, and come after it.
from lambdarig.rie_server import early_bind

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing before the bind
if TYPE_CHECKING:
    import asyncio
    import logging
    from collections.abc import Callable, Coroutine, Sequence
    from types import TracebackType
    from typing import Any, TextIO

    from lambdarig.rie_server.config import EmulatorConfig
    from lambdarig.rie_server.early_bind import EarlySocket
    from lambdarig.rie_server.emulator import Emulator
    from lambdarig.rie_server.errors import EmulatorError
    from lambdarig.rie_server.fast_start import Prestarted

    # What serves once the sockets are bound and the runtime spawned (``serve``): ``run`` by
    # default, ``fronts.single.serve`` behind an HTTP front.
    Runner = Callable[[Prestarted, "EarlySignals"], Coroutine[Any, Any, int]]

PROG = "lambdarig-rie"
OPT_EXTENSIONS = "/opt/extensions"
READY_LINE = PROG + ": listening on {url}"
INVOKE_ADDRESS_FLAG = early_bind.INVOKE_ADDRESS_FLAG + " HOST:PORT"
RUNTIME_API_ADDRESS_FLAG = "--runtime-api-address HOST:PORT"


class StartUpGc:
    """The cyclic garbage collector, paused while the emulator starts.

    A start builds the objects of ~200 modules, and the collector's ~45 passes over them took
    ~8 ms of spawn -> first invoke (CPython 3.11, timed in-process). ``pause`` turns it off if it
    was on; ``resume`` turns it back on once serving (or on the way out), having moved what the
    start built into the oldest generation (``gc.freeze`` then ``gc.unfreeze``, both O(1)): the
    first passes after it do not scan all of it at once, and it stays collectable. When objects
    were frozen already (CPython 3.12 freezes a few hundred as it starts; an embedding process
    may freeze its own), ``unfreeze`` would let go of them too: it only turns the collector back
    on then."""

    def __init__(self) -> None:
        self._paused = False

    def pause(self) -> None:
        if gc.isenabled():
            gc.disable()
            self._paused = True

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


START_UP_GC = StartUpGc()


def main(argv: Sequence[str] | None = None) -> int:
    START_UP_GC.pause()
    try:
        args = sys.argv[1:] if argv is None else list(argv)
        early = early_bind.listen_early(args)
        config = None
        try:
            config = _read_config(args)
        finally:  # a bad command line, or anything raised while reading it: nothing listens
            if config is None and early is not None:
                early.close()
        if config is None:
            return 2
        return serve(drop_in(config), early)
    finally:
        START_UP_GC.resume()  # when it never served


def _read_config(args: list[str]) -> EmulatorConfig | None:
    """The configuration; ``None`` once a user mistake is reported on stderr (one line)."""
    from lambdarig.rie_server.config import EmulatorConfig
    from lambdarig.rie_server.errors import ConfigError

    try:
        return EmulatorConfig.from_environ_and_args(os.environ, args)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return None


def drop_in(config: EmulatorConfig) -> EmulatorConfig:
    """As aws-lambda-rie does, launch the external extensions in ``/opt/extensions`` when the
    runtime runs here (no ``--image``) and no ``--layer`` lays out an ``/opt`` of its own: the
    image's own extensions when lambdarig-rie is an image's entrypoint."""
    if config.layers or config.image is not None or config.extensions_dir is not None:
        return config
    import dataclasses

    return dataclasses.replace(config, extensions_dir=OPT_EXTENSIONS)


def serve(
    config: EmulatorConfig,
    early: EarlySocket | None = None,
    *,
    prog: str = PROG,
    invoke_address_flag: str = INVOKE_ADDRESS_FLAG,
    runner: Runner | None = None,
) -> int:
    """Bind (or take ``early``, the socket ``early_bind`` opened) and spawn first, then load
    asyncio and run (``fast_start``); the exit status. ``prog`` and ``invoke_address_flag`` are
    as in ``run`` (``lambdarig serve`` passes its own); ``runner`` serves instead of ``run``."""
    from lambdarig.rie_server import fast_start
    from lambdarig.rie_server.errors import ListenError

    START_UP_GC.pause()  # paused already under main; ``lambdarig serve`` starts here
    signalled = EarlySignals()  # from the spawn until the loop's handlers (run, runner)
    try:
        try:
            prestarted = fast_start.prestart(config, early)
        except OSError as exc:
            failure = ListenError("invoke", config.invoke_host, config.invoke_port, exc)
            message, exit_status = start_failure(failure, invoke_address_flag)
            print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
            return exit_status
        try:
            if config.image is None:  # the Docker SDK (--image) may want asyncio with ssl
                fast_start.import_asyncio_without_ssl()
            import asyncio

            if runner is not None:
                return asyncio.run(runner(prestarted, signalled))
            return asyncio.run(
                run(
                    config,
                    prog=prog,
                    invoke_address_flag=invoke_address_flag,
                    prestarted=prestarted,
                    signalled=signalled,
                )
            )
        finally:
            prestarted.discard()  # only what no Emulator took: a failure before it was made
    finally:
        signalled.restore()
        START_UP_GC.resume()  # when the start failed before serving


class EarlySignals:
    """Records SIGINT and SIGTERM while asyncio and the emulator load after the first runtime was
    spawned (``serve``): ``run`` (or the runner) then stops as soon as its loop runs, as for a
    signal received later (exit 0, the runtime stopped and reaped), instead of the process ending
    with its runtime unreaped. ``restore`` puts back the handlers it replaced, where the loop's
    have not replaced them since."""

    def __init__(self) -> None:
        import signal  # not before the bind: it builds enums

        self.received = False
        self._previous = {
            signum: signal.signal(signum, self._record)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }

    def _record(self, signum: int, frame: object) -> None:
        self.received = True

    def restore(self) -> None:
        import signal

        for signum, previous in self._previous.items():
            if previous is not None and signal.getsignal(signum) == self._record:
                signal.signal(signum, previous)


async def run(
    config: EmulatorConfig,
    status: TextIO | None = None,
    *,
    prog: str = PROG,
    invoke_address_flag: str = INVOKE_ADDRESS_FLAG,
    prestarted: Prestarted | None = None,
    signalled: EarlySignals | None = None,
) -> int:
    """Serve ``config`` until SIGINT or SIGTERM (or at once if ``signalled`` recorded one before
    the loop ran); returns the exit status. A failure to start is one line on ``status`` prefixed
    by ``prog`` (see ``start_failure``)."""
    from lambdarig.rie_server.emulator import Emulator
    from lambdarig.rie_server.errors import EmulatorError

    status = status if status is not None else sys.stderr
    configure_logging(config.log_level, status)
    with StopOnSignals(signalled) as stop:
        emulator = Emulator(config, prestarted=prestarted)
        try:
            try:
                if not await start_unless_stopped(emulator, stop):
                    return 0
            except (OSError, EmulatorError) as exc:  # ConfigError: a --layer over the size limit
                message, exit_status = start_failure(exc, invoke_address_flag)
                print(f"{prog}: error: {message}", file=status, flush=True)
                return exit_status
            _log_configuration(config)
            print(READY_LINE.format(url=emulator.invoke_url), file=status, flush=True)
            await stop.wait()
            return 0
        finally:
            await emulator.stop()


class StopOnSignals:
    """``with StopOnSignals(signalled) as stop:`` on the running loop: ``stop`` (an
    ``asyncio.Event``) is set by SIGINT or SIGTERM, or at once if ``signalled`` recorded one while
    the emulator loaded; the loop's handlers are removed on leaving."""

    def __init__(self, signalled: EarlySignals | None = None) -> None:
        import asyncio  # loaded by then (after fast_start)
        import signal

        self._signals = (signal.SIGINT, signal.SIGTERM)
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._signalled = signalled

    def __enter__(self) -> asyncio.Event:
        for signum in self._signals:
            self._loop.add_signal_handler(signum, self._stop.set)
        if self._signalled is not None and self._signalled.received:
            self._stop.set()
        return self._stop

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum in self._signals:
            self._loop.remove_signal_handler(signum)


async def start_unless_stopped(emulator: Emulator, stop: asyncio.Event) -> bool:
    """Start ``emulator``; a signal while it starts (laying out a large layer, say) cancels the
    start, which cleans up after itself, and returns False."""
    import asyncio  # loaded by run() already (after fast_start)

    starting = asyncio.ensure_future(emulator.start())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    START_UP_GC.resume()  # serving from here on (or stopping)
    stopping.cancel()
    if not starting.done():
        starting.cancel()
        await asyncio.wait({starting})
        return False
    starting.result()
    return True


def start_failure(exc: OSError | EmulatorError, invoke_address_flag: str) -> tuple[str, int]:
    """The one-line message and exit status for ``Emulator.start`` raising ``exc``: 2 for what the
    user can fix (an address, the image, Docker, the runtime command), 1 otherwise.
    ``invoke_address_flag`` is the flag that moves the Invoke API (``lambdarig serve``: ``--port``).
    """
    from lambdarig.rie_server.errors import ConfigError, ListenError, ProcessStartError

    if isinstance(exc, ListenError):
        flag = invoke_address_flag if exc.api == "invoke" else RUNTIME_API_ADDRESS_FLAG
        what = "Invoke API" if exc.api == "invoke" else "Runtime API"
        return f"{exc} (the {what} address; choose another with {flag})", 2
    if isinstance(exc, (ProcessStartError, ConfigError)):
        return str(exc), 2
    return f"could not start: {exc}", 1


def configure_logging(level: str, stream: TextIO) -> None:
    """Send ``lambdarig.rie_server``'s diagnostics at ``level`` (a ``LOG_LEVELS`` name) and above
    to ``stream``, one ``lambdarig-rie: LEVEL: message`` line each (replacing earlier handlers)."""
    import logging  # not before the bind (``fast_start``); asyncio imports it anyway

    from lambdarig.rie_server.config import LOG_LEVELS

    handler = logging.StreamHandler(stream)
    handler.setFormatter(_one_line_formatter(PROG + ": %(levelname)s: %(message)s"))
    logger = logging.getLogger("lambdarig.rie_server")
    logger.handlers[:] = [handler]
    logger.setLevel(LOG_LEVELS[level])
    logger.propagate = False


def _one_line_formatter(fmt: str) -> logging.Formatter:
    """A formatter whose messages are ``untrusted.printable``: a value from a request cannot
    forge a line."""
    import logging

    from lambdarig.rie_server.untrusted import printable

    class OneLineFormatter(logging.Formatter):
        def formatMessage(self, record: logging.LogRecord) -> str:
            record.message = printable(record.message)
            return super().formatMessage(record)

    return OneLineFormatter(fmt)


def _log_configuration(config: EmulatorConfig) -> None:
    import logging

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
