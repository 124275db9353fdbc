"""The AWS Lambda Invoke API on the wire: paths, headers, invocation types, error names and limits.

The single place where Invoke API wire strings are spelled; used by the emulator (server side) and
the harness (client side). No I/O, standard library only.

Spec: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

from __future__ import annotations

INVOKE_API_VERSION = "2015-03-31"
STREAM_API_VERSION = "2021-11-15"
# ``{name}`` is a function name, a partial ARN or a full ARN, optionally ``:qualifier``.
PATH_INVOKE = "/" + INVOKE_API_VERSION + "/functions/{name}/invocations"
PATH_INVOKE_STREAM = "/" + STREAM_API_VERSION + "/functions/{name}/response-streaming-invocations"
# aws-lambda-rie accepts only this literal function name.
RIE_FUNCTION_NAME = "function"
QUERY_QUALIFIER = "Qualifier"

# --- Request headers -----------------------------------------------------------------------------
HEADER_INVOCATION_TYPE = "X-Amz-Invocation-Type"
HEADER_LOG_TYPE = "X-Amz-Log-Type"
HEADER_CLIENT_CONTEXT = "X-Amz-Client-Context"
HEADER_TENANT_ID = "X-Amz-Tenant-Id"
HEADER_TRACE_ID = "X-Amzn-Trace-Id"
HEADER_REQUEST_ID_IN = "X-Amzn-RequestId"

INVOCATION_TYPE_REQUEST_RESPONSE = "RequestResponse"
INVOCATION_TYPE_EVENT = "Event"
INVOCATION_TYPE_DRY_RUN = "DryRun"
LOG_TYPE_TAIL = "Tail"

# --- Response headers ----------------------------------------------------------------------------
HEADER_FUNCTION_ERROR = "X-Amz-Function-Error"
HEADER_LOG_RESULT = "X-Amz-Log-Result"
HEADER_EXECUTED_VERSION = "X-Amz-Executed-Version"
HEADER_REQUEST_ID = "x-amzn-RequestId"
HEADER_ERROR_TYPE = "x-amzn-ErrorType"
FUNCTION_ERROR_UNHANDLED = "Unhandled"

STATUS_REQUEST_RESPONSE = 200
STATUS_EVENT = 202
STATUS_DRY_RUN = 204

# --- Service errors (status, x-amzn-ErrorType) ---------------------------------------------------
ERROR_RESOURCE_NOT_FOUND = "ResourceNotFoundException"  # 404
ERROR_REQUEST_TOO_LARGE = "RequestTooLargeException"  # 413
ERROR_INVALID_REQUEST_CONTENT = "InvalidRequestContentException"  # 400
ERROR_INVALID_PARAMETER_VALUE = "InvalidParameterValueException"  # 400
ERROR_TOO_MANY_REQUESTS = "TooManyRequestsException"  # 429
ERROR_SERVICE = "ServiceException"  # 500
# SnapStart's restore failed (snapstart-troubleshooting.html; the Invoke API's error list).
ERROR_SNAPSTART = "SnapStartException"  # 400
ERROR_SNAPSTART_TIMEOUT = "SnapStartTimeoutException"  # 408
MESSAGE_SNAPSTART = (
    "The afterRestore() runtime hook encountered an error. "
    "For more information, check the Amazon CloudWatch logs."
)
MESSAGE_SNAPSTART_TIMEOUT = "Lambda couldn't restore the snapshot within the timeout limit."
THROTTLE_REASON_CONCURRENT = "ConcurrentInvocationLimitExceeded"
# A function whose reserved concurrency (ReservedConcurrentExecutions) is reached, or is 0.
THROTTLE_REASON_RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"

MESSAGE_FUNCTION_NOT_FOUND = "Function not found: {arn}"
MESSAGE_REQUEST_TOO_LARGE = (
    "Request must be smaller than {limit} bytes for the InvokeFunction operation"
)
MESSAGE_RATE_EXCEEDED = "Rate Exceeded."

# --- Limits --------------------------------------------------------------------------------------
MAX_SYNC_REQUEST_SIZE = 6291456  # 6 MB, the front end's limit for RequestResponse payloads
MAX_ASYNC_REQUEST_SIZE = 1024 * 1024  # 1 MB for Event payloads (raised from 256 KB in 2025)
LOG_TAIL_BYTES = 4096

# --- Defaults shared with aws-lambda-rie ---------------------------------------------------------
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "012345678912"
DEFAULT_FUNCTION_NAME = "test_function"
DEFAULT_FUNCTION_VERSION = "$LATEST"
FUNCTION_ARN = "arn:aws:lambda:{region}:{account}:function:{name}"


def function_arn(name: str, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT_ID) -> str:
    """The unqualified ARN of function ``name``."""
    return FUNCTION_ARN.format(region=region, account=account, name=name)


# --- Service error messages and bodies (emulator front) -------------------------------------------
# The service's texts where known; [inf] marks a text inferred, not observed (API_Invoke lists the
# errors, not their texts).
MESSAGE_INVALID_JSON = (
    "Could not parse request body into json: Could not parse payload into json: {detail}"
)
# Observed from the service (aws/aws-sdk-js#1388) for a client context that is not base64 JSON.
MESSAGE_BAD_CLIENT_CONTEXT = "Client context must be a valid Base64-encoded JSON object."
MESSAGE_BAD_TENANT_ID = (  # [inf]
    "Tenant id must be 1-256 characters matching [a-zA-Z0-9._:/=+\\-@ ]."
)
MESSAGE_BAD_INVOCATION_TYPE = "Unsupported invocation type: {value}"  # [inf]
MESSAGE_QUALIFIER_MISMATCH = (
    "The derived qualifier from the function name does not match the specified qualifier."
)
MESSAGE_UNKNOWN_OPERATION = "Unknown operation {method} {path}"  # [inf]
ERROR_UNKNOWN_OPERATION = "UnknownOperationException"
ERROR_TYPE_USER = "User"
ERROR_TYPE_SERVICE = "Service"
TENANT_ID_PATTERN = r"[a-zA-Z0-9\._:\/=+\-@ ]{1,256}"
# X-Ray header generated when the caller sends none: Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>.
TRACE_ID_FORMAT = "Root=1-{epoch:08x}-{root};Parent={parent};Sampled=0"
ARN_PREFIX = "arn:aws:lambda:"
ARN_FUNCTION_SEGMENT = "function"
LATEST_VERSION = "$LATEST"

# --- aws-lambda-rie's shapes (``--compat rie``; aws-lambda-rie's internal/lambda/rie) -------------
RIE_NOT_FOUND_BODY = b"404 page not found\n"
RIE_TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
RIE_TIMEOUT_MESSAGE = "Task timed out after {seconds:.2f} seconds"
RIE_STATUS_RUNTIME_FAILURE = 502

# --- Caller-supplied request id (``X-Amzn-RequestId``; API_Invoke InvalidRequestContentException) -
# The service uses a caller's request id when it is a UUID, and answers 400 otherwise.
REQUEST_ID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
MESSAGE_BAD_REQUEST_ID = "The x-amzn-RequestId header is not a valid UUID string: {value}"  # [inf]

# --- Hostile input (checked by rie_server.invoke.input) ------------------------------------------
# API_Invoke: "Up to 3,583 bytes of base64-encoded data" (a longer one gets the same 400 [inf]).
MAX_CLIENT_CONTEXT_SIZE = 3583
# The service's JSON parser (Jackson, whose messages MESSAGE_INVALID_JSON carries) refuses documents
# nested deeper than its default StreamReadConstraints limit; the detail is Jackson's text [inf].
MAX_JSON_NESTING_DEPTH = 1000
MESSAGE_JSON_TOO_DEEP = (
    "Document nesting depth ({depth}) exceeds the maximum allowed "
    "({limit}, from `StreamReadConstraints.getMaxNestingDepth()`)"
)

# X-Ray trace header: ``Root=1-<8 hex>-<24 hex>[;Parent=<16 hex>][;Sampled=0|1|?][;Key=value...]``
# (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader).
TRACE_KEY_ROOT = "Root"
TRACE_KEY_PARENT = "Parent"
TRACE_KEY_SAMPLED = "Sampled"
TRACE_ROOT_PATTERN = r"1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}"
TRACE_PARENT_PATTERN = r"[0-9a-fA-F]{16}"
TRACE_SAMPLED_PATTERN = r"[01?]"
TRACE_FIELD_PATTERN = r"([A-Za-z][A-Za-z0-9_-]*)=([\x21-\x3a\x3c-\x7e]*)"  # value: no ";"
