from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdarig.rie_server.environments.environment import EnvironmentSpec
from tests.rie_server.extensions.harness import environment_spec, function_dirs


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Path, Path, EnvironmentSpec]]:
    """``opt`` (write extensions there), the extensions' ``logs`` and the spec of a runtime
    client beside ``opt/extensions``."""
    task, logs = function_dirs(tmp_path)
    opt = tmp_path / "opt"
    opt.mkdir()
    yield opt, logs, environment_spec(task, opt, logs)
