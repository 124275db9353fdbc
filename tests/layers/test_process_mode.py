"""Layers in process mode: the runtime-client layer and a code layer laid out by prepare_opt, run
by an execution environment whose Python can import lambdarig ONLY from the layer (``-S``)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from lambdarig.build.layers import build_runtime_layer
from lambdarig.rie_server.environments.environment import (
    Environment,
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
    OutcomeKind,
)
from lambdarig.rie_server.environments.layers import layer_environment, prepare_opt

FUNCTION = Path(__file__).parents[1] / "images" / "fixtures" / "function"
VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def opt(tmp_path: Path) -> Path:
    code_layer = tmp_path / "code-layer" / "python"
    code_layer.mkdir(parents=True)
    (code_layer / "layered.py").write_text("VALUE = 'from a layer'\n")
    runtime = build_runtime_layer(tmp_path / "runtime.zip")
    return prepare_opt([runtime.path, tmp_path / "code-layer"], tmp_path / "opt")


@pytest.fixture
def python_without_site(tmp_path: Path) -> Path:
    """An interpreter that cannot see the dev environment's lambdarig: only PYTHONPATH counts."""
    script = tmp_path / "python3-nosite"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
    script.chmod(0o755)
    return script


def _invoke_twice(command: tuple[str, ...], opt: Path, python: Path) -> list[InvokeOutcome]:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(FUNCTION)}
    env = {
        **layer_environment(opt, VERSION, base),
        "LAMBDA_TASK_ROOT": str(FUNCTION),
        "_HANDLER": "app.handler",
        "LAMBDARIG_PYTHON": str(python),
        "AWS_LAMBDA_FUNCTION_NAME": "layered",
    }
    spec = EnvironmentSpec(
        command=command,
        cwd=str(FUNCTION),
        env=env,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:layered",
        timeout_s=10,
        memory_mb=256,
    )

    async def run() -> list[InvokeOutcome]:
        environment = Environment(spec, "layers", lambda _env, _line: None)
        try:
            return [
                await environment.invoke(InvokeRequest(f"req-{n}", json.dumps(event).encode()))
                for n, event in enumerate([{"action": "opt"}, {"hello": "layers"}])
            ]
        finally:
            await environment.stop()

    return asyncio.run(run())


def _check(outcomes: list[InvokeOutcome]) -> None:
    assert [o.kind for o in outcomes] == [OutcomeKind.SUCCESS] * 2, outcomes
    assert json.loads(outcomes[0].body) == {"layered": "from a layer"}
    assert json.loads(outcomes[1].body)["event"] == {"hello": "layers"}


def test_opt_bootstrap_runs_the_function_from_the_layers(
    opt: Path, python_without_site: Path
) -> None:
    _check(_invoke_twice((str(opt / "bootstrap"),), opt, python_without_site))


def test_exec_wrapper_keeps_the_managed_interpreter(opt: Path, python_without_site: Path) -> None:
    # As Lambda's managed bootstrap calls AWS_LAMBDA_EXEC_WRAPPER: wrapper, interpreter, its args.
    command = (
        str(opt / "bin" / "lambdarig-wrapper"),
        str(python_without_site),
        "/var/runtime/bootstrap.py",
    )
    _check(_invoke_twice(command, opt, Path("/nonexistent/python3")))
