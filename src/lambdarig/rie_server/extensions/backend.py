"""The asyncio side of one environment's Extensions API: long polls and the waits on them.

Every verdict comes from ``state.Registry`` and every reply from ``protocol``; this module keeps
the ``/event/next`` polls (a ``Deferred`` each: no task, no thread), hands queued events to them,
and wakes whoever waits for a condition (``wait_until``). One ``ExtensionsApi`` per runtime
generation: a new process gets a fresh registry, as on the service.

``lookup(identifier)`` is the small seam other APIs of the same socket use (the Telemetry and Logs
APIs accept only a registered extension's identifier).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Callable

from lambdarig import extensions_api as ext
from lambdarig.rie_server import ids
from lambdarig.rie_server.extensions import protocol
from lambdarig.rie_server.extensions.protocol import Reply, Route
from lambdarig.rie_server.extensions.state import (
    BadTransition,
    Event,
    Extension,
    Refusal,
    Registry,
)
from lambdarig.rie_server.http.server import Deferred, HttpReply, HttpRequest

_log = logging.getLogger(__name__)

_REFUSALS: dict[Refusal, Callable[[], Reply]] = {
    Refusal.CLOSED: protocol.registration_closed,
    Refusal.TOO_MANY: protocol.too_many,
    Refusal.DUPLICATE: protocol.already_registered,
    Refusal.INTERNAL_SHUTDOWN: protocol.internal_shutdown,
}


def _render(reply: Reply) -> HttpReply:
    return HttpReply(reply.status, reply.body, tuple(reply.headers.items()))


class ExtensionsApi:
    """The Extensions API of one runtime generation. ``info`` is the ``/register`` answer's
    ``functionName``/``functionVersion``/``handler``; ``account_id`` is added when asked for."""

    def __init__(self, launched: tuple[str, ...], info: Mapping[str, str], account_id: str) -> None:
        self.registry = Registry(launched)
        self._info = dict(info)
        self._account_id = account_id
        self._polls: dict[str, Deferred] = {}  # identifier -> its waiting /event/next
        self._waiters: list[asyncio.Future[None]] = []
        # told (name, events) of each extension that registers: the Telemetry API's
        # platform.extension event
        self.on_registered: Callable[[str, list[str]], None] | None = None

    # --- the seam for other APIs ----------------------------------------------------------------

    def lookup(self, identifier: str) -> Extension | None:
        """The registered extension whose ``Lambda-Extension-Identifier`` is ``identifier``
        (compared lower-case), or ``None``. For the Telemetry/Logs APIs' subscription checks."""
        return self.registry.get(identifier.lower())

    # --- HTTP -----------------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpReply | Deferred:
        """Answer one request under ``/2020-01-01/extension/``."""
        which = protocol.route(request.method, request.path)
        if which is Route.NOT_FOUND:
            return _render(protocol.not_found())
        if which is Route.METHOD_NOT_ALLOWED:
            return _render(protocol.method_not_allowed())
        if request.received > ext.MAX_BODY_SIZE:
            return _render(protocol.too_large())
        if which is Route.REGISTER:
            return _render(self._register(request))
        identifier = protocol.identifier(request.headers)
        if isinstance(identifier, Reply):
            return _render(identifier)
        extension = self.registry.get(identifier)
        if extension is None:
            return _render(protocol.unknown_identifier(identifier))
        if which is Route.EVENT_NEXT:
            return self._next(extension)
        return _render(self._report_error(extension, which is Route.INIT_ERROR, request))

    def _register(self, request: HttpRequest) -> Reply:
        parsed = protocol.parse_register(request.headers, request.body)
        if isinstance(parsed, Reply):
            return parsed
        result = self.registry.register(parsed.name, parsed.events, ids.uuid4())
        if isinstance(result, Refusal):
            return _REFUSALS[result]()
        self._changed()
        if self.on_registered is not None:
            self.on_registered(parsed.name, list(parsed.events))
        account = self._account_id if parsed.account_id_wanted else None
        info = protocol.register_info(
            self._info.get("functionName", ""),
            self._info.get("functionVersion", ""),
            self._info.get("handler", ""),
            account,
        )
        return protocol.registered(result.identifier, info)

    def _next(self, extension: Extension) -> HttpReply | Deferred:
        try:
            event = self.registry.next(extension)
        except BadTransition as exc:
            reply = protocol.invalid_transition(
                exc.from_state, exc.to_state, exc.extension.name, exc.error
            )
            return _render(reply)
        self._changed()
        if event is not None:
            return _render(protocol.event_reply(*event))
        answer = Deferred()
        previous = self._polls.get(extension.identifier)
        if previous is not None:  # a second poll replaces the first, which gets nothing
            previous.on_hangup = None
        self._polls[extension.identifier] = answer

        def hung_up() -> None:
            if self._polls.get(extension.identifier) is answer:
                del self._polls[extension.identifier]

        answer.on_hangup = hung_up
        return answer

    def _report_error(self, extension: Extension, init: bool, request: HttpRequest) -> Reply:
        error_type = protocol.error_type(request.headers)
        if isinstance(error_type, Reply):
            return error_type
        try:
            self.registry.report_error(extension, init, error_type)
        except BadTransition as exc:
            return protocol.invalid_transition(
                exc.from_state, exc.to_state, exc.extension.name, exc.error
            )
        self._changed()
        return protocol.accepted()

    # --- the platform's side --------------------------------------------------------------------

    def close_registration(self) -> None:
        """The runtime called ``/next`` for the first time."""
        self.registry.close_registration()

    def send(self, event_type: str, body: Event) -> list[Extension]:
        """Queue ``body`` for ``event_type``'s subscribers and hand it to those waiting now."""
        targets = self.registry.queue(event_type, ids.uuid4(), body)
        for extension in targets:
            self._hand_over(extension)
        self._changed()
        return targets

    def _hand_over(self, extension: Extension) -> None:
        poll = self._polls.get(extension.identifier)
        if poll is None:
            return
        event = self.registry.take(extension)
        if event is None:
            return
        del self._polls[extension.identifier]
        poll.on_hangup = None
        try:
            poll.resolve(_render(protocol.event_reply(*event)))
        except Exception:  # an emulator bug: logged, the extension's poll is answered 500
            _log.exception("Extensions API failed to hand an event to %s", extension.name)

    async def wait_until(self, condition: Callable[[], bool], deadline: float) -> bool:
        """Wait until ``condition()`` holds (checked on every change) or the monotonic
        ``deadline`` passes; returns whether it holds."""
        loop = asyncio.get_running_loop()
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait({waiter}, timeout=remaining)
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return True

    def wake(self) -> None:
        """Re-check every ``wait_until`` condition (something outside changed, e.g. an exit)."""
        self._changed()

    def _changed(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
