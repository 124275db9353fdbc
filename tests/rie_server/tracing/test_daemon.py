"""``tracing.daemon``: the runtime's trace header, and segments sent over real UDP."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lambdarig.rie_server.environments.outcomes import InvokeOutcome, InvokeRequest
from lambdarig.rie_server.tracing.daemon import DaemonSender, Tracer
from lambdarig.rie_server.tracing.segments import Function
from tests.rie_server.fake_environment import OutcomeKind, outcome
from tests.rie_server.tracing.fake_daemon import FakeDaemon, by_origin

ROOT = "1-5759e988-bd862e3fe1be46a994272793"
FUNCTION = Function("fn", "arn:aws:lambda:us-east-1:123456789012:function:fn", "123456789012")


class Recorder:
    """An invoke that records the request it ran and answers ``answer``."""

    def __init__(self, answer: InvokeOutcome) -> None:
        self.answer = answer
        self.requests: list[InvokeRequest] = []
        self.options: list[dict[str, Any]] = []

    async def __call__(self, request: InvokeRequest, **options: Any) -> InvokeOutcome:
        self.requests.append(request)
        self.options.append(options)
        return self.answer


async def traced(
    daemon_address: tuple[str, int], trace_id: str | None, answer: InvokeOutcome
) -> Recorder:
    tracer = Tracer(FUNCTION, DaemonSender(*daemon_address))
    await tracer.open()
    try:
        recorder = Recorder(answer)
        request = InvokeRequest(request_id="rid", payload=b"{}", trace_id=trace_id)
        assert await tracer.traced(recorder, request, wait=True) is answer
        return recorder
    finally:
        tracer.close()


def test_a_sampled_invocation_sends_two_segments_and_the_runtime_sees_the_function_one() -> None:
    with FakeDaemon() as daemon:
        header = f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1"
        answer = outcome(OutcomeKind.SUCCESS, init_duration_ms=12.0)
        recorder = asyncio.run(traced(("127.0.0.1", daemon.port), header, answer))
        found = by_origin(daemon.receive(2), ROOT)
    assert recorder.options == [{"wait": True}]
    function = found["AWS::Lambda::Function"]
    assert recorder.requests[0].trace_id == f"Root={ROOT};Parent={function['id']};Sampled=1"
    assert found["AWS::Lambda"]["parent_id"] == "53995c3f42cd8ad8"
    assert found["AWS::Lambda"]["aws"] == {"request_id": "rid"}
    assert function["parent_id"] == found["AWS::Lambda"]["id"]
    names = [sub["name"] for sub in function["subsegments"]]
    assert names == ["Initialization", "Invocation", "Overhead"]


def test_segments_wait_for_the_extensions_to_settle() -> None:
    async def main(daemon: FakeDaemon) -> None:
        settled: asyncio.Future[InvokeOutcome] = asyncio.get_running_loop().create_future()
        answer = outcome(OutcomeKind.SUCCESS, runtime_duration_ms=1.0, settled=settled)
        tracer = Tracer(FUNCTION, DaemonSender("127.0.0.1", daemon.port))
        await tracer.open()
        try:
            request = InvokeRequest(request_id="rid", payload=b"{}", trace_id=f"Root={ROOT}")
            await tracer.traced(Recorder(answer), request)
            with pytest.raises(BlockingIOError):  # loopback UDP: a datagram sent would be here
                daemon.sock.recv(65536, socket.MSG_DONTWAIT)
            final = outcome(OutcomeKind.SUCCESS, duration_ms=51.0, runtime_duration_ms=1.0)
            settled.set_result(final)
            await asyncio.sleep(0)  # the settled future's callbacks run
        finally:
            tracer.close()

    with FakeDaemon() as daemon:
        asyncio.run(main(daemon))
        function = by_origin(daemon.receive(2), ROOT)["AWS::Lambda::Function"]
    overhead = function["subsegments"][-1]
    assert overhead["name"] == "Overhead"
    assert overhead["end_time"] - overhead["start_time"] >= 0.049


def test_not_sampled_sends_nothing_and_leaves_the_header() -> None:
    with FakeDaemon() as daemon:
        header = f"Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=0"
        recorder = asyncio.run(
            traced(("127.0.0.1", daemon.port), header, outcome(OutcomeKind.SUCCESS))
        )
        later = "Root=1-5759e988-000000000000000000000001;Sampled=1"
        asyncio.run(traced(("127.0.0.1", daemon.port), later, outcome(OutcomeKind.SUCCESS)))
        documents = daemon.receive(2)
    assert recorder.requests[0].trace_id == header
    assert {doc["trace_id"] for doc in documents} == {"1-5759e988-000000000000000000000001"}


def test_an_unresolvable_daemon_is_one_warning_and_the_invocation_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "lambdarig.rie_server.tracing.daemon")
    for _ in range(2):
        recorder = asyncio.run(
            traced(("no-such-host.invalid", 2000), None, outcome(OutcomeKind.SUCCESS))
        )
        assert recorder.requests[0].trace_id is not None
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2  # one per tracer (each run made its own)
    assert all(
        w.startswith("X-Ray segments not sent to no-such-host.invalid:2000") for w in warnings
    )


def test_an_oversized_segment_is_dropped_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "lambdarig.rie_server.tracing.daemon")
    huge = Function("f" * 70_000, FUNCTION.arn, FUNCTION.account)

    async def main(port: int) -> None:
        tracer = Tracer(huge, DaemonSender("127.0.0.1", port))
        await tracer.open()
        try:
            for _ in range(3):
                request = InvokeRequest(request_id="rid", payload=b"{}")
                await tracer.traced(Recorder(outcome(OutcomeKind.SUCCESS)), request)
        finally:
            tracer.close()

    with FakeDaemon() as daemon:
        asyncio.run(main(daemon.port))
        with pytest.raises(BlockingIOError):
            daemon.sock.recv(65536, socket.MSG_DONTWAIT)
    assert len(caplog.records) == 1
    assert "segment over 64 KB" in caplog.records[0].getMessage()


_OPEN_AND_REPORT = """
import asyncio, json, sys
from lambdarig.rie_server.tracing.daemon import DaemonSender

async def main():
    sender = DaemonSender("localhost", 2000)
    await sender.open()
    opened = sender._sock is not None
    sender.close()
    return opened

before = set(sys.modules)
opened = asyncio.run(main())
print(json.dumps([opened, sorted(set(sys.modules) - before)]))
"""


def test_the_daemon_address_is_resolved_without_the_idna_codec() -> None:
    """Resolved in asyncio's executor thread, a ``str`` host would make that thread import
    ``encodings.idna`` while the loop's thread may be importing too (``http.listen.resolvable``)."""
    src = str(Path(__file__).resolve().parents[3] / "src")
    done = subprocess.run(
        [sys.executable, "-c", _OPEN_AND_REPORT],
        env=dict(os.environ, PYTHONPATH=src),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    opened, loaded = json.loads(done.stdout.splitlines()[-1])
    assert opened
    assert "encodings.idna" not in loaded, loaded
