"""The delivery of one invocation to an environment's current process (its *generation*) and how
it ended: the response or error the runtime posted, its crash, an extension's crash or the
timeout; with extensions, the settling after the response (``extensions.phases.Settling``).

``Delivery`` owns that settling; the ``Environment`` owns the processes and ends them (``reset``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import TYPE_CHECKING, Callable, Protocol

from lambdarig import extensions_api as ext_api
from lambdarig import runtime_api
from lambdarig.rie_server.environments.outcomes import (
    EnvironmentSpec,
    InvokeOutcome,
    OutcomeKind,
    Posted,
    crashed,
    failure,
    from_posted,
)
from lambdarig.rie_server.environments.supervisor import RuntimeProcess
from lambdarig.rie_server.runtime import protocol
from lambdarig.rie_server.runtime.generation import Generation, OnStream

if TYPE_CHECKING:  # a host exists only when extensions may (``extensions.on_demand``)
    from lambdarig.rie_server.extensions import host as extensions


class Reset(Protocol):
    """``Environment._reset``: end the current generation for ``reason`` (an invocation failed
    it); with ``host``, only while that is still the current generation's."""

    async def __call__(self, reason: str, host: extensions.ExtensionHost | None = None) -> None: ...


class Delivery:
    """Delivers the invocations of one environment (``deliver``). ``settling``: the extensions
    still finishing the previous invoke (one invoke at a time only); the next one waits for it."""

    def __init__(self, spec: EnvironmentSpec, reset: Reset) -> None:
        self._spec = spec
        self._reset = reset
        self.settling: asyncio.Future[None] | None = None  # extensions finishing an invoke
        self._deadlines = _Deadlines()

    async def deliver(
        self,
        generation: Generation,
        process: RuntimeProcess,
        exited: asyncio.Future[int],
        host: extensions.ExtensionHost | None,
        invocation: runtime_api.Invocation,
        deadline: float,
        init_ms: float | None,
        may_retry: bool,
        on_stream: OnStream | None = None,
    ) -> InvokeOutcome | None:
        """Hand ``invocation`` to the runtime and wait for its end; ``None`` = the runtime was
        already gone before taking it (retry after a re-init)."""
        started = time.monotonic()
        posted, delivered = await _hand_over(
            generation, exited, host, invocation, deadline, on_stream, self._deadlines
        )
        duration_ms = (time.monotonic() - started) * 1000
        request_id = invocation.request_id
        if posted is not None:
            await process.flush_output()  # what the function printed before returning precedes END
            outcome = from_posted(posted, duration_ms, init_ms, process.peak_memory_mb())
            if host is not None and host.active and self._spec.max_concurrency == 1:
                outcome = self._settle(host, outcome, request_id, deadline)
            return outcome
        if exited.done():
            if may_retry and not delivered:
                return None
            crash = crashed(OutcomeKind.CRASH, request_id, process, exited, duration_ms)
            if host is not None and host.active:
                await self._reset(ext_api.SHUTDOWN_FAILURE)
            return dataclasses.replace(crash, init_duration_ms=init_ms)
        return await self._unanswered(generation, process, host, invocation, duration_ms, init_ms)

    async def _unanswered(
        self,
        generation: Generation,
        process: RuntimeProcess,
        host: extensions.ExtensionHost | None,
        invocation: runtime_api.Invocation,
        duration_ms: float,
        init_ms: float | None,
    ) -> InvokeOutcome:
        """The runtime neither posted nor exited: an extension exited mid-invoke, or the invoke
        timed out."""
        request_id = invocation.request_id
        memory = process.peak_memory_mb()
        if host is not None and host.crashed.done():  # an extension exited mid-invoke
            await self._reset(ext_api.SHUTDOWN_FAILURE)
            message = host.crash_message(request_id)
            return failure(
                OutcomeKind.CRASH,
                ext_api.EXTENSION_CRASH,
                message,
                duration_ms=duration_ms,
                init_ms=init_ms,
                memory=memory,
            )
        if self._spec.max_concurrency > 1:
            # Managed Instances: the other invocations in this environment carry on; the
            # timed-out one's late post is answered 410 (RAPID-LMI's Runtime.InvokeTimeout).
            generation.expire(invocation)
        else:
            await self._reset(ext_api.SHUTDOWN_TIMEOUT)
        message = protocol.timeout_message(request_id, self._spec.timeout_s)
        return failure(
            OutcomeKind.TIMEOUT,
            runtime_api.SANDBOX_TIMEDOUT,
            message,
            duration_ms=duration_ms,
            init_ms=init_ms,
            memory=memory,
        )

    def _settle(
        self,
        host: extensions.ExtensionHost,
        outcome: InvokeOutcome,
        request_id: str,
        deadline: float,
    ) -> InvokeOutcome:
        """The caller has its response; the environment stays busy until every ``INVOKE``
        subscriber called ``/event/next`` again, and REPORT waits for that (``outcome.settled``).
        Past the invoke's deadline (or when an extension exits) the environment is reset."""

        from lambdarig.rie_server.extensions.phases import Settling  # only with extensions

        async def reset(reason: str) -> None:
            await self._reset(reason, host)

        message = protocol.timeout_message(request_id, self._spec.timeout_s)
        settling = Settling(host, outcome, request_id, deadline, message, reset)
        task = self.settling = settling.task

        def settled(_: object) -> None:
            if self.settling is task:
                self.settling = None

        task.add_done_callback(settled)
        return dataclasses.replace(outcome, settled=settling.report)


async def _hand_over(
    generation: Generation,
    exited: asyncio.Future[int],
    host: extensions.ExtensionHost | None,
    invocation: runtime_api.Invocation,
    deadline: float,
    on_stream: OnStream | None,
    deadlines: _Deadlines,
) -> tuple[Posted | None, bool]:
    """Submit ``invocation`` (and tell the ``INVOKE`` subscribers), then wait until the runtime
    posts its end, exits, an extension exits or ``deadline`` passes. Returns what was posted
    (``None`` for the others) and whether a ``/next`` ever handed the invocation over."""
    if host is not None and host.active:
        host.invoke(
            invocation.request_id,
            invocation.deadline_ms,
            invocation.invoked_function_arn,
            invocation.trace_id,
        )
    result = generation.submit(invocation, on_stream)
    # The hot path: the post, the process's exit and the deadline all complete ``result``
    # itself (``None`` for the last two), so the invoke wakes one loop iteration after the
    # post, with no extra task, waiter or timer of its own (``_Deadlines``).
    wake = _completer(result)
    deadlines.add(result, deadline)
    exited.add_done_callback(wake)
    if host is not None:
        host.crashed.add_done_callback(wake)
    try:
        posted = await result
    finally:
        deadlines.discard(result)
        exited.remove_done_callback(wake)
        if host is not None:
            host.crashed.remove_done_callback(wake)
        delivered = generation.withdraw(invocation)
    return posted, delivered


def _completer(result: asyncio.Future[Posted | None]) -> Callable[..., None]:
    """A callback that ends the wait on ``result`` with ``None`` (if nothing else ended it)."""

    def wake(*_: object) -> None:
        if not result.done():
            result.set_result(None)

    return wake


class _Deadlines:
    """Ends the waits of an environment's invocations at their deadlines (``None`` results) with
    one timer, re-armed lazily as ``http.connection`` does: a new deadline arms it only if it
    would fire too late, an ended invocation leaves it armed, and when it fires it ends the
    waits that are due and re-arms for the earliest one left. Sequential invokes then share one
    timer per timeout instead of scheduling and cancelling one each."""

    __slots__ = ("_due", "_timer")

    def __init__(self) -> None:
        self._due: dict[asyncio.Future[Posted | None], float] = {}
        self._timer: asyncio.TimerHandle | None = None

    def add(self, result: asyncio.Future[Posted | None], deadline: float) -> None:
        self._due[result] = deadline
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            # no get_running_loop(): a getpid()
            self._timer = result.get_loop().call_at(deadline, self._fire, deadline)

    def discard(self, result: asyncio.Future[Posted | None]) -> None:
        self._due.pop(result, None)

    def _fire(self, armed: float) -> None:
        """The timer armed for ``armed`` ran: what is due by then (or by now) ends."""
        self._timer = None
        if not self._due:
            return
        loop = next(iter(self._due)).get_loop()
        now = max(armed, loop.time())
        for result, deadline in list(self._due.items()):
            if deadline <= now:
                del self._due[result]
                if not result.done():
                    result.set_result(None)
        if self._due:
            earliest = min(self._due.values())
            self._timer = loop.call_at(earliest, self._fire, earliest)
