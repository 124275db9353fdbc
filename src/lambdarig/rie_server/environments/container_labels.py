"""What marks a container as the emulator's, and the sweep of those left behind.

Containers carry the labels ``lambdarig.emulator=1`` and ``lambdarig.owner=<emulator pid>``; the
sweep every new ``ContainerFactory`` runs removes those whose emulator no longer exists (e.g.
SIGKILLed).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

LABEL = "lambdarig.emulator"
OWNER_LABEL = "lambdarig.owner"


def _owner_alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def sweep(client: Any, *, include_own: bool = False) -> list[str]:
    """Remove lambdarig containers whose emulator is gone (or ours too, ``include_own``).

    Returns the removed container ids.
    """
    import docker

    removed: list[str] = []
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        owner = str(container.labels.get(OWNER_LABEL, ""))
        if _owner_alive(owner) and not (include_own and owner == str(os.getpid())):
            continue
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            container.remove(force=True)
            removed.append(str(container.id))
    return removed
