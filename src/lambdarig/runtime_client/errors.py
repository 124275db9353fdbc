"""Exceptions raised by the runtime client.

::

    RuntimeClientError                  base of everything this subpackage raises
    ├── ClientConfigError               bad or missing environment / argv (exit status 2)
    ├── RuntimeAPIError                 the Runtime API answered with an unexpected status
    │   └── StaleInvocationError        410 Gone: a late post for a timed-out invocation
    ├── RuntimeAPIUnreachable           the Runtime API could not be reached (connection-level)
    └── FaultError                      a Lambda-visible fault with an ``error_type``
        │                               (awslambdaric's FaultException); reported, never a crash
        └── HandlerLoadError            the handler could not be loaded during init
            ├── MalformedHandlerName    Runtime.MalformedHandlerName
            ├── BuiltInModuleConflict   Runtime.BuiltInModuleConflict
            ├── HandlerModuleNotFound   Runtime.ImportModuleError
            ├── HandlerSyntaxError      Runtime.UserCodeSyntaxError
            └── HandlerNotFound         Runtime.HandlerNotFound

Blame: ``RuntimeAPIError``/``RuntimeAPIUnreachable`` mean the platform (or emulator) misbehaved or
went away; ``FaultError`` means the function code did, and is turned into an error response.
"""

from __future__ import annotations

from lambdarig import runtime_api as wire


class RuntimeClientError(Exception):
    """Base class for every error raised by ``lambdarig.runtime_client``."""


class ClientConfigError(RuntimeClientError):
    """The environment or command line does not say what the runtime needs."""


class RuntimeAPIError(RuntimeClientError):
    """The Runtime API answered a request with an unexpected status.

    The message follows awslambdaric's ``LambdaRuntimeClientError``: ``Request to Lambda Runtime
    '<endpoint>' endpoint failed. Reason: '<status>'. Response body: '<body>'``.
    """

    def __init__(self, endpoint: str, status: int, body: bytes) -> None:
        self.endpoint = endpoint
        self.status = status
        self.body = body
        text = body.decode("utf-8", "replace")
        super().__init__(
            f"Request to Lambda Runtime '{endpoint}' endpoint failed. "
            f"Reason: '{status}'. Response body: '{text}'"
        )


class StaleInvocationError(RuntimeAPIError):
    """410 Gone: the platform no longer waits for this invocation (it timed out); carry on."""


class RuntimeAPIUnreachable(RuntimeClientError):
    """The Runtime API could not be reached or closed the connection mid-exchange."""


class FaultError(RuntimeClientError):
    """A fault Lambda reports with a specific ``errorType``, usually with an empty ``stackTrace``.

    ``stack_trace`` is a list of preformatted strings, as posted in the error JSON (only
    :class:`HandlerSyntaxError` carries one: the offending source line).
    """

    error_type: str = wire.RUNTIME_UNKNOWN

    def __init__(
        self, message: str, error_type: str | None = None, stack_trace: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if error_type is not None:
            self.error_type = error_type
        self.stack_trace: list[str] = stack_trace if stack_trace is not None else []


class HandlerLoadError(FaultError):
    """The handler named by ``_HANDLER``/argv could not be loaded (reported on ``/init/error``)."""


class MalformedHandlerName(HandlerLoadError):
    """The handler string has no ``.`` separating module and function."""

    error_type = wire.RUNTIME_MALFORMED_HANDLER_NAME


class BuiltInModuleConflict(HandlerLoadError):
    """The handler module's first component names a built-in module (e.g. ``sys``)."""

    error_type = wire.RUNTIME_BUILT_IN_MODULE_CONFLICT


class HandlerModuleNotFound(HandlerLoadError):
    """Importing the handler module raised ``ImportError``."""

    error_type = wire.RUNTIME_IMPORT_MODULE_ERROR


class HandlerSyntaxError(HandlerLoadError):
    """The handler module has a syntax error."""

    error_type = wire.RUNTIME_USER_CODE_SYNTAX_ERROR


class HandlerNotFound(HandlerLoadError):
    """The handler module has no attribute with the handler's function name."""

    error_type = wire.RUNTIME_HANDLER_NOT_FOUND
