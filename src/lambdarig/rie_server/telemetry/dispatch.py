"""Delivery of events to one subscriber's listener (asyncio; no thread, every wait bounded).

Each ``Subscriber`` buffers rendered events and sends a batch when ``maxItems`` or ``maxBytes``
is reached or ``timeoutMs`` after the first buffered event. ``HTTP``: one ``POST`` of a JSON array
per batch (``Content-Type: application/json``); a listener that is down, hangs up or answers
non-2xx gets the same batch again after a backoff (``RETRY_DELAYS_S``, the last repeated) until
the subscriber closes. ``TCP``: one connection kept open, one JSON event per line (NDJSON), no
acknowledgement; a broken connection is reopened with the same backoff. While a listener is down,
events wait in a queue bounded to ``QUEUE_FACTOR * maxBytes``; what does not fit is dropped and
reported by a ``platform.logsDropped`` event at the head of the next delivery. The sandbox names
(``sandbox.localdomain``, ``sandbox``) resolve to the emulator's loopback address.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from collections import deque
from typing import Any, Callable

from lambdarig.rie_server.telemetry import events
from lambdarig.rie_server.telemetry.subscription import SANDBOX_HOSTS, Subscription

_log = logging.getLogger(__name__)

RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.5, 1.0)
QUEUE_FACTOR = 4  # queued bytes kept while the listener is down, in multiples of maxBytes
CONNECT_TIMEOUT_S = 2.0
ANSWER_TIMEOUT_S = 5.0  # a listener that takes longer to answer a batch has failed it
MAX_ANSWER_HEAD = 16 * 1024
CLOSE_FLUSH_S = 2.0  # how long close() tries to deliver what is buffered
LOOPBACK = "127.0.0.1"
Clock = Callable[[], datetime.datetime]


def resolve(host: str, loopback: str = LOOPBACK) -> str:
    """The address a destination host names: the sandbox names are the emulator's host."""
    return loopback if host in SANDBOX_HOSTS else host


class DeliveryError(Exception):
    """The listener did not take a batch (down, hung up, non-2xx, too slow)."""


class Subscriber:
    """One subscription's buffer and sender. ``offer`` never blocks; ``close`` is bounded."""

    def __init__(self, subscription: Subscription, clock: Clock, loopback: str = LOOPBACK):
        self.subscription = subscription
        self._clock = clock
        self._host = resolve(subscription.destination.host, loopback)
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._dropped_records = 0
        self._dropped_bytes = 0
        self._wake = asyncio.Event()
        self._closing = False
        self._tcp: asyncio.StreamWriter | None = None
        self._first_at: float | None = None
        self._task = asyncio.ensure_future(self._run())
        self.delivered_batches = 0

    def offer(self, event: events.Event) -> None:
        """Buffer ``event`` if this subscriber wants it (type and API), or count it dropped."""
        sub = self.subscription
        if event.category not in sub.types or self._closing:
            return
        rendered = events.render(event, sub.api, sub.schema_version)
        if rendered is None:
            return
        data = envelope_bytes(rendered)
        if self._queued_bytes + len(data) > QUEUE_FACTOR * sub.buffering.max_bytes:
            self._dropped_records += 1
            self._dropped_bytes += len(data)
            return
        self._queue.append(data)
        self._queued_bytes += len(data)
        if self._first_at is None:
            self._first_at = asyncio.get_running_loop().time()
        self._wake.set()

    def retire(self) -> None:
        """Take no more events; what is buffered still goes out (a re-subscription replaced it)."""
        self._closing = True
        self._wake.set()

    async def close(self, flush_s: float = CLOSE_FLUSH_S) -> None:
        """Try to deliver what is buffered for up to ``flush_s``, then stop (idempotent)."""
        self._closing = True
        self._wake.set()
        await asyncio.wait({self._task}, timeout=flush_s)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None

    # --- internals ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._due()
            if not self._queue and self._dropped_records == 0:
                if self._closing:
                    return
                continue
            batch = self._take()
            await self._deliver(batch)

    async def _due(self) -> None:
        """Wait until a batch is due: full, timed out, or closing."""
        buffering = self.subscription.buffering
        loop = asyncio.get_running_loop()
        while not self._closing:
            full = len(self._queue) >= buffering.max_items
            if full or self._queued_bytes >= buffering.max_bytes:
                return
            self._wake.clear()
            if self._first_at is None:
                await self._wake.wait()
                continue
            left = self._first_at + buffering.timeout_ms / 1000 - loop.time()
            if left <= 0:
                return
            try:
                await asyncio.wait_for(self._wake.wait(), left)
            except asyncio.TimeoutError:
                return

    def _take(self) -> list[bytes]:
        buffering = self.subscription.buffering
        batch: list[bytes] = []
        if self._dropped_records:
            dropped = events.logs_dropped(
                self._clock(),
                self._dropped_records,
                self._dropped_bytes,
                "Some logs were dropped because the downstream consumer is slower than the "
                "logs production rate",
            )
            sub = self.subscription
            rendered = events.render(dropped, sub.api, sub.schema_version)
            if rendered is not None:
                batch.append(envelope_bytes(rendered))
            self._dropped_records = self._dropped_bytes = 0
        size = 0
        while self._queue and len(batch) < buffering.max_items:
            if batch and size + len(self._queue[0]) > buffering.max_bytes:
                break
            item = self._queue.popleft()
            self._queued_bytes -= len(item)
            size += len(item)
            batch.append(item)
        self._first_at = asyncio.get_running_loop().time() if self._queue else None
        return batch

    async def _deliver(self, batch: list[bytes]) -> None:
        """Send ``batch`` until it is taken (retrying with backoff) or the subscriber closes."""
        attempt = 0
        while True:
            try:
                if self.subscription.destination.protocol == "TCP":
                    await self._send_tcp(batch)
                else:
                    await self._send_http(batch)
                self.delivered_batches += 1
                return
            except (OSError, DeliveryError, asyncio.TimeoutError) as exc:
                _log.debug("telemetry delivery to %s failed: %s", self.subscription.extension, exc)
            if self._closing:
                return
            await asyncio.sleep(RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)])
            attempt += 1

    async def _send_http(self, batch: list[bytes]) -> None:
        destination = self.subscription.destination
        body = b"[" + b",".join(batch) + b"]"
        head = (
            f"POST {destination.path} HTTP/1.1\r\nHost: {destination.host}:{destination.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        connect = asyncio.open_connection(self._host, destination.port, limit=MAX_ANSWER_HEAD)
        reader, writer = await asyncio.wait_for(connect, CONNECT_TIMEOUT_S)
        try:
            writer.write(head + body)
            await asyncio.wait_for(writer.drain(), ANSWER_TIMEOUT_S)
            status_line = await asyncio.wait_for(reader.readline(), ANSWER_TIMEOUT_S)
        finally:
            writer.close()
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise DeliveryError(f"expected an HTTP status line, got {status_line[:80]!r}")
        if not 200 <= int(parts[1]) < 300:
            raise DeliveryError(f"expected a 2xx answer, got {int(parts[1])}")

    async def _send_tcp(self, batch: list[bytes]) -> None:
        if self._tcp is None or self._tcp.is_closing():
            port = self.subscription.destination.port
            connect = asyncio.open_connection(self._host, port)
            self._tcp = (await asyncio.wait_for(connect, CONNECT_TIMEOUT_S))[1]
        writer: asyncio.StreamWriter = self._tcp
        try:
            writer.write(b"".join(item + b"\n" for item in batch))
            await asyncio.wait_for(writer.drain(), ANSWER_TIMEOUT_S)
        except BaseException:
            writer.close()
            self._tcp = None
            raise


def envelope_bytes(rendered: dict[str, Any]) -> bytes:
    """One rendered event as delivered (compact JSON, UTF-8)."""
    return json.dumps(rendered, separators=(",", ":"), ensure_ascii=False).encode()
