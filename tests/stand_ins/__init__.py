"""Modules that stand in for packages a function may bring, copied into a test's code directory
(they are files, not imports of the test process)."""

from __future__ import annotations

from pathlib import Path

# snapshot_restore_py's API (the PyPI package awslambdaric depends on), for our runtime client,
# which imports it only when present.
SNAPSHOT_RESTORE_PY = Path(__file__).with_name("snapshot_restore_py.py")
