"""What an ``http.server`` handler answers with, and how an answer it waits for is run.

A handler returns an ``HttpReply`` directly (no task), a ``Deferred`` another callback resolves
(no task: a long-poll ``/next``) or an awaitable of a reply, which the connection runs at once up
to its first wait and only then hands to a task (``Started``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine, Generator
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


class Started(Coroutine[Any, None, None]):
    """A coroutine already run up to its first wait, for a task to carry on: the task's first
    step gets what it waits on; later steps and cancellation go to the coroutine itself."""

    __slots__ = ("_coro", "_first", "_pending")

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self._coro = coro
        self._first: Any = first
        self._pending = True

    def send(self, value: None) -> Any:
        if self._pending:
            self._pending = False
            return self._first
        return self._coro.send(value)

    def throw(self, exc: Any, *_: Any) -> Any:
        self._pending = False
        return self._coro.throw(exc)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, None]:
        raise TypeError("Started is driven by a task, not awaited")
