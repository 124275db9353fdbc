"""Async handlers: ``async def`` handlers (or handlers returning a coroutine) run to completion.

awslambdaric cannot run them (it reports ``Runtime.MarshalError``: a coroutine is not JSON
serializable). We run each returned coroutine on ONE event loop, created on first use and kept
across invocations, so connections and other loop-bound state a handler caches at module level
survive between invocations. ``asyncio`` is imported only when the first coroutine appears: it
costs tens of milliseconds of cold start that synchronous functions should not pay.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    import asyncio
    from collections.abc import Coroutine
    from typing import Any


class AsyncRunner:
    """Owns the event loop async handlers run on. One coroutine at a time, from one thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coroutine`` to completion and return its result (or raise its exception).

        The coroutine runs as a task in a copy of the caller's context (request id included).
        """
        import asyncio

        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
        return self._loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Cancel leftover tasks, shut down async generators and close the loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        import asyncio

        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()
