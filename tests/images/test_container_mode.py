"""Container-mode execution environments (rie_server.containers) against a real Docker engine."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdarig.rie_server.environments.containers import LABEL, OWNER_LABEL, ContainerFactory, sweep
from lambdarig.rie_server.environments.environment import (
    Environment,
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
    OutcomeKind,
)
from lambdarig.rie_server.environments.layers import prepare_opt

pytestmark = pytest.mark.docker


def _spec(
    factory: ContainerFactory, timeout_s: float = 2.0, memory_mb: int = 128
) -> EnvironmentSpec:
    return EnvironmentSpec(
        command=(),
        cwd=None,
        env={
            "AWS_LAMBDA_FUNCTION_NAME": "boxed",
            "PATH": "/host/only/path",
            "LAMBDA_TASK_ROOT": "/host/code",
        },
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:boxed",
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        process_factory=factory,
    )


def _run(
    spec: EnvironmentSpec, events: list[dict[str, Any]]
) -> tuple[list[InvokeOutcome], list[str]]:
    lines: list[str] = []

    async def go() -> list[InvokeOutcome]:
        environment = Environment(spec, "boxed", lambda _env, line: lines.append(line))
        try:
            return [
                await environment.invoke(InvokeRequest(f"req-{n}", json.dumps(e).encode()))
                for n, e in enumerate(events)
            ]
        finally:
            await environment.stop()

    return asyncio.run(go()), lines


@pytest.fixture
def factory(docker_client: Any, bookworm_image: Any) -> Iterator[ContainerFactory]:
    made = ContainerFactory(bookworm_image.tag, client=docker_client)
    yield made
    made.close()
    assert docker_client.containers.list(all=True, filters={"label": LABEL}) == []


def test_timeout_crash_and_recovery_in_containers(factory: ContainerFactory) -> None:
    outcomes, lines = _run(
        _spec(factory),
        [
            {"n": 1},
            {"action": "sleep", "seconds": 30},
            {"n": 2},
            {"action": "crash", "status": 3},
            {"n": 3},
        ],
    )
    ok1, timed_out, ok2, crashed, ok3 = outcomes
    assert ok1.kind is OutcomeKind.SUCCESS and ok1.init_duration_ms is not None
    body = json.loads(ok1.body)
    assert body["function_name"] == "boxed" and body["task_root"] == "/var/task"
    assert timed_out.kind is OutcomeKind.TIMEOUT
    assert timed_out.error_type == "Sandbox.Timedout"
    assert timed_out.error_message == "RequestId: req-1 Error: Task timed out after 2.00 seconds"
    assert ok2.kind is OutcomeKind.SUCCESS and ok2.init_duration_ms is not None  # suppressed init
    assert crashed.kind is OutcomeKind.CRASH and crashed.exit_status == 3
    assert (
        crashed.error_message == "RequestId: req-3 Error: Runtime exited with error: exit status 3"
    )
    assert not crashed.out_of_memory
    assert ok3.kind is OutcomeKind.SUCCESS
    assert "hello from the function" in lines


def test_out_of_memory_kill_is_reported(factory: ContainerFactory) -> None:
    (oom, after), _ = _run(
        _spec(factory, timeout_s=20, memory_mb=96), [{"action": "hog"}, {"n": 1}]
    )
    assert oom.kind is OutcomeKind.CRASH
    assert oom.out_of_memory
    assert oom.error_type == "Runtime.ExitError"
    assert oom.error_message == "RequestId: req-0 Error: Runtime exited with error: signal: killed"
    assert 64 <= oom.max_memory_used_mb <= 96
    assert after.kind is OutcomeKind.SUCCESS


def test_layers_are_mounted_at_opt(docker_client: Any, bookworm_image: Any, tmp_path: Path) -> None:
    layer = tmp_path / "layer" / "python"
    layer.mkdir(parents=True)
    (layer / "layered.py").write_text("VALUE = 'from /opt'\n")
    opt = prepare_opt([tmp_path / "layer"], tmp_path / "opt")
    factory = ContainerFactory(bookworm_image.tag, client=docker_client, opt_dir=opt)
    try:
        (outcome,), _ = _run(_spec(factory), [{"action": "opt"}])
    finally:
        factory.close()
    assert json.loads(outcome.body) == {"layered": "from /opt"}


def test_layers_bin_and_lib_join_the_images_path(
    docker_client: Any, bookworm_image: Any, tmp_path: Path
) -> None:
    """As in the service and in process mode: /opt/bin last on PATH, /opt/lib last on
    LD_LIBRARY_PATH, after the image's own values (never the host's)."""
    tool = tmp_path / "layer" / "bin" / "layer-tool"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\necho tool\n")
    tool.chmod(0o755)
    (tmp_path / "layer" / "lib").mkdir()
    opt = prepare_opt([tmp_path / "layer"], tmp_path / "opt")
    image_env = dict(
        pair.split("=", 1)
        for pair in docker_client.images.get(bookworm_image.tag).attrs["Config"]["Env"]
    )
    factory = ContainerFactory(bookworm_image.tag, client=docker_client, opt_dir=opt)
    try:
        (outcome,), _ = _run(_spec(factory), [{"action": "paths"}])
    finally:
        factory.close()
    seen = json.loads(outcome.body)
    assert seen["tool"] == "/opt/bin/layer-tool"
    assert seen["PATH"] == image_env["PATH"] + ":/opt/bin"
    assert seen["LD_LIBRARY_PATH"].split(":")[-1] == "/opt/lib"


def test_sweep_removes_containers_of_dead_emulators(
    docker_client: Any, bookworm_image: Any
) -> None:
    orphan = docker_client.containers.create(
        bookworm_image.tag, labels={LABEL: "1", OWNER_LABEL: "999999999"}
    )
    assert orphan.id in sweep(docker_client)
    assert docker_client.containers.list(all=True, filters={"label": LABEL}) == []


def test_a_missing_image_is_a_one_line_error_with_exit_2(docker_client: Any) -> None:
    import os
    import subprocess
    import sys

    missing = f"lambdarig-test/missing-{os.getpid()}:none"
    for entry, prog in (
        ([sys.executable, "-m", "lambdarig.rie_server"], "lambdarig-rie"),
        ([sys.executable, "-m", "lambdarig.cli", "serve", "--port", "0"], "lambdarig"),
    ):
        done = subprocess.run(
            [*entry, "--image", missing, "app.handler"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert done.stderr == (
            f"{prog}: error: expected the image '{missing}' in the local engine, it has none "
            "(build it with lambdarig image build, or docker pull it)\n"
        )
