"""Runtime API state of one runtime process (a *generation*): the listener's backend.

Holds the asyncio side of the Runtime API for one process: the events waiting for a ``/next``
and the ``/next`` polls waiting for an event, and the futures the environment awaits. Every
Runtime API verdict comes from the process's ``lifecycle.RuntimeState``, the one owner of its
state; this module only turns verdicts into replies and completes futures. An event meets a
waiting poll synchronously (``submit`` calls the poll's ``deliver``), so the runtime's answer is
written in the same loop iteration as the invoke that produced it: no queue, no task, no extra
wake-up. A new process gets a new generation, so nothing a dead process left behind can finish a
newer invocation.

Where aws-lambda-rie (2026-01) differs, we follow RAPID/the service: each event carries a fresh
``Lambda-Runtime-Invocation-Id`` and a post echoing another one gets 410; a ``/response`` with an
invalid ``Lambda-Runtime-Function-Response-Mode`` is refused (400) without moving any state, so a
correct post may follow (aws-lambda-rie moves to ``InvocationResponse`` first and then answers 403).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Callable

from lambdarig import runtime_api
from lambdarig.rie_server.environments.outcomes import Finish, Posted
from lambdarig.rie_server.errors import InvalidTransition
from lambdarig.rie_server.runtime import protocol
from lambdarig.rie_server.runtime.lifecycle import Event, RuntimeState, Verdict
from lambdarig.rie_server.runtime.protocol import Reply, Route

if TYPE_CHECKING:
    from lambdarig.rie_server.runtime.streaming import ResponseStream

Deliver = Callable[[runtime_api.Invocation], None]  # answers one /next poll with an event
OnStream = Callable[["ResponseStream"], None]  # takes an invocation's streamed response

# Enum members read on every invoke, bound once: a member read off its class goes through the
# metaclass's attribute hook (``EnumType.__getattr__``), about five times a module global.
_ROUTE_RESPONSE, _RESPONSE, _ERROR = Route.RESPONSE, Event.RESPONSE, Event.ERROR
_ACCEPTED, _FINISH_RESPONSE = Verdict.ACCEPTED, Finish.RESPONSE


def now_ms() -> int:
    """Wall-clock time in Unix epoch milliseconds."""
    return int(time.time() * 1000)


class Generation:
    """Runtime API state of one runtime process; the backend of the environment's listener."""

    def __init__(self, max_concurrency: int, *, snapstart: bool = False) -> None:
        loop = self._loop = asyncio.get_running_loop()  # asked once: each ask costs a getpid()
        self.state = RuntimeState(now_ms(), max_concurrency)
        self._snapstart = snapstart
        # SnapStart: the runtime's /restore/next (init done) and what it posts to /restore/error.
        self.snapshot: asyncio.Future[None] = loop.create_future()
        self.restore_failed: asyncio.Future[Posted] = loop.create_future()
        self._restore_answer: Callable[[], None] | None = None
        self.pending: deque[runtime_api.Invocation] = deque()  # submitted, no /next took them yet
        self.polls: deque[Deliver] = deque()  # /next polls waiting for an event
        self.ready: asyncio.Future[None] = loop.create_future()
        self.init_error: asyncio.Future[Posted] = loop.create_future()
        self.results: dict[str, asyncio.Future[Posted | None]] = {}
        self.on_stream: dict[str, OnStream] = {}  # by invocation id, for streamed responses

    def submit(
        self, invocation: runtime_api.Invocation, on_stream: OnStream | None = None
    ) -> asyncio.Future[Posted | None]:
        """Hand ``invocation`` to a waiting poll now, else keep it for the next one; the future gets
        what the runtime posts (a streamed response: when the stream ends; ``on_stream`` gets
        the stream when it starts). The caller may end it with ``None`` itself (deadline, exit):
        later posts then change nothing."""
        assert invocation.invocation_id is not None
        future: asyncio.Future[Posted | None] = self._loop.create_future()
        self.results[invocation.invocation_id] = future
        if on_stream is not None:
            self.on_stream[invocation.invocation_id] = on_stream
        if self.polls:
            self._hand_over(self.polls.popleft(), invocation)
        else:
            self.pending.append(invocation)
        return future

    def withdraw(self, invocation: runtime_api.Invocation) -> bool:
        """The invocation is over for the front end (later posts for it are refused by the book).
        Returns whether a ``/next`` ever handed it to the runtime."""
        assert invocation.invocation_id is not None
        self.results.pop(invocation.invocation_id, None)
        self.on_stream.pop(invocation.invocation_id, None)
        if self.state.withdraw(invocation.invocation_id):
            return True
        with contextlib.suppress(ValueError):
            self.pending.remove(invocation)
        return False

    def expire(self, invocation: runtime_api.Invocation) -> None:
        """The invocation timed out and the runtime keeps running: refuse its late post (410)."""
        assert invocation.invocation_id is not None
        self.state.expire(invocation.request_id, invocation.invocation_id)

    def poll(self, deliver: Deliver) -> Callable[[], None] | None:
        """A runtime's ``/next``: ends init on the first call; ``deliver`` gets an event now
        (returns ``None``) or when one is submitted (returns the function that withdraws this
        poll, for a runtime that hung up). Raises ``InvalidTransition`` when polling is illegal."""
        again = self.state.next(now_ms())
        if not self.ready.done():
            self.ready.set_result(None)
        if again is not None:
            deliver(again)
            return None
        if self.pending:
            self._hand_over(deliver, self.pending.popleft())
            return None
        self.polls.append(deliver)
        return lambda: self._withdraw_poll(deliver)

    @property
    def restores(self) -> bool:
        return self._snapstart

    def restore_poll(self, answer: Callable[[], None]) -> Callable[[], None]:
        """``GET /restore/next``: init is over (``snapshot`` completes); ``answer`` waits for
        ``restore``. Raises ``InvalidTransition`` unless the runtime is initialising."""
        self.state.restore_next(now_ms())
        self._restore_answer = answer
        if not self.snapshot.done():
            self.snapshot.set_result(None)
        return self._withdraw_restore_poll

    def _withdraw_restore_poll(self) -> None:
        self._restore_answer = None

    def restore(self) -> bool:
        """Restore from the snapshot: answer the waiting ``/restore/next`` (200). Returns whether
        a poll was still waiting (``False``: the runtime hung up or never asked)."""
        answer, self._restore_answer = self._restore_answer, None
        if answer is None:
            return False
        self.state.restore(now_ms())
        answer()
        return True

    def post_restore_error(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        return self._phase_error(self.state.restore_error, self.restore_failed, body, headers)

    def _withdraw_poll(self, deliver: Deliver) -> None:
        with contextlib.suppress(ValueError):
            self.polls.remove(deliver)

    def _hand_over(self, deliver: Deliver, invocation: runtime_api.Invocation) -> None:
        self.state.deliver(invocation, now_ms())
        deliver(invocation)

    def _judge(self, route: Route, request_id: str, headers: Mapping[str, str]) -> Reply | str:
        event = _RESPONSE if route is _ROUTE_RESPONSE else _ERROR
        result = self.state.post(
            request_id, headers.get(runtime_api.HEADER_INVOCATION_ID), event, now_ms()
        )
        if result.verdict is _ACCEPTED:
            assert result.invocation_id is not None
            return result.invocation_id
        if result.verdict is Verdict.UNKNOWN_REQUEST_ID:
            return protocol.invalid_request_id()
        if result.verdict is Verdict.STALE_INVOCATION:
            return protocol.stale_invocation()
        if result.error is not None:
            return protocol.invalid_transition(result.error.from_state, result.error.to_state)
        assert result.invocation_id is not None
        return result.invocation_id

    def _finish(self, invocation_id: str, posted: Posted) -> None:
        future = self.results.get(invocation_id)
        if future is not None and not future.done():
            future.set_result(posted)

    def post_result(
        self, route: Route, request_id: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        judged = self._judge(route, request_id, headers)
        if isinstance(judged, Reply):
            return judged
        content_type = headers.get("Content-Type")
        if route is _ROUTE_RESPONSE:
            self._finish(judged, Posted(_FINISH_RESPONSE, body, content_type))
        else:
            body, content_type = protocol.error_body(body, content_type)
            error_type = protocol.sanitize_error_type(
                headers.get(runtime_api.HEADER_FUNCTION_ERROR_TYPE)
            )
            self._finish(judged, Posted(Finish.ERROR, body, content_type, error_type))
        return protocol.accepted()

    def post_stream(self, request_id: str, headers: Mapping[str, str]) -> Reply | ResponseStream:
        """A streamed ``/response`` begins: judged like any post; the stream finishes the
        invocation when it ends."""
        judged = self._judge(Route.RESPONSE, request_id, headers)
        if isinstance(judged, Reply):
            return judged
        # Loaded by the first streamed response: a runtime that never streams never loads it.
        from lambdarig.rie_server.runtime.streaming import ResponseStream

        content_type = headers.get("Content-Type") or runtime_api.CONTENT_TYPE_OCTET_STREAM
        stream = ResponseStream(content_type, lambda posted: self._finish(judged, posted))
        on_stream = self.on_stream.pop(judged, None)
        if on_stream is not None:
            on_stream(stream)
        else:  # an invoker that cannot stream: the whole response, buffered up to the stream cap
            stream.discard()
        return stream

    def post_too_large(self, route: Route, request_id: str, headers: Mapping[str, str]) -> Reply:
        judged = self._judge(route, request_id, headers)
        if isinstance(judged, Reply):
            return judged
        self._finish(judged, Posted(Finish.TOO_LARGE))
        return protocol.payload_too_large()

    def post_init_error(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        return self._phase_error(self.state.init_error, self.init_error, body, headers)

    def _phase_error(
        self,
        transition: Callable[[int], None],
        outcome: asyncio.Future[Posted],
        body: bytes,
        headers: Mapping[str, str],
    ) -> Reply:
        """``/init/error`` or ``/restore/error``: move the runtime's machine (403 when illegal)
        and complete ``outcome`` with the posted error."""
        try:
            transition(now_ms())
        except InvalidTransition as exc:
            return protocol.invalid_transition(exc.from_state, exc.to_state)
        error_type = protocol.sanitize_error_type(
            headers.get(runtime_api.HEADER_FUNCTION_ERROR_TYPE)
        )
        posted = Posted(Finish.INIT_ERROR, body, headers.get("Content-Type"), error_type)
        outcome.set_result(posted)
        return protocol.accepted()
