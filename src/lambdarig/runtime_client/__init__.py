"""lambdarig.runtime_client: a stdlib-only drop-in for AWS's ``awslambdaric``.

``python -m lambdarig.runtime_client app.handler`` (or the ``lambdarig-runtime`` script) loads the
handler and serves invocations from the Runtime API at ``$AWS_LAMBDA_RUNTIME_API``.

The names are imported on first use (PEP 562): importing this package, or one of its modules,
loads only what that module needs (so :mod:`lambdarig.runtime_client.protocol` stays sans-IO), and
nothing costly: it sits on the cold-start path.

A handler that returns a generator, an async generator or a file-like object streams its response
(see :mod:`lambdarig.runtime_client.streaming`); :class:`StreamingResponse` picks the content type
and :func:`http_response_stream` frames a streamed Function URL response.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (cold start)
if TYPE_CHECKING:
    from lambdarig.runtime_client.cli import main
    from lambdarig.runtime_client.client import RuntimeAPIClient
    from lambdarig.runtime_client.config import RuntimeConfig
    from lambdarig.runtime_client.context import LambdaContext
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

_ERRORS = "lambdarig.runtime_client.errors"
_STREAMING = "lambdarig.runtime_client.streaming"
_TRANSPORT = "lambdarig.runtime_client.transport"
_LAZY = {
    "BuiltInModuleConflict": _ERRORS,
    "ClientConfigError": _ERRORS,
    "FaultError": _ERRORS,
    "HandlerLoadError": _ERRORS,
    "HandlerModuleNotFound": _ERRORS,
    "HandlerNotFound": _ERRORS,
    "HandlerSyntaxError": _ERRORS,
    "HttpResponse": _TRANSPORT,
    "LambdaContext": "lambdarig.runtime_client.context",
    "MalformedHandlerName": _ERRORS,
    "RuntimeAPIClient": "lambdarig.runtime_client.client",
    "RuntimeAPIError": _ERRORS,
    "RuntimeAPIUnreachable": _ERRORS,
    "RuntimeClientError": _ERRORS,
    "RuntimeConfig": "lambdarig.runtime_client.config",
    "SocketTransport": _TRANSPORT,
    "StaleInvocationError": _ERRORS,
    "StreamingResponse": _STREAMING,
    "Transport": _TRANSPORT,
    "http_response_stream": _STREAMING,
    "main": "lambdarig.runtime_client.cli",
    "run": "lambdarig.runtime_client.loop",
}

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


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(__import__(module, None, None, [name]), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
