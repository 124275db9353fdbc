"""``lambdarig.rie_server``: a drop-in for aws-lambda-rie that answers like the Lambda service.

Public API: ``Emulator`` (``await start()`` / ``await stop()`` / ``invoke_url``), built from an
``EmulatorConfig`` (``EmulatorConfig.from_environ_and_args(environ, argv)``), and the exception
tree rooted at ``EmulatorError`` (see ``errors``). Command line: ``lambdarig-rie`` /
``python -m lambdarig.rie_server``.

The names are imported on first use (PEP 562): importing this package, or one of its modules,
loads no asyncio, so the command line can bind its sockets and spawn the runtime first.
"""

from __future__ import annotations

import importlib as _importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see cli)

if TYPE_CHECKING:
    from lambdarig.rie_server.config import EmulatorConfig
    from lambdarig.rie_server.emulator import Emulator
    from lambdarig.rie_server.errors import (
        ConfigError,
        EmulatorError,
        EnvironmentBusy,
        EnvironmentStopped,
        InvalidTransition,
        ProcessStartError,
        Throttled,
    )

_ERRORS = "lambdarig.rie_server.errors"
_LAZY = {
    "ConfigError": _ERRORS,
    "Emulator": "lambdarig.rie_server.emulator",
    "EmulatorConfig": "lambdarig.rie_server.config",
    "EmulatorError": _ERRORS,
    "EnvironmentBusy": _ERRORS,
    "EnvironmentStopped": _ERRORS,
    "InvalidTransition": _ERRORS,
    "ProcessStartError": _ERRORS,
    "Throttled": _ERRORS,
}

__all__ = [
    "ConfigError",
    "Emulator",
    "EmulatorConfig",
    "EmulatorError",
    "EnvironmentBusy",
    "EnvironmentStopped",
    "InvalidTransition",
    "ProcessStartError",
    "Throttled",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
