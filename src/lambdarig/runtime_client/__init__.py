"""lambdarig.runtime_client: a stdlib-only drop-in for AWS's ``awslambdaric``.

``python -m lambdarig.runtime_client app.handler`` (or the ``lambdarig-runtime`` script) loads the
handler and serves invocations from the Runtime API at ``$AWS_LAMBDA_RUNTIME_API``.

Importing this package imports only the standard library (and ``lambdarig.runtime_api``), and
nothing costly: it sits on the cold-start path.

A handler that returns a generator, an async generator or a file-like object streams its response
(see :mod:`lambdarig.runtime_client.streaming`); :class:`StreamingResponse` picks the content type
and :func:`http_response_stream` frames a streamed Function URL response.
"""

from __future__ import annotations

from lambdarig.runtime_client.cli import main
from lambdarig.runtime_client.client import RuntimeAPIClient
from lambdarig.runtime_client.config import RuntimeConfig
from lambdarig.runtime_client.errors import (
    BuiltInModuleConflict,
    ClientConfigError,
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
from lambdarig.runtime_client.streaming import StreamingResponse, http_response_stream
from lambdarig.runtime_client.transport import HttpResponse, SocketTransport, Transport

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdarig.runtime_client.context import LambdaContext


def __getattr__(name: str) -> object:
    # LambdaContext is loaded on first use: its module imports logging and json, which
    # ``import lambdarig.runtime_client`` must not pay for.
    if name == "LambdaContext":
        from lambdarig.runtime_client.context import LambdaContext

        return LambdaContext
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BuiltInModuleConflict",
    "ClientConfigError",
    "FaultError",
    "HandlerLoadError",
    "HandlerModuleNotFound",
    "HandlerNotFound",
    "HandlerSyntaxError",
    "HttpResponse",
    "LambdaContext",
    "MalformedHandlerName",
    "RuntimeAPIClient",
    "RuntimeAPIError",
    "RuntimeAPIUnreachable",
    "RuntimeClientError",
    "RuntimeConfig",
    "SocketTransport",
    "StaleInvocationError",
    "StreamingResponse",
    "Transport",
    "http_response_stream",
    "main",
    "run",
]
