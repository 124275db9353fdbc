"""Runtimes and emulators the conformance kit is tested with."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from lambdarig.testing import HarnessSettings
from tests import peers
from tests.testing.conftest import require_awslambdaric

BROKEN_RUNTIME = [sys.executable, str(Path(__file__).parent / "fixtures" / "broken_runtime.py")]
BUFFERING_STREAMER = [
    sys.executable,
    str(Path(__file__).parent / "fixtures" / "buffering_streamer.py"),
]
OUR_CLIENT = [sys.executable, "-m", "lambdarig.runtime_client", "{handler}"]
# The bugs in fixtures/broken_runtime.py, one case each.
BROKEN_CASES = {"error-shape", "trace-id", "function-arn", "init-error", "large-response"}
# Where aws-lambda-rie differs from the service: no
# X-Amz-Function-Error, plain-text timeouts, and a no-op tracer (no Lambda-Runtime-Trace-Id).
AWS_RIE_DEVIATIONS = {"error-shape", "timeout", "init-error", "trace-id"}


@pytest.fixture(scope="session")
def our_emulator() -> HarnessSettings:
    if importlib.util.find_spec("lambdarig.rie_server.__main__") is None:
        pytest.skip("lambdarig.rie_server has no __main__ yet")
    return HarnessSettings(base_env=dict(os.environ))


@pytest.fixture(scope="session")
def aws_emulator() -> HarnessSettings:
    return HarnessSettings(base_env=dict(os.environ), emulator=(str(peers.require_rie()),))


@pytest.fixture(scope="session")
def awslambdaric_runtime() -> list[str]:
    return [str(require_awslambdaric()), "-m", "awslambdaric", "{handler}"]
