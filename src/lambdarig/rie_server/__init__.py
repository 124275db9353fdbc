"""``lambdarig.rie_server``: a drop-in for aws-lambda-rie that answers like the Lambda service.

Public API: ``Emulator`` (``await start()`` / ``await stop()`` / ``invoke_url``), built from an
``EmulatorConfig`` (``EmulatorConfig.from_environ_and_args(environ, argv)``), and the exception
tree rooted at ``EmulatorError`` (see ``errors``). Command line: ``lambdarig-rie`` /
``python -m lambdarig.rie_server``.
"""

from __future__ import annotations

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
