"""Extensions as real executables in ``/opt/extensions`` (Python scripts using only urllib),
beside a real runtime (``lambdarig.runtime_client``), in a real ``Environment`` and through the
emulator with ``--layer``. Each extension writes what it got to a file the test reads."""

from __future__ import annotations

import asyncio
import io
import json
import time
from pathlib import Path
from typing import Any

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from lambdarig.rie_server.environments.environment import Environment, EnvironmentSpec, OutcomeKind
from tests.probes import eventually
from tests.rie_server.extensions.harness import (
    ARN,
    emulator_config,
    function_dirs,
    records,
    request,
    run,
    write_extension,
)


def init_failure(spec: EnvironmentSpec) -> str | None:
    """The error type of an init that fails (it must)."""

    async def body(env: Environment) -> str | None:
        outcome = await env.start()
        assert outcome is not None and outcome.kind is OutcomeKind.INIT_ERROR
        return outcome.error_type

    result: str | None = run(spec, body)
    return result


def invoke_once(config: EmulatorConfig) -> None:
    """An emulator of ``config`` answers one invoke with success, then stops."""

    async def main() -> None:
        emulator = Emulator(config, output=io.StringIO())
        await emulator.start()
        try:
            outcome = await emulator.invoke(b"{}")
            assert outcome.kind is OutcomeKind.SUCCESS
        finally:
            await emulator.stop()

    asyncio.run(main())


def test_registration_invoke_and_shutdown_events(setup: tuple[Path, Path, EnvironmentSpec]) -> None:
    opt, logs, spec = setup
    write_extension(opt, "both-ext", ["INVOKE", "SHUTDOWN"])
    write_extension(opt, "shutdown-only", ["SHUTDOWN"])
    request_id = "11111111-2222-4333-8444-555555555555"

    async def body(env: Environment) -> None:
        assert await env.start() is None
        outcome = await env.invoke(request(request_id, "Root=1-abc-def;Parent=1;Sampled=1"))
        assert outcome.kind is OutcomeKind.SUCCESS
        assert json.loads(outcome.body) == {"echo": {"a": 1}}
        await eventually(lambda: len(records(logs, "both-ext")) == 2, "the INVOKE event")

    started = time.time()
    run(spec, body)
    both, only = records(logs, "both-ext"), records(logs, "shutdown-only")
    assert both[0] == {
        "status": 200,
        "registered": {
            "functionName": "test_function",
            "functionVersion": "$LATEST",
            "handler": "app.handler",
        },
    }
    invoke = both[1]["event"]
    assert invoke["eventType"] == "INVOKE" and invoke["requestId"] == request_id
    assert invoke["invokedFunctionArn"] == ARN
    assert invoke["tracing"] == {
        "type": "X-Amzn-Trace-Id",
        "value": "Root=1-abc-def;Parent=1;Sampled=1",
    }
    assert invoke["deadlineMs"] >= started * 1000 + 4000
    assert len(both[1]["event_id"]) == 36
    for log in (both, only):  # stop() = spindown, within the 2 s deadline
        shutdown = log[-1]["event"]
        assert shutdown["eventType"] == "SHUTDOWN" and shutdown["shutdownReason"] == "spindown"
        assert shutdown["deadlineMs"] <= int((time.time() + 2) * 1000)
    assert [r["event"]["eventType"] for r in only[1:]] == ["SHUTDOWN"]


def test_response_before_extension_done_and_next_invoke_waits(
    setup: tuple[Path, Path, EnvironmentSpec],
) -> None:
    opt, logs, spec = setup
    write_extension(opt, "slow-ext", ["INVOKE"], mode="slow")

    async def body(env: Environment) -> None:
        assert await env.start() is None
        first = await env.invoke(request("11111111-2222-4333-8444-000000000001"))
        answered = time.time()
        assert first.kind is OutcomeKind.SUCCESS
        # The extension is still busy with the first invoke when the caller has its answer.
        assert not any("done" in r for r in records(logs, "slow-ext"))
        second = await env.invoke(request("11111111-2222-4333-8444-000000000002"))
        assert second.kind is OutcomeKind.SUCCESS

        def got() -> list[dict[str, Any]]:
            return [r for r in records(logs, "slow-ext") if "event" in r]

        # the extension writes its record after the runtime may already have answered
        await eventually(lambda: len(got()) >= 2, "the extension's record of the second INVOKE")
        done = [r for r in records(logs, "slow-ext") if "done" in r]
        assert done[0]["done"] == "11111111-2222-4333-8444-000000000001"
        assert got()[1]["at"] >= done[0]["at"]  # the second INVOKE came after the first finished
        assert done[0]["at"] > answered

    run(spec, body)


def test_crash_during_init_fails_init_with_extension_crash(
    setup: tuple[Path, Path, EnvironmentSpec],
) -> None:
    opt, _, spec = setup
    write_extension(opt, "crasher", ["INVOKE"], mode="crash")
    assert init_failure(spec) == "Extension.Crash"


def test_init_error_fails_init_with_extension_init_error(
    setup: tuple[Path, Path, EnvironmentSpec],
) -> None:
    opt, _, spec = setup
    write_extension(opt, "broken", ["INVOKE"], mode="init_error")
    assert init_failure(spec) == "Extension.InitError"


def test_the_disable_file_disables_external_extensions(
    setup: tuple[Path, Path, EnvironmentSpec],
) -> None:
    opt, logs, spec = setup
    write_extension(opt, "crasher", ["INVOKE"], mode="crash")
    (opt / "disable-extensions-jwigqn8j").write_text("")

    async def body(env: Environment) -> None:
        assert await env.start() is None
        outcome = await env.invoke(request("11111111-2222-4333-8444-000000000003"))
        assert outcome.kind is OutcomeKind.SUCCESS

    run(spec, body)


def _call(address: str, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    data = b"{}" if method == "POST" else None
    req = urllib.request.Request(f"http://{address}{path}", data, headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_http_errors_on_the_runtime_api_socket(setup: tuple[Path, Path, EnvironmentSpec]) -> None:
    _, _, spec = setup
    unknown = "0b6c2d1e-3f4a-4b5c-8d6e-7f8091a2b3c4"

    async def body(env: Environment) -> list[tuple[int, Any]]:
        assert await env.start() is None  # the runtime polled /next: registration is closed
        loop = asyncio.get_running_loop()
        calls = [
            ("POST", "/2020-01-01/extension/register", {"Lambda-Extension-Name": "late"}),
            ("GET", "/2020-01-01/extension/event/next", {}),
            ("GET", "/2020-01-01/extension/event/next", {"Lambda-Extension-Identifier": "x"}),
            ("POST", "/2020-01-01/extension/exit/error", {"Lambda-Extension-Identifier": unknown}),
        ]
        return [
            await loop.run_in_executor(None, _call, env.runtime_api_address, *call)
            for call in calls
        ]

    assert run(spec, body) == [
        (
            403,
            {
                "errorMessage": "Extension registration closed already",
                "errorType": "Extension.RegistrationClosed",
            },
        ),
        (
            403,
            {
                "errorMessage": "Missing Lambda-Extension-Identifier header",
                "errorType": "Extension.MissingExtensionIdentifier",
            },
        ),
        (
            403,
            {
                "errorMessage": "Invalid Lambda-Extension-Identifier",
                "errorType": "Extension.InvalidExtensionIdentifier",
            },
        ),
        (
            403,
            {
                "errorMessage": f"Unknown extension {unknown}",
                "errorType": "Extension.UnknownExtensionIdentifier",
            },
        ),
    ]


def test_an_extension_past_the_deadline_times_the_invoke_out_with_shutdown_timeout(
    setup: tuple[Path, Path, EnvironmentSpec],
) -> None:
    import dataclasses

    opt, logs, spec = setup
    write_extension(opt, "slow-ext", ["INVOKE", "SHUTDOWN"], mode="slow")
    spec = dataclasses.replace(spec, timeout_s=0.3)

    async def body(env: Environment) -> None:
        assert await env.start() is None
        outcome = await env.invoke(request("11111111-2222-4333-8444-000000000004"))
        assert outcome.kind is OutcomeKind.SUCCESS  # the runtime answered in time
        reasons = lambda: [  # noqa: E731
            r["event"].get("shutdownReason") for r in records(logs, "slow-ext") if "event" in r
        ]
        await eventually(lambda: "timeout" in reasons(), "SHUTDOWN with reason timeout")
        assert not env.initialized  # reset: the next invoke runs a new init

    run(spec, body)


def test_emulator_with_a_layer_delivers_shutdown_on_stop(tmp_path: Path) -> None:
    task, logs = function_dirs(tmp_path)
    write_extension(tmp_path / "layer", "layer-ext", ["INVOKE", "SHUTDOWN"])
    invoke_once(emulator_config(task, logs, layer=tmp_path / "layer"))
    kinds = [r["event"]["eventType"] for r in records(logs, "layer-ext") if "event" in r]
    assert kinds == ["INVOKE", "SHUTDOWN"]


def test_without_layers_the_configured_extensions_directory_is_used(tmp_path: Path) -> None:
    """lambdarig-rie's /opt/extensions (``cli.drop_in``) as a directory of the test's."""
    task, logs = function_dirs(tmp_path)
    write_extension(tmp_path / "opt", "image-ext", ["INVOKE", "SHUTDOWN"])
    invoke_once(emulator_config(task, logs, extensions_dir=tmp_path / "opt" / "extensions"))
    kinds = [r["event"]["eventType"] for r in records(logs, "image-ext") if "event" in r]
    assert kinds == ["INVOKE", "SHUTDOWN"]


def test_lambdarig_rie_launches_opt_extensions_unless_layers_or_an_image_give_them() -> None:
    from lambdarig.rie_server.cli import OPT_EXTENSIONS, drop_in

    def config(*argv: str) -> EmulatorConfig:
        return drop_in(EmulatorConfig.from_environ_and_args({}, [*argv, "/bin/true", "x.y"]))

    assert OPT_EXTENSIONS == "/opt/extensions"
    assert config().extensions_dir == OPT_EXTENSIONS
    assert config("--layer", str(Path(__file__).parent)).extensions_dir is None
