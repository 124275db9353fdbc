"""Stacks the harness tests run against: (emulator command, runtime options).

Each stack is ``EMULATOR+RUNTIME``: ``ours`` (``python -m lambdarig.rie_server``) or ``aws-rie``
(AWS's binary, a peer), with ``lambdarig`` (our client) or ``awslambdaric`` (a peer).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambdarig.testing import HarnessSettings
from tests import peers
from tests.images.conftest import docker_client  # noqa: F401 (the session fixture, shared)

FIXTURES = Path(__file__).parent / "fixtures"
# awslambdaric runs on the Python running the tests (issue 5's matrix: 3.10+). 4.2.2 has no 3.9
# wheel, so on 3.9 it runs in the shared peers venv (3.11): never a skip, which CI counts as failed.
RIC_VERSION = (
    f"{sys.version_info[0]}.{sys.version_info[1]}" if sys.version_info >= (3, 10) else None
)
README_EXAMPLE = Path(__file__).parent / "readme_example"
# The README example is a project of its own, run through pytester, never collected here.
collect_ignore = ["readme_example"]


@dataclass(frozen=True)
class Stack:
    name: str
    emulator: str  # "ours" or "aws-rie"
    settings: HarnessSettings
    pytest_args: tuple[str, ...]


def _our_emulator() -> tuple[str, ...]:
    if importlib.util.find_spec("lambdarig.rie_server.__main__") is None:
        pytest.skip("lambdarig.rie_server has no __main__ yet")
    return (sys.executable, "-m", "lambdarig.rie_server")


def require_awslambdaric() -> Path:
    """A python with awslambdaric (see ``RIC_VERSION``); skips locally / fails under CI if none."""
    return peers.require_awslambdaric(RIC_VERSION)


def make_stack(name: str) -> Stack:
    emulator_name, runtime = name.split("+")
    emulator = _our_emulator() if emulator_name == "ours" else (str(peers.require_rie()),)
    ric = str(require_awslambdaric()) if runtime == "awslambdaric" else None
    settings = HarnessSettings(
        base_env=dict(os.environ),
        emulator=emulator,
        awslambdaric_python=ric,
        default_runtime=runtime if ric else None,
    )
    args = [f"--lambda-emulator={' '.join(emulator)}"]
    if ric:
        args += ["--lambda-runtime=awslambdaric", f"--lambda-awslambdaric-python={ric}"]
    return Stack(name, emulator_name, settings, tuple(args))


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("ours+lambdarig"),
        pytest.param("ours+awslambdaric", marks=pytest.mark.peers),
        pytest.param("aws-rie+awslambdaric", marks=pytest.mark.peers),
        pytest.param("aws-rie+lambdarig", marks=pytest.mark.peers),
    ],
)
def stack(request: pytest.FixtureRequest) -> Stack:
    """(emulator + runtime) combinations; aws-rie is AWS's binary, awslambdaric AWS's client."""
    return make_stack(request.param)


def pytest_configure(config: pytest.Config) -> None:
    # pytester is needed by the plugin tests; only the root conftest may list pytest_plugins.
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")
