"""Active tracing in ``FunctionHost`` over the real Invoke API (fake environments, a fake
daemon on a real UDP port): every way in is traced, the runtime's header is the function
segment's, and a function error marks the segment."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import sys
from collections.abc import Awaitable, Callable

import httpx

from lambdarig.rie_server.choices import Tracing
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from tests.probes import eventually
from tests.rie_server.fake_environment import CONFIG, FakeFactory
from tests.rie_server.tracing.fake_daemon import FakeDaemon, by_origin

URL = "/2015-03-31/functions/function/invocations"
ROOT = "1-5759e988-bd862e3fe1be46a994272793"


Scenario = Callable[[httpx.AsyncClient, Emulator], Awaitable[None]]


def run(daemon: FakeDaemon, scenario: Scenario) -> FakeFactory:
    config = dataclasses.replace(CONFIG, tracing=Tracing.ACTIVE, xray_daemon_address=daemon.address)
    factory = FakeFactory()

    async def main() -> None:
        emulator = Emulator(config, environment_factory=factory, output=io.StringIO())
        factory.on_output = emulator.on_output
        await emulator.start()
        try:
            async with httpx.AsyncClient(base_url=emulator.invoke_url) as client:
                await scenario(client, emulator)
        finally:
            await emulator.stop()

    asyncio.run(main())
    return factory


def test_event_http_front_and_error_invocations_are_traced() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator) -> None:
        headers = {"X-Amzn-Trace-Id": f"Root={ROOT};Sampled=1", "X-Amz-Invocation-Type": "Event"}
        accepted = await client.post(URL, content=b"{}", headers=headers)
        assert accepted.status_code == 202
        await eventually(lambda: emulator.pending_events == 0, "the Event invocation")
        await emulator.invoke(b"{}")  # the HTTP front's way in
        failed = await client.post(URL, content=b'"error"')
        assert failed.headers["X-Amz-Function-Error"] == "Unhandled"

    with FakeDaemon() as daemon:
        factory = run(daemon, scenario)
        documents = daemon.receive(6)
    requests = [request for env in factory.created for request in env.invokes]
    assert len(requests) == 3
    functions = [doc for doc in documents if doc["origin"] == "AWS::Lambda::Function"]
    for request in requests:
        fields = dict(field.split("=", 1) for field in (request.trace_id or "").split(";"))
        assert fields["Sampled"] == "1"
        mine = by_origin(documents, fields["Root"])
        assert mine["AWS::Lambda::Function"]["id"] == fields["Parent"]
        assert mine["AWS::Lambda"]["aws"]["request_id"] == request.request_id
    assert by_origin(documents, ROOT)["AWS::Lambda"]["aws"]["request_id"] == requests[0].request_id
    assert [doc.get("error", False) for doc in functions] == [False, False, True]


def test_the_configuration_is_passthrough_unless_asked() -> None:
    base = EmulatorConfig(command=(sys.executable,))
    assert base.tracing is Tracing.PASSTHROUGH
    assert dataclasses.replace(base, tracing=Tracing.ACTIVE).xray_daemon_address == "127.0.0.1:2000"
