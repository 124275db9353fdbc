"""The extensions' share of an invoke and of the shutdown phase, with real processes: REPORT
waits for the INVOKE subscribers and counts their time; an extension that exits mid-invoke is an
``Extension.Crash``; the shutdown phase's order and deadlines (SIGTERM to the runtime first, 300 ms
or 500 ms for it, then ``SHUTDOWN`` for the rest of 2 s, SIGKILL to laggards); internal extensions
registered from the runtime process; bad registrations over real HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import re
import sys
import time
from pathlib import Path

from lambdarig.rie_server.environments.environment import Environment, EnvironmentSpec, OutcomeKind
from tests.probes import eventually
from tests.rie_server.extensions.harness import (
    emulator_config,
    function_dirs,
    records,
    request,
    run,
    write_extension,
)

# A runtime module that notes when it gets SIGTERM and then ignores it (a laggard runtime).
SIGTERM_HANDLER = r"""import os, signal, time
def _noted(signum, frame):
    with open(os.environ["EXT_LOG_DIR"] + "/runtime.sigterm", "w") as f:
        f.write(repr(time.time()))
signal.signal(signal.SIGTERM, _noted)
def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"echo": event}
"""

# An internal extension: a thread of the runtime process registers while the handler module is
# imported (init), before the runtime's first /next; it cannot subscribe to SHUTDOWN.
INTERNAL = (
    r"""import json, os, threading, time, urllib.error, urllib.request
BASE = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2020-01-01/extension"
LOG = os.environ["EXT_LOG_DIR"] + "/internal.jsonl"
def log(record):
    with open(LOG, "a") as f:
        f.write(json.dumps(record) + "\n")
def call(path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())
status, _, body = call("/register", {"events": ["INVOKE", "SHUTDOWN"]},
                       {"Lambda-Extension-Name": "wants-shutdown"})
log({"shutdown_refused": [status, body]})
status, headers, body = call("/register", {"events": ["INVOKE"]},
                             {"Lambda-Extension-Name": "in-process"})
log({"registered": [status, body]})
ident = headers["Lambda-Extension-Identifier"]
polling = threading.Event()
def loop():
    polling.set()
    while True:
        _, _, event = call("/event/next", headers={"Lambda-Extension-Identifier": ident})
        log({"event": event})
threading.Thread(target=loop, daemon=True).start()
polling.wait()
"""
    + SIGTERM_HANDLER
)


def test_report_waits_for_the_extension_and_counts_its_time(tmp_path: Path) -> None:
    from lambdarig.rie_server.emulator import Emulator

    task, logs = function_dirs(tmp_path)
    layer = tmp_path / "layer"
    write_extension(layer, "slow-ext", ["INVOKE"], mode="slow")  # 0.5 s after each INVOKE
    output = io.StringIO()

    def reports() -> list[str]:
        return [line for line in output.getvalue().splitlines() if line.startswith("REPORT")]

    async def main() -> None:
        emulator = Emulator(emulator_config(task, logs, layer=layer), output=output)
        await emulator.start()
        try:
            outcome = await emulator.invoke(b"{}")
            assert outcome.kind is OutcomeKind.SUCCESS
            # The caller has its answer while the extension still works: no REPORT yet.
            assert reports() == []
            assert not any("done" in r for r in records(logs, "slow-ext"))
            await eventually(lambda: len(reports()) == 1, "REPORT after the extension")
        finally:
            await emulator.stop()

    asyncio.run(main())
    match = re.search(r"\tDuration: ([0-9.]+) ms", reports()[0])
    assert match is not None and float(match.group(1)) >= 500.0
    assert "Status:" not in reports()[0]


def test_an_extension_exiting_mid_invoke_is_an_extension_crash(
    setup: tuple[Path, Path, EnvironmentSpec],
) -> None:
    opt, logs, spec = setup
    (Path(spec.cwd) / "app.py").write_text(SIGTERM_HANDLER)
    write_extension(opt, "dies-on-invoke", ["INVOKE"], mode="exit_on_invoke")

    async def body(env: Environment) -> None:
        assert await env.start() is None
        started = time.monotonic()
        first = await env.invoke(
            request("11111111-2222-4333-8444-0000000000c1", payload=b'{"sleep": 3}')
        )
        assert time.monotonic() - started < 2.5  # ended by the exit, not by the handler
        assert first.kind is OutcomeKind.CRASH
        assert first.error_type == "Extension.Crash"
        assert first.error_message == (
            "RequestId: 11111111-2222-4333-8444-0000000000c1 Error: "
            "extension dies-on-invoke exited: exit status 7"
        )
        assert not env.initialized  # reset: the next invoke runs a new init
        hold = logs / "hold-11111111-2222-4333-8444-0000000000c2"
        hold.touch()  # the extension exits only once the runtime has answered (released below)
        second = await env.invoke(request("11111111-2222-4333-8444-0000000000c2"))
        Path(f"{hold}.released").touch()
        assert second.init_duration_ms is not None  # it did
        # This time the runtime answers first: the caller has its response; REPORT tells the
        # crash (after the response) and the environment is reset again.
        assert second.kind is OutcomeKind.SUCCESS and second.settled is not None
        final = await second.settled
        assert final.kind is OutcomeKind.CRASH and final.error_type == "Extension.Crash"
        assert final.runtime_duration_ms == second.duration_ms <= final.duration_ms
        await eventually(lambda: not env.initialized, "the reset after the crash")

    run(spec, body)


def test_shutdown_order_runtime_sigterm_first_then_shutdown_for_the_rest_of_2_s(
    setup: tuple[Path, Path, EnvironmentSpec],
) -> None:
    opt, logs, spec = setup
    (Path(spec.cwd) / "app.py").write_text(SIGTERM_HANDLER)  # ignores SIGTERM: killed at 300 ms
    write_extension(opt, "laggard", ["SHUTDOWN"], mode="ignore_shutdown")
    timing: dict[str, float] = {}

    async def body(env: Environment) -> None:
        assert await env.start() is None
        timing["stop"] = time.time()
        await env.stop()
        timing["stopped"] = time.time()

    run(spec, body)
    sigterm = float((logs / "runtime.sigterm").read_text())
    shutdown = [r for r in records(logs, "laggard") if "event" in r][-1]
    assert shutdown["event"]["eventType"] == "SHUTDOWN"
    assert shutdown["event"]["shutdownReason"] == "spindown"
    # SIGTERM to the runtime first; SHUTDOWN once it is gone, after its 300 ms.
    assert timing["stop"] <= sigterm < shutdown["at"]
    assert 0.25 <= shutdown["at"] - sigterm < 1.5
    # The extensions' deadline is the end of the 2 s phase; the laggard is killed there.
    assert abs(shutdown["event"]["deadlineMs"] / 1000 - (timing["stop"] + 2.0)) < 0.3
    assert 1.9 <= timing["stopped"] - timing["stop"] < 3.5


def test_a_runtime_without_extensions_gets_no_sigterm_on_reset(
    setup: tuple[Path, Path, EnvironmentSpec],
) -> None:
    _, logs, spec = setup
    (Path(spec.cwd) / "app.py").write_text(SIGTERM_HANDLER)
    spec = dataclasses.replace(spec, timeout_s=0.5)

    async def body(env: Environment) -> None:
        assert await env.start() is None
        timed_out = await env.invoke(
            request("11111111-2222-4333-8444-0000000000d1", payload=b'{"sleep": 5}')
        )
        assert timed_out.kind is OutcomeKind.TIMEOUT
        assert not env.initialized

    run(spec, body)
    assert not (logs / "runtime.sigterm").exists()  # SIGKILL only: a 0 ms shutdown phase


def test_internal_extension_registers_from_the_runtime_gets_invoke_and_500_ms(
    setup: tuple[Path, Path, EnvironmentSpec],
) -> None:
    _, logs, spec = setup
    (Path(spec.cwd) / "app.py").write_text(INTERNAL)
    timing: dict[str, float] = {}

    async def body(env: Environment) -> None:
        assert await env.start() is None
        outcome = await env.invoke(request("11111111-2222-4333-8444-0000000000e1"))
        assert outcome.kind is OutcomeKind.SUCCESS
        await eventually(
            lambda: any("event" in r for r in records(logs, "internal")), "the internal INVOKE"
        )
        timing["stop"] = time.time()
        await env.stop()
        timing["stopped"] = time.time()

    run(spec, body)
    logged = records(logs, "internal")
    refused = next(r["shutdown_refused"] for r in logged if "shutdown_refused" in r)
    assert refused == [
        403,
        {
            "errorMessage": "SHUTDOWN: internal extensions cannot subscribe to SHUTDOWN",
            "errorType": "Extension.InvalidEventType",
        },
    ]
    assert next(r["registered"] for r in logged if "registered" in r)[0] == 200
    event = next(r["event"] for r in logged if "event" in r)
    assert event["eventType"] == "INVOKE"
    assert event["requestId"] == "11111111-2222-4333-8444-0000000000e1"
    # Internal extensions only: SIGTERM to the runtime, SIGKILL 500 ms later.
    sigterm = float((logs / "runtime.sigterm").read_text())
    assert timing["stop"] <= sigterm
    assert 0.45 <= timing["stopped"] - timing["stop"] < 1.5


WRAPPER = r"""import json, os, sys, urllib.error, urllib.request
BASE = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2020-01-01/extension/register"
def register(name, body):
    req = urllib.request.Request(BASE, data=body, headers={"Lambda-Extension-Name": name})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return [resp.status, json.loads(resp.read())]
    except urllib.error.HTTPError as exc:
        return [exc.code, json.loads(exc.read())]
events = json.dumps({"events": ["INVOKE"]}).encode()
results = {
    "too_large": register("big", b" " * (1024 * 1024 + 1) + events),
    "too_long": register("n" * 129, events),
    "path": register("../escape", events),
    "eleventh": register("eleventh", events),
}
with open(os.environ["EXT_LOG_DIR"] + "/wrapper.json", "w") as f:
    json.dump(results, f)
os.execv(sys.executable, [sys.executable, "-m", "lambdarig.runtime_client", "app.handler"])
"""


def test_bad_registrations_over_http_and_the_eleventh_extension(
    setup: tuple[Path, Path, EnvironmentSpec],
) -> None:
    opt, logs, spec = setup
    for index in range(10):  # the limit: the runtime starts once all ten registered
        write_extension(opt, f"ext-{index}", ["SHUTDOWN"])
    wrapper = Path(spec.cwd) / "wrapper.py"
    wrapper.write_text(WRAPPER)
    spec = dataclasses.replace(spec, command=(sys.executable, str(wrapper)), init_timeout_s=30.0)

    async def body(env: Environment) -> None:
        assert await env.start() is None

    run(spec, body)
    results = json.loads((logs / "wrapper.json").read_text())
    assert results["too_large"] == [
        403,
        {"errorMessage": "request body too large", "errorType": "InvalidRequestFormat"},
    ]
    for key in ("too_long", "path"):
        status, reply = results[key]
        assert status == 403 and reply["errorType"] == "Extension.InvalidExtensionName"
    assert results["eleventh"] == [
        403,
        {
            "errorMessage": "Extension limit (10) reached",
            "errorType": "Extension.TooManyExtensions",
        },
    ]
