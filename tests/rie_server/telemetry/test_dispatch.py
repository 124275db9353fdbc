"""Delivery to real local listeners: batching, retries while the listener is down, NDJSON, drops."""

from __future__ import annotations

import asyncio
import datetime
import socket

import pytest

from lambdarig.rie_server.telemetry import dispatch, events
from lambdarig.rie_server.telemetry.dispatch import Subscriber, resolve
from lambdarig.rie_server.telemetry.subscription import Api, Buffering, Destination, Subscription
from tests.probes import eventually
from tests.rie_server.telemetry.listeners import HttpListener, TcpListener

NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def clock() -> datetime.datetime:
    return NOW


def sub(destination: Destination, buffering: Buffering | None = None) -> Subscription:
    return Subscription(
        Api.TELEMETRY,
        "ext",
        "2022-12-13",
        frozenset({"platform", "function"}),
        destination,
        buffering or Buffering(1000, 262144, 30000),
    )


def line(n: int) -> events.Event:
    return events.log_record(NOW, "function", f"line {n}", json_format=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sandbox_names_resolve_to_the_emulator_host() -> None:
    assert resolve("sandbox.localdomain") == "127.0.0.1"
    assert resolve("sandbox", "10.0.0.5") == "10.0.0.5"


@pytest.mark.asyncio
async def test_http_batches_by_max_items_as_json_arrays() -> None:
    listener = HttpListener()
    port = await listener.start()
    subscriber = Subscriber(sub(Destination("HTTP", port, "sandbox", "/tel")), clock)
    try:
        for n in range(2500):
            subscriber.offer(line(n))
        await eventually(lambda: len(listener.requests) >= 2, "two full batches")
        method, path, headers, batch = listener.requests[0]
        assert (method, path, headers["Content-Type"]) == ("POST", "/tel", "application/json")
        assert len(batch) == 1000 and len(listener.requests[1][3]) == 1000
        assert batch[0] == {
            "time": "2024-01-01T00:00:00.000Z",
            "type": "function",
            "record": "line 0",
        }
    finally:
        await subscriber.close()
        await listener.stop()
    # close() delivered the rest; order kept, nothing lost or repeated
    assert [event["record"] for event in listener.events] == [f"line {n}" for n in range(2500)]


@pytest.mark.asyncio
async def test_http_batch_goes_out_after_timeout_ms() -> None:
    listener = HttpListener()
    port = await listener.start()
    subscription = sub(Destination("HTTP", port), Buffering(1000, 262144, 25))
    subscriber = Subscriber(subscription, clock)
    try:
        subscriber.offer(line(1))
        subscriber.offer(events.extension(NOW, "x", "Ready", []))  # platform: wanted
        subscriber.offer(events.log_record(NOW, "extension", "not wanted", False))
        await eventually(lambda: len(listener.requests) == 1, "the timed batch")
        assert [event["type"] for event in listener.events] == ["function", "platform.extension"]
    finally:
        await subscriber.close()
        await listener.stop()


@pytest.mark.asyncio
async def test_http_retries_while_the_listener_is_down_then_delivers() -> None:
    port = free_port()
    subscriber = Subscriber(sub(Destination("HTTP", port), Buffering(1000, 262144, 25)), clock)
    listener = HttpListener(status=500)
    try:
        subscriber.offer(line(1))
        await asyncio.sleep(0)  # nobody listens yet: connection refused, then backoff
        await listener.start(port)
        await eventually(lambda: listener.attempts >= 2, "the batch sent again after a 500")
        assert subscriber.delivered_batches == 0
        listener.status = 200  # a 500 was a failure too: the same batch comes again
        await eventually(lambda: len(listener.requests) == 1, "the retried batch")
        assert [event["record"] for event in listener.events] == ["line 1"]
    finally:
        await subscriber.close()
        await listener.stop()


@pytest.mark.asyncio
async def test_overflow_while_down_becomes_logs_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "QUEUE_FACTOR", 1)
    port = free_port()
    subscription = sub(Destination("HTTP", port), Buffering(10000, 262144, 25))
    subscriber = Subscriber(subscription, clock)
    listener = HttpListener()
    try:
        big = "x" * 1000
        for _ in range(400):  # ~400 KB against a 256 KiB queue
            subscriber.offer(events.log_record(NOW, "function", big, False))
        await listener.start(port)
        await eventually(
            lambda: any(e["type"] == "platform.logsDropped" for e in listener.events), "logsDropped"
        )
        dropped = next(e for e in listener.events if e["type"] == "platform.logsDropped")
        delivered = sum(e["type"] == "function" for e in listener.events)
        assert dropped["record"]["droppedRecords"] + delivered >= 400 - 1
        assert dropped["record"]["droppedRecords"] > 0 and dropped["record"]["droppedBytes"] > 0
    finally:
        await subscriber.close()
        await listener.stop()


@pytest.mark.asyncio
async def test_tcp_delivers_ndjson_on_one_connection() -> None:
    listener = TcpListener()
    port = await listener.start()
    subscriber = Subscriber(sub(Destination("TCP", port), Buffering(1000, 262144, 25)), clock)
    try:
        subscriber.offer(line(1))
        await eventually(lambda: len(listener.lines) == 1, "the first line")
        subscriber.offer(line(2))
        subscriber.offer(line(3))
        await eventually(lambda: len(listener.lines) == 3, "three lines")
        assert [item["record"] for item in listener.lines] == ["line 1", "line 2", "line 3"]
        assert listener.connections == 1
    finally:
        await subscriber.close()
        await listener.stop()


@pytest.mark.asyncio
async def test_close_is_bounded_when_the_listener_never_comes() -> None:
    subscriber = Subscriber(sub(Destination("HTTP", free_port())), clock)
    subscriber.offer(line(1))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await subscriber.close(flush_s=0.2)
    assert loop.time() - started < 2.0
