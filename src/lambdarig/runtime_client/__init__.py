"""lambdarig.runtime_client: a stdlib-only drop-in for AWS's ``awslambdaric``.

``python -m lambdarig.runtime_client app.handler`` (or the ``lambdarig-runtime`` script) loads the
handler and serves invocations from the Runtime API at ``$AWS_LAMBDA_RUNTIME_API``.

Importing this package imports only the standard library (and ``lambdarig.runtime_api``), and
nothing costly: it sits on the cold-start path.
"""

from __future__ import annotations

from lambdarig.runtime_client.cli import main
from lambdarig.runtime_client.client import RuntimeAPIClient
from lambdarig.runtime_client.config import RuntimeConfig
from lambdarig.runtime_client.errors import (
    BuiltInModuleConflict,
    ConfigError,
    FaultError,
    HandlerLoadError,
    HandlerModuleNotFound,
    HandlerNotFound,
    HandlerSyntaxError,
    MalformedHandlerName,
    RuntimeAPIError,
    RuntimeAPIUnreachable,
    RuntimeClientError,
    StaleInvocationError,
)
from lambdarig.runtime_client.loop import run
from lambdarig.runtime_client.transport import HttpResponse, SocketTransport, Transport

__all__ = [
    "BuiltInModuleConflict",
    "ConfigError",
    "FaultError",
    "HandlerLoadError",
    "HandlerModuleNotFound",
    "HandlerNotFound",
    "HandlerSyntaxError",
    "HttpResponse",
    "MalformedHandlerName",
    "RuntimeAPIClient",
    "RuntimeAPIError",
    "RuntimeAPIUnreachable",
    "RuntimeClientError",
    "RuntimeConfig",
    "SocketTransport",
    "StaleInvocationError",
    "Transport",
    "main",
    "run",
]
