"""Active tracing's I/O: plans each invocation (``segments.plan``), runs it, and sends its
segments to the X-Ray daemon over UDP.

Sending never blocks the event loop: the daemon's address is resolved once (``open``, through the
loop's resolver), the socket is non-blocking, and a datagram the kernel cannot take at once is
dropped. A failure to resolve or send is reported as one warning line (the first time only) and
never reaches the invocation: tracing is best effort, as with the service's daemon.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from lambdarig.rie_server import ids
from lambdarig.rie_server.environments.outcomes import InvokeOutcome, InvokeRequest
from lambdarig.rie_server.http.listen import resolvable
from lambdarig.rie_server.tracing import segments

_log = logging.getLogger(__name__)
Invoke = Callable[..., Awaitable[InvokeOutcome]]


class DaemonSender:
    """Datagrams to one X-Ray daemon address (``HOST:PORT``); ``open`` before ``send``."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None
        self._address: Any = None
        self._warned = False

    async def open(self) -> None:
        """Resolve the address and open the socket (a failure: one warning, nothing is sent)."""
        loop = asyncio.get_running_loop()
        try:
            found = await loop.getaddrinfo(resolvable(self.host), self.port, type=socket.SOCK_DGRAM)
            family, kind, proto, _, address = found[0]
            sock = socket.socket(family, kind, proto)
        except OSError as exc:
            self.warn(exc)
            return
        sock.setblocking(False)
        self._sock, self._address = sock, address

    def send(self, data: bytes) -> None:
        if self._sock is None:
            return
        try:
            self._sock.sendto(data, self._address)
        except OSError as exc:  # includes BlockingIOError: the datagram is dropped
            self.warn(exc)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def warn(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            _log.warning(
                "X-Ray segments not sent to %s:%s (%s); later failures are not reported",
                self.host,
                self.port,
                exc,
            )


class Tracer:
    """Active tracing for one function: ``traced`` runs an invocation and sends its segments."""

    def __init__(
        self,
        function: segments.Function,
        sender: DaemonSender,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._function = function
        self._sender = sender
        self._clock = clock

    async def open(self) -> None:
        await self._sender.open()

    def close(self) -> None:
        self._sender.close()

    def new_trace_id(self) -> str:
        """The trace header of an invoke that came without one: a fresh ``Root`` and no
        sampling decision (``traced`` makes it)."""
        root = segments.new_root(self._clock(), ids.random_hex(12))
        return segments.TraceHeader(root).render()

    async def traced(self, invoke: Invoke, request: InvokeRequest, **options: Any) -> InvokeOutcome:
        """``invoke(request, **options)`` with the runtime's trace header planned; the segments
        go out once the invocation is over (after its extensions, when they work on)."""
        trace = segments.plan(
            request.trace_id,
            segments.new_root(self._clock(), ids.random_hex(12)),
            ids.random_hex(8),
            ids.random_hex(8),
        )
        request = dataclasses.replace(request, trace_id=trace.runtime_header)
        if not trace.sampled:
            return await invoke(request, **options)
        received = self._clock()
        outcome = await invoke(request, **options)
        answered = self._clock()
        if outcome.settled is None:
            self._send(trace, request.request_id, outcome, received, answered)
            return outcome

        def settled(done: asyncio.Future[InvokeOutcome]) -> None:
            if not done.cancelled() and done.exception() is None:
                self._send(trace, request.request_id, done.result(), received, answered)

        outcome.settled.add_done_callback(settled)
        return outcome

    def _send(
        self,
        trace: segments.TracePlan,
        request_id: str,
        outcome: InvokeOutcome,
        received: float,
        answered: float,
    ) -> None:
        runtime_ms = outcome.runtime_duration_ms
        invocation_ms = outcome.duration_ms if runtime_ms is None else runtime_ms
        extensions_s = (outcome.duration_ms - invocation_ms) / 1000.0
        init_ms = outcome.init_duration_ms
        timing = segments.Timing(
            received=received,
            answered=answered,
            finished=max(self._clock(), answered + extensions_s),
            invocation_s=invocation_ms / 1000.0,
            init_s=None if init_ms is None else init_ms / 1000.0,
        )
        subsegment_ids = (ids.random_hex(8), ids.random_hex(8), ids.random_hex(8))
        for document in segments.documents(
            trace, self._function, request_id, outcome.kind.value, timing, subsegment_ids
        ):
            data = segments.datagram(document)
            if data is None:
                self._sender.warn(ValueError("segment over 64 KB"))
                continue
            self._sender.send(data)
