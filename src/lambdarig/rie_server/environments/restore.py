"""SnapStart's restore phase for one runtime process (snapstart-runtime-hooks.html).

With ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`` a runtime ends its init (after its
before-snapshot hooks) with ``GET /runtime/restore/next``; the service snapshots the environment
there and, on a later cold start, restores it and answers that request with 200. The runtime then
runs its after-restore hooks and polls ``/invocation/next``: the restore is over. An after-restore
hook that fails is reported with ``POST /runtime/restore/error`` (awslambdaric then exits 65), and
hooks that run longer than 10 seconds time the restore out (snapstart-troubleshooting.html): the
invoke fails with ``SnapStartException`` / ``SnapStartTimeoutException``. Here the "snapshot" is the
live process itself: restoring means answering the waiting ``/restore/next``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Protocol

from lambdarig import runtime_api
from lambdarig.rie_server.environments.outcomes import InvokeOutcome, OutcomeKind, failure
from lambdarig.rie_server.runtime import protocol
from lambdarig.rie_server.runtime.generation import Generation

RESTORE_TIMEOUT_S = 10.0  # after-restore hooks must finish within 10 s


@dataclass(frozen=True)
class Restored:
    """How a restore went: its duration and, when it failed, the outcome invokes get."""

    duration_ms: float
    failure: InvokeOutcome | None = None


class RestoreListener(Protocol):
    """Told when an environment's restore starts and ends (``RESTORE_START``/``RESTORE_REPORT``)."""

    def restore_started(self, env_id: str) -> None: ...

    def restore_finished(self, env_id: str, restored: Restored) -> None: ...


async def restore(
    generation: Generation, exited: asyncio.Future[int], timeout_s: float = RESTORE_TIMEOUT_S
) -> Restored:
    """Answer the runtime's waiting ``/restore/next`` and wait (up to ``timeout_s``) until it
    polls ``/invocation/next`` (restored), posts ``/restore/error``, or exits. Never raises for
    the runtime's behaviour; the caller ends the process when ``failure`` is set."""
    started = time.monotonic()
    generation.restore()  # a runtime that hung up its poll has exited or will time out
    waited: set[asyncio.Future[Any]] = {generation.ready, generation.restore_failed, exited}
    await asyncio.wait(waited, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    duration_ms = (time.monotonic() - started) * 1000
    if generation.ready.done():
        return Restored(duration_ms)
    if generation.restore_failed.done():
        posted = generation.restore_failed.result()
        failed = failure(
            OutcomeKind.INIT_ERROR,
            posted.error_type,
            None,
            body=posted.body,
            content_type=posted.content_type,
        )
    elif exited.done():
        message = protocol.exit_message(None, exited.result())
        failed = failure(OutcomeKind.INIT_ERROR, runtime_api.RUNTIME_EXIT_ERROR, message)
    else:
        message = protocol.timeout_message(None, timeout_s)
        failed = failure(OutcomeKind.INIT_ERROR, runtime_api.SANDBOX_TIMEDOUT, message)
    restored = dataclasses.replace(failed, restore_error=True, restore_duration_ms=duration_ms)
    return Restored(duration_ms, restored)
