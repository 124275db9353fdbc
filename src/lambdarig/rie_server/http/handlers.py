"""What an ``http.server`` handler answers with, and how an answer it waits for is run.

A handler returns an ``HttpReply`` directly (no task), a ``Deferred`` another callback resolves
(no task: a long-poll ``/next``) or an awaitable of a reply, which the connection runs at once up
to its first wait and then carries on from the futures it waits on, without a task (``Carried``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any, Callable, Union

from lambdarig.rie_server.http.parser import HttpRequest
from lambdarig.rie_server.http.reply import HttpReply
from lambdarig.rie_server.http.streams import BodySink, ReplyStream


class Deferred:
    """A reply a callback gives later, without a task: ``resolve`` writes it at once (a long
    poll answered from whatever produced its event). ``on_hangup`` runs if the client leaves
    first on a server made with ``cancel_on_hangup``."""

    __slots__ = ("reply", "on_hangup", "_sink")

    def __init__(self) -> None:
        self.reply: HttpReply | None = None
        self.on_hangup: Callable[[], None] | None = None
        self._sink: Callable[[HttpReply], None] | None = None

    def resolve(self, reply: HttpReply) -> None:
        # Answered: nothing is left to withdraw on a hang-up. Dropping the callback also breaks
        # the cycle a poll makes (this -> on_hangup -> its deliver closure -> this), which
        # would otherwise leave every answered ``/next`` to the cyclic garbage collector.
        self.on_hangup = None
        sink, self._sink = self._sink, None
        if sink is not None:
            sink(reply)
        elif self.reply is None:
            self.reply = reply

    def _attach(self, sink: Callable[[HttpReply], None]) -> None:
        self._sink = sink

    def _hang_up(self) -> None:
        self._sink = None
        callback, self.on_hangup = self.on_hangup, None
        if callback is not None:
            callback()


Handler = Callable[
    [HttpRequest], Union[HttpReply, Deferred, Awaitable[Union[HttpReply, ReplyStream]]]
]
OnHead = Callable[[HttpRequest], Union[BodySink, None]]  # offered each head (``http.streams``)


class Carried:
    """A coroutine already run up to its first wait, carried on without a task.

    Each future it waits on resumes it from that future's done callback, as a task's step would:
    a task per request cost its creation, a loop iteration for its first step and its removal
    from asyncio's registry of tasks, for nothing (a handler never asks for its task). ``cancel``
    is a task's: the future waited on is cancelled, or else the next resumption raises
    ``CancelledError`` in the coroutine (a cancel made during a step cancels the next future it
    waits on). The coroutine handles its own exceptions (the connection's ``_respond`` does):
    one that escapes goes to the loop's exception handler, as a callback's would. ``finished``
    lets whoever cancelled it wait for its ``except``/``finally`` blocks to run, as
    ``asyncio.run`` waits for cancelled tasks.

    So a handler runs outside any task (``asyncio.current_task()`` is ``None``): what needs one
    (``asyncio.timeout``, ``TaskGroup``, and ``wait_for`` from Python 3.12) belongs in a task the
    handler starts.
    """

    __slots__ = ("_coro", "_loop", "_waiting_on", "_must_cancel", "_done", "_finished")

    def __init__(
        self, coro: Coroutine[Any, Any, None], first: Any, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._coro = coro
        self._loop = loop
        self._waiting_on: asyncio.Future[Any] | None = None
        self._must_cancel = False
        self._done = False
        self._finished: asyncio.Future[None] | None = None  # made only when asked for
        self._hold(first)

    def cancel(self) -> None:
        waiting_on = self._waiting_on
        if waiting_on is None or not waiting_on.cancel():
            self._must_cancel = True  # resumed next by a future already done, or a bare yield

    def finished(self) -> asyncio.Future[None]:
        """Done once the coroutine has returned or raised."""
        if self._finished is None:
            self._finished = self._loop.create_future()
            if self._done:
                self._finished.set_result(None)
        return self._finished

    def _hold(self, waiting_on: Any) -> None:
        """Wait for what the coroutine yielded: a future (``await``) or ``None`` (a bare yield,
        as ``asyncio.sleep(0)``: resumed in the next iteration)."""
        if waiting_on is None:
            self._loop.call_soon(self._resume, None)
        elif getattr(waiting_on, "_asyncio_future_blocking", False):
            waiting_on._asyncio_future_blocking = False
            self._waiting_on = waiting_on
            waiting_on.add_done_callback(self._resume)
            if self._must_cancel and waiting_on.cancel():  # cancelled during the step
                self._must_cancel = False
        else:
            message = f"expected a future or a bare yield from the coroutine, got {waiting_on!r}"
            self._loop.call_soon(self._resume, None, RuntimeError(message))

    def _resume(self, _done: object, exc: BaseException | None = None) -> None:
        self._waiting_on = None
        if self._must_cancel:
            self._must_cancel = False
            exc = asyncio.CancelledError()
        try:
            # A future's outcome (its result, exception or cancellation) reaches the coroutine
            # through its own ``await``: ``Future.__await__`` returns ``result()``.
            waiting_on = self._coro.send(None) if exc is None else self._coro.throw(exc)
        except BaseException as escaped:
            self._done = True
            if self._finished is not None and not self._finished.done():
                self._finished.set_result(None)
            if not isinstance(escaped, (StopIteration, asyncio.CancelledError)):
                raise
            return
        self._hold(waiting_on)
