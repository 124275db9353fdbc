"""Exceptions raised by the test harness (``lambdarig.testing``).

::

    HarnessError                        base of everything this subpackage raises
    ├── HarnessConfigError              a fixture/marker argument or option is unusable
    │   └── MissingDependency           an optional package (boto3) or peer is not installed
    ├── EmulatorFailure                 the emulator misbehaved (blame: emulator, not your code)
    │   ├── EmulatorStartError          it exited or never became ready while starting
    │   │   └── UnsupportedEmulatorOption   it rejected a flag we passed (``--layer``/``--image``)
    │   └── EmulatorCrashed             it died or logged an error while a test was using it
    ├── InvokeError                     an invoke could not be completed at the HTTP level
    └── LeakError                       processes or ports started by the harness outlived it

A *function* error (the handler raised) is never an exception here: it is data on
``InvokeResult.function_error``, exactly as the Invoke API reports it.
"""

from __future__ import annotations

from collections.abc import Sequence


class HarnessError(Exception):
    """Base class for every error raised by ``lambdarig.testing``."""


class HarnessConfigError(HarnessError):
    """A fixture argument, marker argument or command-line option cannot be used as given."""


class MissingDependency(HarnessConfigError):
    """An optional dependency (boto3, awslambdaric's python) is needed but not installed."""


class EmulatorFailure(HarnessError):
    """The emulator process misbehaved; ``output`` holds its last stderr lines."""

    def __init__(self, message: str, output: Sequence[str] = ()) -> None:
        tail = "".join(f"\n    {line}" for line in output[-20:])
        super().__init__(message + (f"\n  emulator stderr (last lines):{tail}" if tail else ""))
        self.output = list(output)


class EmulatorStartError(EmulatorFailure):
    """The emulator exited, or did not become ready in time, while it was being started."""


class UnsupportedEmulatorOption(EmulatorStartError):
    """The emulator rejected a command-line flag the harness passed (e.g. ``--layer``)."""


class EmulatorCrashed(EmulatorFailure):
    """The emulator died or logged an internal error while a test was using it."""


class InvokeError(HarnessError):
    """An invoke failed below the Invoke API: connection refused/reset, or no answer in time."""


class LeakError(HarnessError):
    """Processes or ports started by the harness were still alive after it stopped them."""
