"""The AWS Lambda Extensions API on the wire: every path, header, event and error string.

The single place where Extensions API wire strings are spelled (sans-IO, standard library only).
Spec: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
"""

from __future__ import annotations

API_VERSION = "2020-01-01"

# --- Paths (relative to ``http://$AWS_LAMBDA_RUNTIME_API``) --------------------------------------
PREFIX = "/" + API_VERSION + "/extension"
PATH_REGISTER = PREFIX + "/register"
PATH_EVENT_NEXT = PREFIX + "/event/next"
PATH_INIT_ERROR = PREFIX + "/init/error"
PATH_EXIT_ERROR = PREFIX + "/exit/error"

# --- Headers -------------------------------------------------------------------------------------
HEADER_NAME = "Lambda-Extension-Name"
HEADER_IDENTIFIER = "Lambda-Extension-Identifier"
HEADER_EVENT_IDENTIFIER = "Lambda-Extension-Event-Identifier"
HEADER_ACCEPT_FEATURE = "Lambda-Extension-Accept-Feature"
HEADER_FUNCTION_ERROR_TYPE = "Lambda-Extension-Function-Error-Type"
FEATURE_ACCOUNT_ID = "accountId"

# --- Events --------------------------------------------------------------------------------------
EVENT_INVOKE = "INVOKE"
EVENT_SHUTDOWN = "SHUTDOWN"
EVENT_TYPES = (EVENT_INVOKE, EVENT_SHUTDOWN)
TRACING_TYPE = "X-Amzn-Trace-Id"
SHUTDOWN_SPINDOWN = "spindown"
SHUTDOWN_TIMEOUT = "timeout"
SHUTDOWN_FAILURE = "failure"

# --- Limits --------------------------------------------------------------------------------------
MAX_EXTENSIONS = 10
MAX_NAME_LENGTH = 128  # ours: a name is a file name (NAME_MAX 255); longer ones are refused
MAX_BODY_SIZE = 1024 * 1024  # ours: register and error bodies are small JSON documents
# The file that disables external extensions (as in aws-lambda-rie).
DISABLE_FILE = "disable-extensions-jwigqn8j"
EXTENSIONS_DIR = "extensions"

# --- Error types and messages (403 JSON ``{"errorMessage", "errorType"}``) ------------------------
ERROR_MISSING_IDENTIFIER = "Extension.MissingExtensionIdentifier"
MESSAGE_MISSING_IDENTIFIER = "Missing Lambda-Extension-Identifier header"
ERROR_INVALID_IDENTIFIER = "Extension.InvalidExtensionIdentifier"
MESSAGE_INVALID_IDENTIFIER = "Invalid Lambda-Extension-Identifier"
ERROR_UNKNOWN_IDENTIFIER = "Extension.UnknownExtensionIdentifier"
MESSAGE_UNKNOWN_IDENTIFIER = "Unknown extension {identifier}"
ERROR_INVALID_NAME = "Extension.InvalidExtensionName"
MESSAGE_EMPTY_NAME = "Empty extension name"
ERROR_INVALID_REQUEST_FORMAT = "InvalidRequestFormat"
ERROR_INVALID_EVENT_TYPE = "Extension.InvalidEventType"
ERROR_REGISTRATION_CLOSED = "Extension.RegistrationClosed"
MESSAGE_REGISTRATION_CLOSED = "Extension registration closed already"
ERROR_INVALID_STATE = "Extension.InvalidExtensionState"
MESSAGE_ALREADY_REGISTERED = "Extension with this name already registered"
MESSAGE_STATE_TRANSITION = (
    "State transition from {from_state} to {to_state} failed for extension {name}. Error: {error}"
)
ERROR_TOO_MANY = "Extension.TooManyExtensions"
MESSAGE_TOO_MANY = "Extension limit ({limit}) reached"
ERROR_MISSING_HEADER = "Extension.MissingHeader"
MESSAGE_MISSING_ERROR_TYPE = HEADER_FUNCTION_ERROR_TYPE + " not found"
MESSAGE_CONFIGURATION_KEYS = "configurationKeys are deprecated; use environment variables instead"

# --- Platform error types an extension causes (init or invoke failures) ---------------------------
EXTENSION_INIT_ERROR = "Extension.InitError"
EXTENSION_EXIT_ERROR = "Extension.ExitError"
EXTENSION_CRASH = "Extension.Crash"
EXTENSION_LAUNCH_ERROR = "Extension.LaunchError"
