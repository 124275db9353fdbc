"""The AWS Lambda Runtime API on the wire: every path, header, content type and limit.

This module is the single place where Runtime API wire strings are spelled. It is role-agnostic
(it does not know whether it serves the runtime client or the emulator), does no I/O, and imports
only the standard library, because it ships inside the runtime-client layer.

Spec: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from collections.abc import Mapping

API_VERSION = "2018-06-01"

# --- Paths (relative to ``http://$AWS_LAMBDA_RUNTIME_API``) --------------------------------------
PREFIX = "/" + API_VERSION
PATH_NEXT = PREFIX + "/runtime/invocation/next"
PATH_RESPONSE = PREFIX + "/runtime/invocation/{request_id}/response"
PATH_ERROR = PREFIX + "/runtime/invocation/{request_id}/error"
PATH_INIT_ERROR = PREFIX + "/runtime/init/error"
PATH_RESTORE_NEXT = PREFIX + "/runtime/restore/next"
PATH_RESTORE_ERROR = PREFIX + "/runtime/restore/error"
PATH_PING = PREFIX + "/ping"
PATH_LOGS = "/2020-08-15/logs"
PATH_TELEMETRY = "/2022-07-01/telemetry"
PATH_EXTENSION_PREFIX = "/2020-01-01/extension"
# aws-lambda-rie --enable-init-caching: the function's credentials, for the token below
PATH_CREDENTIALS = "/2021-04-23/credentials"
ENV_CREDENTIALS_FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
ENV_AUTHORIZATION_TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"

# --- Variables an execution environment sets for its runtime, besides the function's own ------
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
ENV_RUNTIME_API = "AWS_LAMBDA_RUNTIME_API"  # host:port of this API
ENV_INITIALIZATION_TYPE = "AWS_LAMBDA_INITIALIZATION_TYPE"
INIT_ON_DEMAND = "on-demand"
INIT_PROVISIONED = "provisioned-concurrency"
INIT_MANAGED = "lambda-managed-instances"
INIT_SNAPSTART = "snap-start"

# --- Headers: platform -> runtime (on the /next response) ----------------------------------------
HEADER_REQUEST_ID = "Lambda-Runtime-Aws-Request-Id"
HEADER_DEADLINE_MS = "Lambda-Runtime-Deadline-Ms"
HEADER_FUNCTION_ARN = "Lambda-Runtime-Invoked-Function-Arn"
HEADER_TRACE_ID = "Lambda-Runtime-Trace-Id"
HEADER_CLIENT_CONTEXT = "Lambda-Runtime-Client-Context"
HEADER_COGNITO_IDENTITY = "Lambda-Runtime-Cognito-Identity"
HEADER_TENANT_ID = "Lambda-Runtime-Aws-Tenant-Id"
# Per-invoke nonce (2026); the runtime echoes it on /response and /error. A stale post gets 410.
HEADER_INVOCATION_ID = "Lambda-Runtime-Invocation-Id"
# The same names lower-cased, as ``Invocation.from_headers`` looks them up.
_LOWER_REQUEST_ID = HEADER_REQUEST_ID.lower()
_LOWER_DEADLINE_MS = HEADER_DEADLINE_MS.lower()
_LOWER_FUNCTION_ARN = HEADER_FUNCTION_ARN.lower()
_LOWER_TRACE_ID = HEADER_TRACE_ID.lower()
_LOWER_CLIENT_CONTEXT = HEADER_CLIENT_CONTEXT.lower()
_LOWER_COGNITO_IDENTITY = HEADER_COGNITO_IDENTITY.lower()
_LOWER_TENANT_ID = HEADER_TENANT_ID.lower()
_LOWER_INVOCATION_ID = HEADER_INVOCATION_ID.lower()

# --- Headers: runtime -> platform ----------------------------------------------------------------
HEADER_FUNCTION_ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
HEADER_XRAY_ERROR_CAUSE = "Lambda-Runtime-Function-XRay-Error-Cause"
HEADER_RESPONSE_MODE = "Lambda-Runtime-Function-Response-Mode"
HEADER_FUNCTION_ERROR_BODY = "Lambda-Runtime-Function-Error-Body"
RESPONSE_MODE_STREAMING = "streaming"
# A streamed /response declares both error trailers up front (``Trailer:``) and sends them after
# the last chunk only when the function failed mid-stream; the body trailer is base64 error JSON.
# https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming
STREAMING_TRAILERS = (HEADER_FUNCTION_ERROR_TYPE, HEADER_FUNCTION_ERROR_BODY)

# --- Content types -------------------------------------------------------------------------------
CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_UNKNOWN = "application/unknown"  # awslambdaric's type for ``bytes`` results
CONTENT_TYPE_OCTET_STREAM = "application/octet-stream"
CONTENT_TYPE_ERROR_CAUSE = "application/vnd.aws.lambda.error.cause+json"
# Streamed Function URL responses: a JSON prelude {"statusCode", "headers", "cookies"}, then
# HTTP_INTEGRATION_DELIMITER, then the body bytes.
CONTENT_TYPE_HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"
HTTP_INTEGRATION_DELIMITER = b"\x00" * 8

# --- Limits --------------------------------------------------------------------------------------
# RAPID's MaxPayloadSize: 6 MiB + 100 bytes, enforced on /response and /error bodies.
MAX_PAYLOAD_SIZE = 6 * 1024 * 1024 + 100
# Clients skip the X-Ray cause header at or above this size.
MAX_XRAY_CAUSE_SIZE = 1024 * 1024

# --- Runtime API responses (emulator -> runtime) -------------------------------------------------
STATUS_OK_BODY = b'{"status":"OK"}\n'
ERROR_INVALID_REQUEST_ID = "InvalidRequestID"
MESSAGE_INVALID_REQUEST_ID = "Invalid request ID"
ERROR_INVALID_STATE_TRANSITION = "InvalidStateTransition"
MESSAGE_STATE_TRANSITION = (
    "State transition from {from_state} to {to_state} failed for runtime. "
    "Error: State transition is not allowed"
)
ERROR_PAYLOAD_TOO_LARGE = "RequestEntityTooLarge"
MESSAGE_PAYLOAD_TOO_LARGE = "Exceeded maximum allowed payload size ({limit} bytes)."
ERROR_TRUNCATED = "TruncatedHTTPRequest"
MESSAGE_TRUNCATED = "HTTP request detected as truncated"
ERROR_INVALID_RESPONSE_MODE = "InvalidFunctionResponseMode"
MESSAGE_INVALID_RESPONSE_MODE = "Invalid function response mode"
ERROR_INTERNAL = "InternalServerError"
MESSAGE_INTERNAL = "Internal Server Error"
ERROR_INVOKE_TIMEOUT = "InvokeTimeout"
MESSAGE_INVOKE_TIMEOUT = "Invoke timeout"

# --- Error types reported by runtimes (awslambdaric vocabulary) ----------------------------------
RUNTIME_MARSHAL_ERROR = "Runtime.MarshalError"
RUNTIME_UNMARSHAL_ERROR = "Runtime.UnmarshalError"
RUNTIME_USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
RUNTIME_HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
RUNTIME_IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
RUNTIME_BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
RUNTIME_MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
RUNTIME_BEFORE_SNAPSHOT_ERROR = "Runtime.BeforeSnapshotError"
RUNTIME_AFTER_RESTORE_ERROR = "Runtime.AfterRestoreError"
RUNTIME_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

# --- Platform error types (RAPID / service vocabulary) -------------------------------------------
RUNTIME_EXIT_ERROR = "Runtime.ExitError"
RUNTIME_OUT_OF_MEMORY = "Runtime.OutOfMemory"
RUNTIME_UNKNOWN = "Runtime.Unknown"
FUNCTION_UNKNOWN = "Function.Unknown"
FUNCTION_RESPONSE_SIZE_TOO_LARGE = "Function.ResponseSizeTooLarge"
SANDBOX_TIMEDOUT = "Sandbox.Timedout"
RUNTIME_INVALID_ENTRYPOINT = "Runtime.InvalidEntrypoint"


class Invocation:
    """One invocation as carried by a ``GET /next`` response: the event bytes plus its headers.

    ``deadline_ms`` is the absolute deadline in Unix epoch milliseconds. Optional fields are
    ``None`` when the header is absent; ``content_type`` is ``None`` when the platform sent none.
    A plain slotted class rather than a dataclass: ``dataclasses`` costs ~14 ms of cold start.
    """

    __slots__ = (
        "request_id",
        "deadline_ms",
        "invoked_function_arn",
        "body",
        "content_type",
        "trace_id",
        "client_context",
        "cognito_identity",
        "tenant_id",
        "invocation_id",
    )

    def __init__(
        self,
        request_id: str,
        deadline_ms: int,
        invoked_function_arn: str,
        body: bytes,
        content_type: str | None = CONTENT_TYPE_JSON,
        trace_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        tenant_id: str | None = None,
        invocation_id: str | None = None,
    ) -> None:
        self.request_id = request_id
        self.deadline_ms = deadline_ms
        self.invoked_function_arn = invoked_function_arn
        self.body = body
        self.content_type = content_type
        self.trace_id = trace_id
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.tenant_id = tenant_id
        self.invocation_id = invocation_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Invocation):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__ if n != "body")
        return f"Invocation({fields}, body=<{len(self.body)} bytes>)"

    def to_headers(self) -> dict[str, str]:
        """The ``/next`` response headers for this invocation (absent values are omitted)."""
        headers = {
            HEADER_REQUEST_ID: self.request_id,
            HEADER_DEADLINE_MS: str(self.deadline_ms),
            HEADER_FUNCTION_ARN: self.invoked_function_arn,
        }
        optional = (
            ("Content-Type", self.content_type),
            (HEADER_TRACE_ID, self.trace_id),
            (HEADER_CLIENT_CONTEXT, self.client_context),
            (HEADER_COGNITO_IDENTITY, self.cognito_identity),
            (HEADER_TENANT_ID, self.tenant_id),
            (HEADER_INVOCATION_ID, self.invocation_id),
        )
        for name, value in optional:
            if value:
                headers[name] = value
        return headers

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], body: bytes) -> Invocation:
        """Build an invocation from ``/next`` response headers (keys matched case-insensitively).

        Raises ``ValueError`` naming the header when the request id is missing or the deadline
        is not an integer.
        """
        # Looked up by lower-case name, an empty value counting as absent (``or None``); written
        # out, not through a helper, as this runs for every invoke.
        lower = {k.lower(): v for k, v in headers.items()}
        request_id = lower.get(_LOWER_REQUEST_ID) or None
        if request_id is None:
            raise ValueError(
                f"expected a {HEADER_REQUEST_ID} header on the /next response, got none"
            )
        raw_deadline = lower.get(_LOWER_DEADLINE_MS) or "0"
        try:
            deadline_ms = int(raw_deadline)
        except ValueError:
            raise ValueError(
                f"expected an integer {HEADER_DEADLINE_MS} header, got {raw_deadline!r}"
            ) from None
        return cls(
            request_id,
            deadline_ms,
            lower.get(_LOWER_FUNCTION_ARN) or "",
            body,
            lower.get("content-type") or None,
            lower.get(_LOWER_TRACE_ID) or None,
            lower.get(_LOWER_CLIENT_CONTEXT) or None,
            lower.get(_LOWER_COGNITO_IDENTITY) or None,
            lower.get(_LOWER_TENANT_ID) or None,
            lower.get(_LOWER_INVOCATION_ID) or None,
        )


def response_path(request_id: str) -> str:
    """``POST`` path for a successful result of ``request_id``."""
    return PATH_RESPONSE.format(request_id=request_id)


def error_path(request_id: str) -> str:
    """``POST`` path for a function error of ``request_id``."""
    return PATH_ERROR.format(request_id=request_id)


# --- The emulator's other fixed answers and synthesised errors (rie_server) -----------------------
# (Go's 404 body, the text content type and the timeout text are invoke_api's RIE_* constants.)
PING_BODY = b"pong"
ERROR_NOT_SUPPORTED = "{api}.NotSupported"  # api: Logs / Telemetry (202 until implemented)
MESSAGE_NOT_SUPPORTED = "{api} API is not supported"
INVALID_ERROR_BODY = b'"Invalid error body"'  # an error-cause /error body that does not parse
ERROR_MESSAGE_PREFIX = "RequestId: {request_id} Error: "  # "Error: " when there is no request id
ERROR_MESSAGE_PREFIX_NO_ID = "Error: "
MESSAGE_EXIT_NO_REASON = "Runtime exited without providing a reason"
MESSAGE_EXIT_SIGNAL = "Runtime exited with error: signal: {name}"
MESSAGE_EXIT_STATUS = "Runtime exited with error: exit status {status}"
MESSAGE_RESPONSE_TOO_LARGE = (
    "Response payload size exceeded maximum allowed payload size ({limit} bytes)."
)
