"""The command line's start-up, before the event loop: bind, spawn, then import asyncio.

``import asyncio`` costs tens of milliseconds and ~10 MiB (it loads ``ssl``, ``concurrent.futures``,
``logging``, ``inspect``...). So ``prestart`` binds the Invoke API socket, binds the first
environment's Runtime API socket and starts its runtime first, with nothing but ``socket`` and
``subprocess``: the kernel queues connections on the bound sockets, and the runtime's own start-up
overlaps the emulator's instead of following it. The ``Emulator`` then serves those sockets and
adopts that process (``environment.Environment`` adopts it only if it is exactly the process it
would have started; otherwise it is killed and a new one started: no behaviour depends on this).

The Invoke API socket is usually open already: ``early_bind`` binds it before the command line
is read in full, and ``prestart`` takes it when the configuration names the same address. The
protocol and process modules are imported after the bind.

``import_asyncio_without_ssl`` loads asyncio without ``ssl`` (the emulator never speaks TLS;
asyncio supports running without it): ~4 ms and ~3 MiB less.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from typing import TYPE_CHECKING

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.early_bind import EarlySocket, listen
from lambdarig.rie_server.errors import ProcessStartError

if TYPE_CHECKING:
    from lambdarig.rie_server.environments.spawn import PrestartedRuntime


class Prestarted:
    """What ``prestart`` opened; ``None`` where it left the work to the event loop. It owns
    both until the emulator ``take``s them."""

    __slots__ = ("invoke_sock", "runtime")

    def __init__(
        self, invoke_sock: socket.socket | None, runtime: PrestartedRuntime | None
    ) -> None:
        self.invoke_sock = invoke_sock
        self.runtime = runtime

    def take(self) -> tuple[socket.socket | None, PrestartedRuntime | None]:
        """Hand both over (to ``Emulator``); nothing is left here to discard."""
        taken = self.invoke_sock, self.runtime
        self.invoke_sock = self.runtime = None
        return taken

    def discard(self) -> None:
        """Close what was not taken (the emulator did not start, or was never made)."""
        invoke_sock, runtime = self.take()
        if runtime is not None:
            runtime.discard()
        if invoke_sock is not None:
            invoke_sock.close()


def _one_local_runtime_at_start(config: EmulatorConfig) -> bool:
    """The common case: one on-demand environment pre-warmed, a local process, no layers and
    no extensions directory (external extensions start before the runtime), no SnapStart and no
    init caching (whose variables the environment adds: the process started here would not be
    the one it wants)."""
    return not (
        config.image is not None
        or config.layers
        or (config.extensions_dir is not None and os.path.isdir(config.extensions_dir))
        or config.lazy_init
        or config.provisioned
        or config.managed_concurrency is not None
        or config.snapstart
        or config.enable_init_caching
    )


def _start_runtime(config: EmulatorConfig) -> PrestartedRuntime | None:
    # Imported once the Invoke API listens: the caller can connect meanwhile.
    from lambdarig.rie_server.environments.spawn import PrestartedRuntime, start_process
    from lambdarig.runtime_api import ENV_INITIALIZATION_TYPE, ENV_RUNTIME_API, INIT_ON_DEMAND

    host, _, port = config.runtime_api_address.rpartition(":")
    host = host or "127.0.0.1"  # as runtime.server reads the address
    try:
        sock = listen(host, int(port or 0))
    except OSError:
        return None  # the environment binds again and reports it, as without a prestart
    if sock is None:
        return None
    env = dict(config.runtime_env)
    env[ENV_INITIALIZATION_TYPE] = INIT_ON_DEMAND
    env[ENV_RUNTIME_API] = f"{host}:{sock.getsockname()[1]}"
    try:
        process = start_process(config.command, config.cwd, env, config.memory_mb)
    except ProcessStartError:
        process = None  # the environment tries again and reports the failure as an init error
    return PrestartedRuntime(sock, process)


def prestart(config: EmulatorConfig, early: EarlySocket | None = None) -> Prestarted:
    """Bind the Invoke API (or take ``early``, the socket ``early_bind`` opened, if it is bound
    to the configured address; it is closed otherwise) and, in the common case, start the first
    runtime behind its own Runtime API socket. Raises ``OSError`` when the Invoke API address
    cannot be bound."""
    invoke_sock = early.take(config.invoke_host, config.invoke_port) if early else None
    if invoke_sock is None:
        invoke_sock = listen(config.invoke_host, config.invoke_port)
    try:
        runtime = _start_runtime(config) if _one_local_runtime_at_start(config) else None
    except BaseException:
        if invoke_sock is not None:
            invoke_sock.close()
        raise
    return Prestarted(invoke_sock, runtime)


def import_asyncio_without_ssl() -> None:
    """Import asyncio with ``ssl`` unavailable (asyncio then has no TLS; nothing here uses it).
    ``ssl`` itself stays importable afterwards for whoever needs it (e.g. the Docker SDK)."""
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        return
    sys.modules["ssl"] = None  # type: ignore[assignment]  # import ssl -> ImportError
    try:
        import asyncio  # noqa: F401
    finally:
        with contextlib.suppress(KeyError):
            if sys.modules["ssl"] is None:
                del sys.modules["ssl"]
