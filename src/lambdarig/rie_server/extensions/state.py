"""The extensions of one execution environment, as data (sans-IO; no clock, no I/O).

Theory
------
Each extension walks through RAPID's states::

    Launched --register--> Registered --/event/next--> Ready --event handed over--> Running
                               |                         ^                            |
                               |                         +-------/event/next----------+
                               +--init/error--> InitError      (any) --exit/error--> ExitError

External extensions are *launched* first (one per executable in ``/opt/extensions``, named after
the file) and register under that name; any other name registering while registration is open
is an *internal* extension (one the runtime process runs). Registration closes when the
runtime calls ``/next`` for the first time. At most ``MAX_EXTENSIONS`` in all.

Rules the environment asks about:

* init is complete for extensions when every registered one is ``Ready`` (waiting in
  ``/event/next``) and every launched one has registered;
* an invoke is complete for extensions when every ``INVOKE`` subscriber has taken the invoke's
  event and called ``/event/next`` again (``Ready`` with an empty queue).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lambdarig import extensions_api as ext

Event = Mapping[str, object]


class State(enum.Enum):
    """Extension states; values are RAPID's names (they appear in 403 bodies)."""

    LAUNCHED = "Launched"
    REGISTERED = "Registered"
    READY = "Ready"
    RUNNING = "Running"
    INIT_ERROR = "InitError"
    EXIT_ERROR = "ExitError"


class Refusal(enum.Enum):
    """Why a registration was refused."""

    CLOSED = "closed"
    TOO_MANY = "too_many"
    DUPLICATE = "duplicate"
    INTERNAL_SHUTDOWN = "internal_shutdown"


@dataclass
class Extension:
    """One extension: who it is, what it subscribed to, where it is, and its queued events."""

    name: str
    external: bool
    identifier: str = ""
    events: tuple[str, ...] = ()
    state: State = State.LAUNCHED
    queue: deque[tuple[str, Event]] = field(default_factory=deque)  # (event id, body)
    error_type: str | None = None

    @property
    def registered(self) -> bool:
        return self.state is not State.LAUNCHED

    def subscribed(self, event_type: str) -> bool:
        return event_type in self.events


class BadTransition(Exception):
    """A call the extension's state forbids; fields give RAPID's 403 message."""

    def __init__(self, extension: Extension, to_state: State, error: str) -> None:
        super().__init__(f"{extension.name}: {extension.state.value} -> {to_state.value}")
        self.extension = extension
        self.from_state = extension.state.value
        self.to_state = to_state.value
        self.error = error


class Registry:
    """The extensions of one runtime generation. ``launched`` are the external extensions'
    names (file names); the caller makes identifiers (``register`` takes one)."""

    def __init__(self, launched: Iterable[str] = ()) -> None:
        self._by_name: dict[str, Extension] = {
            name: Extension(name, external=True) for name in launched
        }
        self._by_id: dict[str, Extension] = {}
        self.registration_closed = False

    # --- questions ----------------------------------------------------------------------------

    def get(self, identifier: str) -> Extension | None:
        """The registered extension with ``identifier``, or ``None``."""
        return self._by_id.get(identifier)

    @property
    def extensions(self) -> list[Extension]:
        return list(self._by_name.values())

    @property
    def registered(self) -> list[Extension]:
        return list(self._by_id.values())

    @property
    def any_registered(self) -> bool:
        """Some extension registered (``bool(registered)`` without the list: asked per invoke)."""
        return bool(self._by_id)

    @property
    def has_external(self) -> bool:
        return any(e.external and e.registered for e in self._by_name.values())

    @property
    def has_internal(self) -> bool:
        return any(not e.external for e in self._by_id.values())

    def all_registered(self) -> bool:
        """Every launched (external) extension has registered."""
        return all(e.registered for e in self._by_name.values() if e.external)

    def init_done(self) -> bool:
        """Every launched extension registered, every registered one waits in ``/event/next``."""
        return self.all_registered() and all(
            e.state is State.READY and not e.queue for e in self._by_id.values()
        )

    def failed(self) -> Extension | None:
        """An extension that reported ``init/error`` or ``exit/error``, if any."""
        for extension in self._by_id.values():
            if extension.state in (State.INIT_ERROR, State.EXIT_ERROR):
                return extension
        return None

    def subscribers(self, event_type: str) -> list[Extension]:
        return [e for e in self._by_id.values() if e.subscribed(event_type)]

    def invoke_done(self) -> bool:
        """Every ``INVOKE`` subscriber took its events and called ``/event/next`` again."""
        return all(
            e.state is State.READY and not e.queue
            for e in self.subscribers(ext.EVENT_INVOKE)
            if e.state is not State.EXIT_ERROR
        )

    # --- moves --------------------------------------------------------------------------------

    def register(self, name: str, events: tuple[str, ...], identifier: str) -> Extension | Refusal:
        """Register ``name`` (external if it was launched, else internal)."""
        if self.registration_closed:
            return Refusal.CLOSED
        extension = self._by_name.get(name)
        if extension is not None and extension.registered:
            return Refusal.DUPLICATE
        if extension is None:
            if len(self._by_name) >= ext.MAX_EXTENSIONS:
                return Refusal.TOO_MANY
            if ext.EVENT_SHUTDOWN in events:
                return Refusal.INTERNAL_SHUTDOWN
            extension = self._by_name[name] = Extension(name, external=False)
        extension.identifier, extension.events = identifier, events
        extension.state = State.REGISTERED
        self._by_id[identifier] = extension
        return extension

    def next(self, extension: Extension) -> tuple[str, Event] | None:
        """An ``/event/next``: done with the previous event. Returns the next queued event (the
        extension is then ``Running``) or ``None`` (it waits, ``Ready``)."""
        if extension.state in (State.INIT_ERROR, State.EXIT_ERROR):
            raise BadTransition(extension, State.READY, "extension reported an error")
        extension.state = State.READY
        return self.take(extension)

    def take(self, extension: Extension) -> tuple[str, Event] | None:
        """Hand the extension's next queued event over (``Ready`` -> ``Running``), if any."""
        if extension.state is not State.READY or not extension.queue:
            return None
        extension.state = State.RUNNING
        return extension.queue.popleft()

    def queue(self, event_type: str, event_id: str, body: Event) -> list[Extension]:
        """Queue ``body`` for every subscriber of ``event_type``; returns them."""
        targets = [e for e in self.subscribers(event_type) if e.state is not State.EXIT_ERROR]
        for extension in targets:
            extension.queue.append((event_id, body))
        return targets

    def report_error(self, extension: Extension, init: bool, error_type: str) -> None:
        """``init/error`` (only before init is over) or ``exit/error``."""
        target = State.INIT_ERROR if init else State.EXIT_ERROR
        if init and self.registration_closed and extension.state is not State.REGISTERED:
            raise BadTransition(extension, target, "init is over")
        if extension.state in (State.INIT_ERROR, State.EXIT_ERROR):
            raise BadTransition(extension, target, "an error was reported already")
        extension.state, extension.error_type = target, error_type
        extension.queue.clear()

    def close_registration(self) -> None:
        self.registration_closed = True
