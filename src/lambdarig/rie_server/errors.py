"""Exceptions raised by ``lambdarig.rie_server``.

One tree; each class says whose fault it is::

    EmulatorError           base: anything the emulator raises on purpose
    ├── InvalidTransition   a Runtime API step the runtime's state forbids (runtime's fault, 403)
    ├── EnvironmentBusy     invoke() with every concurrency slot in use (caller's fault)
    ├── EnvironmentStopped  invoke()/start() after stop() (caller's fault)
    ├── ProcessStartError   the bootstrap could not be spawned (configuration's fault)
    ├── ListenError         an API address cannot be listened on: in use, not local (user's fault)
    ├── ConfigError         a bad flag, env var or command at emulator start-up (user's fault)
    │   └── LayerError      a --layer is unusable, too large or has an entry escaping /opt
    ├── LayoutCancelled     laying out --layer was cancelled because the emulator is stopping
    └── Throttled           every environment busy at --max-concurrency (caller's fault, 429)

Function and runtime failures (errors, crashes, timeouts, out-of-memory) are never raised: they are
reported as ``environment.InvokeOutcome`` values, because they are the function's result.
"""

from __future__ import annotations


class EmulatorError(Exception):
    """Base class for every exception raised on purpose by ``lambdarig.rie_server``."""


class InvalidTransition(EmulatorError):
    """The runtime attempted a transition its current state does not allow (answered with 403)."""

    def __init__(self, from_state: str, to_state: str) -> None:
        super().__init__(
            f"expected a transition allowed from state {from_state}, got one to {to_state}"
        )
        self.from_state = from_state
        self.to_state = to_state


class EnvironmentBusy(EmulatorError):
    """``Environment.invoke`` was called while all ``max_concurrency`` slots were in flight."""


class EnvironmentStopped(EmulatorError):
    """``Environment.start``/``invoke`` was called after ``stop()``."""


class ProcessStartError(EmulatorError):
    """The runtime's bootstrap could not be executed (missing file, not executable, bad cwd)."""


class ListenError(EmulatorError, OSError):
    """The Invoke API, a Runtime API or an HTTP front address cannot be bound (in use, not a local
    address, a privileged port). ``api`` is ``"invoke"``, ``"runtime"`` or ``"front"`` (``lambdarig
    serve --http``'s own port), so a command line can name the flag that changes it. Also an
    ``OSError`` (with the cause's ``errno``), as binding errors are."""

    def __init__(self, api: str, host: str, port: int, cause: OSError) -> None:
        # asyncio words it "error while attempting to bind on address (...): address already in
        # use"; the part after the last colon is the reason.
        reason = (cause.strerror or str(cause)).rsplit(": ", 1)[-1]
        super().__init__(f"expected to listen on {host}:{port}, got: {reason}")
        self.errno = cause.errno
        self.api = api
        self.host = host
        self.port = port
        self.reason = reason


# --- Added by the emulator front (config, pool, Invoke API) ---------------------------------------


class ConfigError(EmulatorError):
    """A flag, environment variable or command given to the emulator is invalid (user's fault).

    Raised at start-up, before anything listens; the CLI prints it as one line and exits 2.
    """


class Throttled(EmulatorError):
    """Every execution environment is busy at ``--max-concurrency`` (answered with 429)."""


# --- Added for layers (environments/layers.py) ----------------------------------------------------


class LayerError(ConfigError):
    """A ``--layer`` is missing, not a zip or directory, larger than Lambda allows (250 MB
    unzipped, too many entries), or has an entry escaping ``/opt`` (``../``, an absolute path, a
    link): refused before anything runs (user's fault)."""


class LayoutCancelled(EmulatorError):
    """Laying out the layers stopped half-way because the emulator is stopping (nobody's fault;
    the partial directory is removed)."""
