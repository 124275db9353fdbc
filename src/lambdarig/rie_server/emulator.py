"""The emulator: one function (a ``functions.FunctionHost``) behind the Invoke API, wired.

Lifecycle (uvicorn-style, in order): ``start()`` pre-warms environments (one on-demand environment,
or ``provisioned`` ones, unless ``lazy_init``), then binds the Invoke API; ``stop()`` closes the
listener, cancels queued ``Event`` invocations, then stops every environment (SIGTERM, SIGKILL after
the grace period). Both must run on one event loop; ``stop()`` is idempotent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from lambdarig.rie_server import ids
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.environments.environment import InvokeOutcome
from lambdarig.rie_server.environments.pool import EnvironmentFactory, EnvironmentPool
from lambdarig.rie_server.function_logs import Clock, utc_now
from lambdarig.rie_server.functions import FunctionHost
from lambdarig.rie_server.invoke import protocol as proto
from lambdarig.rie_server.invoke.names import is_stream_path
from lambdarig.rie_server.invoke.server import InvokeApiServer

if TYPE_CHECKING:
    import asyncio

    from lambdarig.rie_server.fast_start import Prestarted
    from lambdarig.rie_server.http.streams import ReplyStream
    from lambdarig.rie_server.runtime.streaming import ResponseStream
    from lambdarig.rie_server.telemetry.subscription import ExtensionLookup
    from lambdarig.rie_server.watch import CodeWatcher

__all__ = ["Emulator"]


class Emulator:
    """One emulated function behind the Invoke API.

    ``environment_factory`` builds each execution environment (default: ``Environment``, a local
    process group); ``output`` receives runtime output and platform lines (default stdout);
    ``prestarted``: the sockets and first runtime ``fast_start.prestart`` opened before the loop;
    ``extension_lookup``: see ``functions.FunctionHost``.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        environment_factory: EnvironmentFactory | None = None,
        output: TextIO | None = None,
        clock: Clock = utc_now,
        prestarted: Prestarted | None = None,
        extension_lookup: ExtensionLookup | None = None,
    ) -> None:
        self.config = config
        invoke_sock, early_runtime = prestarted.take() if prestarted is not None else (None, None)
        self.host = FunctionHost(
            config,
            environment_factory=environment_factory,
            output=output,
            clock=clock,
            early_runtime=early_runtime,
            extension_lookup=extension_lookup,
        )
        self._server = InvokeApiServer(
            self.dispatch, config.invoke_host, config.invoke_port, invoke_sock
        )
        self._watcher: CodeWatcher | None = None

    def on_output(self, env_id: str, line: str) -> None:
        """One line of an environment's stdout/stderr: printed, and kept for Tail."""
        self.host.on_output(env_id, line)

    @property
    def pool(self) -> EnvironmentPool:
        """The environments (raises ``RuntimeError`` before ``start``)."""
        return self.host.pool

    @property
    def invoke_url(self) -> str:
        """``http://HOST:PORT`` of the Invoke API (after ``start``)."""
        return f"http://{self.config.invoke_host}:{self._server.port}"

    @property
    def invoke_port(self) -> int:
        return self._server.port

    async def start(self) -> None:
        """Pre-warm (unless lazy), then listen. Raises ``ListenError`` if an address is taken and
        ``EmulatorError`` if a runtime cannot be spawned at all; init failures do not raise."""
        try:
            await self.host.start()
            await self._server.start()
            if self.config.watch_paths:
                # Only ``--watch`` loads the watcher (and pathlib): off the common start path.
                from pathlib import Path

                from lambdarig.rie_server.watch import CodeWatcher

                paths = [Path(path) for path in self.config.watch_paths]
                self._watcher = CodeWatcher(paths, self.host.code_changed)
                await self._watcher.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop watching and listening, drop queued Event invocations (and their pending
        retries), stop every environment. Idempotent. A layer layout in progress (start-up or
        ``--watch``) is cancelled, not waited for."""
        self.host.cancel_layouts()
        if self._watcher is not None:
            await self._watcher.stop()
        await self._server.stop()
        await self.host.stop(grace_s)

    async def dispatch(self, raw: proto.RawRequest) -> proto.HttpResponse | ReplyStream:
        """Answer one Invoke API request (the ``InvokeApiServer``'s dispatcher)."""
        function, mode = self.config.function, self.config.compat
        call = proto.parse_invoke(raw, function, mode, ids.uuid4(), self.host.new_trace_id())
        if isinstance(call, proto.HttpResponse):
            return call
        return await self.host.run(call, streamed=is_stream_path(raw.path))

    async def invoke(self, payload: bytes, *, request_id: str | None = None) -> InvokeOutcome:
        """One synchronous invocation of the function with ``payload`` (an event's JSON bytes), as
        the HTTP front makes it: the outcome, whatever the function did. Raises ``Throttled`` when
        every environment is busy at ``max_concurrency``, ``EmulatorError``/``OSError`` when no
        environment could be provided."""
        return await self.host.invoke(payload, request_id=request_id)

    async def invoke_streaming(
        self, payload: bytes
    ) -> tuple[asyncio.Future[InvokeOutcome], ResponseStream | None]:
        """An invocation whose function may stream (``FunctionHost.invoke_streaming``)."""
        return await self.host.invoke_streaming(payload)

    @property
    def pending_events(self) -> int:
        """Event invocations still running or waiting for a retry."""
        return self.host.pending_events
