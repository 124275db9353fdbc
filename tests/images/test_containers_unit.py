"""Pure parts of rie_server.containers (no engine needed)."""

from __future__ import annotations

import os

from lambdarig.rie_server.containers import _owner_alive, _returncode


def test_container_exit_status_maps_to_subprocess_return_codes() -> None:
    assert _returncode(0) == 0
    assert _returncode(3) == 3
    assert _returncode(137) == -9  # SIGKILL (timeouts, OOM kills)
    assert _returncode(143) == -15  # SIGTERM
    assert _returncode(255) == 255


def test_owner_liveness() -> None:
    assert _owner_alive(str(os.getpid()))
    assert not _owner_alive("999999999")
    assert not _owner_alive("not-a-pid")
