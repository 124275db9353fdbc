"""Fixtures for the conformance suite: one emulator pair per (handler, env) group, kept alive while
consecutive cases share that group and always killed at teardown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import peers
from tests.conformance.harness import Emulator, Side

GroupKey = tuple[str, tuple[tuple[str, str], ...]]


class EmulatorPool:
    """Keeps the emulators of the current group only; switching group closes the previous ones."""

    def __init__(self, rie: Path, python: Path, log_dir: Path) -> None:
        self._rie, self._python, self._log_dir = rie, python, log_dir
        self._group: GroupKey | None = None
        self._running: dict[str, Emulator] = {}

    def get(self, side: Side, handler: str, env: dict[str, str]) -> Emulator:
        group: GroupKey = (handler, tuple(sorted(env.items())))
        if group != self._group:
            self.close()
            self._group = group
        if side.name not in self._running:
            self._running[side.name] = Emulator(
                self._rie, self._python, side, handler, env, self._log_dir
            )
        return self._running[side.name]

    def close(self) -> None:
        while self._running:
            _, emulator = self._running.popitem()
            emulator.close()
        self._group = None


@pytest.fixture(scope="session", params=peers.CONFORMANCE_VERSIONS, ids=lambda v: f"py{v}")
def conformance_python(request: pytest.FixtureRequest) -> Path:
    """The interpreter both sides run under: each of AWS's current managed Python versions."""
    version: str = request.param
    return peers.require_awslambdaric(version)


@pytest.fixture(scope="session")
def emulators(
    rie_binary: Path, conformance_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorPool]:
    pool = EmulatorPool(rie_binary, conformance_python, tmp_path_factory.mktemp("rie-logs"))
    try:
        yield pool
    finally:
        pool.close()
