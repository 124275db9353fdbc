"""SIGTERM ends the runtime with ``SystemExit`` (status 143), also when a callback swallowed it.

Python runs a signal handler between any two bytecodes of the main thread, also inside a weakref
callback or a ``__del__``, where an exception is only printed ("Exception ignored in ...") and
the code goes on. The import system's module-lock callback is one such place, so a SIGTERM that
arrives while a module is imported could be swallowed, and the runtime would then block on its
next ``/next`` for good. ``on_signal`` records the status before it raises; the loop calls
``check`` before each ``/next``, which raises again what was swallowed. One swallowed between
that check and the blocking read would still wait for the answer: that needs a callback to run
exactly there. No I/O.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (cold start)
if TYPE_CHECKING:
    from types import FrameType

_status: list[int] = []  # the exit status of the terminating signal, once one arrived


def on_signal(signum: int, frame: FrameType | None) -> None:
    """The SIGTERM handler: ``SystemExit(128 + signum)``, recorded first."""
    if not _status:
        _status.append(128 + signum)
    raise SystemExit(_status[0])


def check() -> None:
    """Raise ``SystemExit`` if a terminating signal arrived and its exception was swallowed."""
    if _status:
        raise SystemExit(_status[0])
