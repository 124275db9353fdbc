"""Stacks the harness tests run against: (emulator command, runtime options).

- ``ours``: ``python -m lambdarig.rie_server`` with ``lambdarig.runtime_client``.
- ``aws``: AWS's aws-lambda-rie binary with awslambdaric (peers; skip locally when absent).
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

FIXTURES = Path(__file__).parent / "fixtures"
README_EXAMPLE = Path(__file__).parent / "readme_example"
# The README example is a project of its own, run through pytester, never collected here.
collect_ignore = ["readme_example"]


@dataclass(frozen=True)
class Stack:
    name: str
    settings: HarnessSettings
    pytest_args: tuple[str, ...]


def _ours() -> Stack:
    if importlib.util.find_spec("lambdarig.rie_server.__main__") is None:
        pytest.skip("lambdarig.rie_server has no __main__ yet")
    settings = HarnessSettings(base_env=dict(os.environ))
    return Stack("ours", settings, ())


def _aws() -> Stack:
    rie, ric = peers.require_rie(), peers.require_awslambdaric()
    settings = HarnessSettings(
        base_env=dict(os.environ),
        emulator=(str(rie),),
        awslambdaric_python=str(ric),
        default_runtime="awslambdaric",
    )
    args = (
        f"--lambda-emulator={rie}",
        "--lambda-runtime=awslambdaric",
        f"--lambda-awslambdaric-python={ric}",
    )
    return Stack("aws", settings, args)


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("ours"),
        pytest.param("aws", marks=pytest.mark.peers),
    ],
)
def stack(request: pytest.FixtureRequest) -> Stack:
    return _ours() if request.param == "ours" else _aws()


@pytest.fixture(scope="session")
def python() -> str:
    return sys.executable


def pytest_configure(config: pytest.Config) -> None:
    # pytester is needed by the plugin tests; only the root conftest may list pytest_plugins.
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")
