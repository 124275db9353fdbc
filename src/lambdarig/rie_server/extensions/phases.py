"""When an invoke is over for the extensions, and how a generation's processes end.

* The end of an invoke: the caller has its answer as soon as the runtime posted it, but the invoke
  lasts until every ``INVOKE`` subscriber called ``/event/next`` again; that time counts into
  REPORT's Duration (``platform.runtimeDone`` keeps the runtime's share). An extension still busy
  at the invoke's deadline times the invoke out; one that exits makes it an ``Extension.Crash``;
  both reset the environment.
* The shutdown phase (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
  "Shutdown phase"): SIGTERM to the runtime, which has 300 ms (500 ms when it hosts an internal
  extension) before its SIGKILL; then ``SHUTDOWN`` to the external extensions for the rest of the
  2 s (500 ms in all with internal extensions only); SIGKILL to whatever is left.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable
from typing import Callable

from lambdarig import extensions_api as ext
from lambdarig import runtime_api
from lambdarig.rie_server.environments.outcomes import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.environments.supervisor import RuntimeProcess
from lambdarig.rie_server.extensions.host import ExtensionHost

_KILL_WAIT_S = 5.0


class Settling:
    """The extensions' end of one invoke whose runtime answered with ``outcome``. ``report``
    resolves (always, also when the environment stops meanwhile) to the outcome REPORT tells;
    ``task`` ends after the reset, if one was needed. ``reset(reason)`` ends the generation."""

    def __init__(
        self,
        host: ExtensionHost,
        outcome: InvokeOutcome,
        request_id: str,
        deadline: float,
        timeout_message: str,
        reset: Callable[[str], Awaitable[None]],
    ) -> None:
        self._host, self._outcome, self._request_id = host, outcome, request_id
        self._responded = time.monotonic()
        self._timeout_message = timeout_message
        self.report: asyncio.Future[InvokeOutcome] = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(self._run(deadline, reset))
        self.task.add_done_callback(self._ended)  # cancelled before it ran: REPORT still comes

    def _ended(self, _: object) -> None:
        if not self.report.done():
            self.report.set_result(self._final(None))

    async def _run(self, deadline: float, reset: Callable[[str], Awaitable[None]]) -> None:
        reason: str | None = None
        try:
            if not await self._host.settled(deadline):
                crashed = self._host.crashed.done()
                reason = ext.SHUTDOWN_FAILURE if crashed else ext.SHUTDOWN_TIMEOUT
        finally:
            if not self.report.done():
                self.report.set_result(self._final(reason))
        if reason is not None:
            await reset(reason)

    def _final(self, reason: str | None) -> InvokeOutcome:
        outcome = self._outcome
        overhead = (time.monotonic() - self._responded) * 1000
        final = dataclasses.replace(
            outcome,
            duration_ms=outcome.duration_ms + overhead,
            runtime_duration_ms=outcome.duration_ms,
            settled=None,
        )
        if reason == ext.SHUTDOWN_FAILURE:
            message = self._host.crash_message(self._request_id)
            return dataclasses.replace(
                final, kind=OutcomeKind.CRASH, error_type=ext.EXTENSION_CRASH, error_message=message
            )
        if reason == ext.SHUTDOWN_TIMEOUT:
            return dataclasses.replace(
                final,
                kind=OutcomeKind.TIMEOUT,
                error_type=runtime_api.SANDBOX_TIMEDOUT,
                error_message=self._timeout_message,
            )
        return final


async def shutdown_phase(
    host: ExtensionHost, process: RuntimeProcess, exited: asyncio.Future[int], reason: str
) -> None:
    """Run the shutdown phase of a generation that has registered extensions (see the module
    docstring for the order and the deadlines)."""
    budget = host.shutdown_budget() or 0.0
    started = time.monotonic()
    if not exited.done():
        process.terminate()
        await asyncio.wait({exited}, timeout=min(host.runtime_budget(), budget))
    process.kill()  # also reaches group members that outlived the leader
    await asyncio.wait({exited}, timeout=_KILL_WAIT_S)
    rest = budget - (time.monotonic() - started) if host.api.registry.has_external else 0.0
    await host.shutdown(reason, max(0.0, rest))
