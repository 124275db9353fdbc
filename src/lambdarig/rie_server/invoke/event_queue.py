"""One function's ``Event`` invocations while they run in the background: the owner of their
tasks. Each is run by the function's ``attempt`` (its tries, retries and destinations: normally
``async_invocations.run_event``; a throttled function sends its events on without a try),
counted in ``pending`` until it ends, and cancelled, retries pending included, by ``cancel`` when
the function stops. An attempt that raises (an emulator failure, not a function's) is told to
``log`` in one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from lambdarig.rie_server.untrusted import printable

if TYPE_CHECKING:
    from lambdarig.rie_server.environments.outcomes import InvokeRequest
    from lambdarig.rie_server.invoke.async_invocations import EventResult

FAILED_LINE = "lambdarig-rie: Event invocation failed: {error}"


class EventQueue:
    """The ``Event`` invocations of one function still running or waiting for a retry."""

    def __init__(
        self,
        attempt: Callable[[InvokeRequest], Awaitable[EventResult]],
        log: Callable[[str], None],
    ) -> None:
        self._attempt = attempt
        self._log = log
        self._tasks: set[asyncio.Future[EventResult]] = set()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def put(self, request: InvokeRequest) -> None:
        """Run ``request``'s Event invocation in the background."""
        task = asyncio.ensure_future(self._attempt(request))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    async def cancel(self) -> None:
        """Drop every invocation still queued or waiting for a retry, and wait until they end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _done(self, task: asyncio.Future[EventResult]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log(FAILED_LINE.format(error=printable(str(task.exception()))))
