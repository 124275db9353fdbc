"""A real emulator and runtime process; the runtime subscribes during init as AWS's Python
telemetry and logs sample extensions do, and an OpenTelemetry-style listener receives the run's
full event sequence with real figures. Here the emulator's ``extension_lookup`` is a stub that
knows one identifier, so the runtime itself can subscribe; test_with_extensions.py runs the same
subscription from a real external extension registered through the Extensions API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from tests.probes import eventually
from tests.rie_server.telemetry.listeners import HttpListener

RUNTIME = Path(__file__).parent / "fixtures" / "subscribing_runtime.py"
EXTENSION_ID = "6e1c2b8a-0d5f-4b0e-9a51-1f4c3f2d7a10"


class Output:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def emulator_config(
    port: int, sample: str, *, memory_mb: int, snapstart: bool = False, **env: str
) -> EmulatorConfig:
    """The subscribing runtime, subscribing as ``sample`` to the listener on ``port``, the
    identifier it sends ``EXTENSION_ID``; ``env`` adds to its environment."""
    return EmulatorConfig(
        command=(sys.executable, str(RUNTIME)),
        invoke_host="127.0.0.1",
        invoke_port=0,
        runtime_api_address="127.0.0.1:0",
        timeout_s=5.0,
        memory_mb=memory_mb,
        runtime_env={
            "LISTENER_PORT": str(port),
            "TELEMETRY_SAMPLE": sample,
            "EXTENSION_ID": EXTENSION_ID,
            **env,
        },
        snapstart=snapstart,
    )


async def run(
    sample: str, *, snapstart: bool = False, schema: str = "2022-07-01"
) -> tuple[HttpListener, Output]:
    listener = HttpListener()
    port = await listener.start()
    config = emulator_config(
        port,
        sample,
        memory_mb=256,
        snapstart=snapstart,
        TELEMETRY_SCHEMA=schema,
        PATH="/usr/bin:/bin",
    )
    output = Output()
    lookup = {EXTENSION_ID: "sample-extension"}.get
    emulator = Emulator(config, output=output, extension_lookup=lookup)  # type: ignore[arg-type]
    await emulator.start()
    try:
        async with httpx.AsyncClient(base_url=emulator.invoke_url) as client:
            url = "/2015-03-31/functions/function/invocations"
            answer = await client.post(url, content=b'{"n":1}')
            assert answer.status_code == 200
        await eventually(lambda: "REPORT" in output.text, "the REPORT line")
        await eventually(
            lambda: any(e["type"] == "platform.report" for e in listener.events),
            "platform.report at the listener",
        )
    finally:
        await emulator.stop()
        await listener.stop()
    return listener, output


def by_type(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(event["record"] for event in events if event["type"] == kind)


@pytest.mark.asyncio
async def test_telemetry_sample_receives_the_full_sequence() -> None:
    listener, output = await run("telemetry")
    assert 'subscribed 200 "OK"' in output.text
    events = listener.events
    platform = [event["type"] for event in events if event["type"].startswith("platform.")]
    assert platform == [
        "platform.initStart",
        "platform.telemetrySubscription",
        "platform.initRuntimeDone",
        "platform.initReport",
        "platform.start",
        "platform.runtimeDone",
        "platform.report",
    ]
    assert by_type(events, "platform.telemetrySubscription") == {
        "name": "sample-extension",
        "state": "Subscribed",
        "types": ["platform", "function", "extension"],
    }
    init = by_type(events, "platform.initReport")
    assert init["status"] == "success" and init["metrics"]["durationMs"] > 0
    report = by_type(events, "platform.report")
    request_id = report["requestId"]
    assert (
        f"REPORT RequestId: {request_id}\tDuration: {report['metrics']['durationMs']:.2f} ms"
        in (output.text)
    )
    assert report["metrics"]["memorySizeMB"] == 256
    assert f"Billed Duration: {report['metrics']['billedDurationMs']} ms" in output.text
    done = by_type(events, "platform.runtimeDone")
    assert done["status"] == "success" and done["metrics"]["producedBytes"] == len(b'{"n":1}')
    function_lines = [event["record"] for event in events if event["type"] == "function"]
    assert 'handling {"n":1}' in function_lines
    assert all(isinstance(record, str) for record in function_lines)  # 2022-07-01: strings
    times = [event["time"] for event in events]
    assert times == sorted(times)


@pytest.mark.asyncio
async def test_a_snapstart_restore_is_reported_from_schema_2022_12_13() -> None:
    listener, output = await run("telemetry", snapstart=True, schema="2022-12-13")
    assert "restored" in output.text
    events = listener.events
    platform = [event["type"] for event in events if event["type"].startswith("platform.")]
    assert platform == [
        "platform.initStart",
        "platform.telemetrySubscription",
        "platform.initRuntimeDone",
        "platform.initReport",
        "platform.restoreStart",
        "platform.restoreRuntimeDone",
        "platform.restoreReport",
        "platform.start",
        "platform.runtimeDone",
        "platform.report",
    ]
    assert by_type(events, "platform.initStart")["initializationType"] == "snap-start"
    assert by_type(events, "platform.restoreStart") == {
        "functionName": "test_function",
        "functionVersion": "$LATEST",
        "instanceMaxMemory": 256,
    }
    assert by_type(events, "platform.restoreRuntimeDone") == {"status": "success"}
    restore = by_type(events, "platform.restoreReport")
    assert restore["status"] == "success"
    duration = restore["metrics"]["durationMs"]
    assert duration > 0
    # the same figures as the RESTORE_REPORT line and the REPORT's restore duration
    assert f"RESTORE_REPORT Restore Duration: {duration:.2f} ms" in output.text
    assert by_type(events, "platform.report")["metrics"]["restoreDurationMs"] == duration


@pytest.mark.asyncio
async def test_schema_2022_07_01_gets_no_restore_events() -> None:
    listener, output = await run("telemetry", snapstart=True)
    assert "restored" in output.text and "RESTORE_REPORT" in output.text
    assert not any(event["type"].startswith("platform.restore") for event in listener.events)
    assert any(event["type"] == "platform.report" for event in listener.events)


@pytest.mark.asyncio
async def test_logs_sample_receives_logs_api_records() -> None:
    listener, output = await run("logs")
    assert 'subscribed 200 "OK"' in output.text
    types = [event["type"] for event in listener.events]
    assert "platform.logsSubscription" in types
    assert [t for t in types if t in ("platform.start", "platform.end", "platform.report")] == [
        "platform.start",
        "platform.end",
        "platform.report",
    ]
    assert not any(t.startswith("platform.init") for t in types)
    start = by_type(listener.events, "platform.start")
    assert set(start) == {"requestId"}


@pytest.mark.asyncio
async def test_only_a_registered_extension_may_subscribe() -> None:
    # the default emulator: the environment's own Extensions API says who is registered; the
    # runtime below sends an identifier it never registered
    listener = HttpListener()
    port = await listener.start()
    config = emulator_config(port, "telemetry", memory_mb=128)
    output = Output()
    emulator = Emulator(config, output=output)  # type: ignore[arg-type]
    await emulator.start()
    try:
        await eventually(lambda: "subscribed" in output.text, "the subscription answer")
        assert "subscribed 403 " in output.text
        assert "Extension.UnknownExtensionIdentifier" in output.text
    finally:
        await emulator.stop()
        await listener.stop()
    assert listener.requests == []
