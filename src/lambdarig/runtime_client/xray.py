"""The X-Ray error cause sent with a function error (header
Lambda-Runtime-Function-XRay-Error-Cause), as awslambdaric builds it.

``{"working_directory": ..., "exceptions": [{"message", "type", "stack": [{"label", "path",
"line"}]}], "paths": [...]}``, encoded with the response encoder. awslambdaric lists ``paths``
from a ``set`` (arbitrary order); we keep first-seen order so the header is deterministic.
"""

from __future__ import annotations

from lambdarig import runtime_api as wire
from lambdarig.runtime_client import marshal

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    # (filename, line number, function name, source line), as traceback.extract_tb gives them.
    Frame = tuple[str, Any, str, Any]

# The exception type awslambdaric reports for its own Runtime.* faults.
VALIDATION_ERROR_TYPE = "LambdaValidationError"


def error_cause(
    error_type: str,
    message: str,
    working_directory: str,
    frames: Sequence[Frame],
    ensure_ascii: bool = True,
) -> str | None:
    """The cause JSON, or ``None`` when it reaches ``MAX_XRAY_CAUSE_SIZE`` encoded bytes.

    Raises whatever the encoder raises for a message that is not JSON-encodable (never for str).
    """
    stack = [{"label": name, "path": path, "line": line} for path, line, name, _ in frames]
    paths = list(dict.fromkeys(path for path, _, _, _ in frames))
    cause = {
        "working_directory": working_directory,
        "exceptions": [{"message": message, "type": error_type, "stack": stack}],
        "paths": paths,
    }
    encoded = marshal.dumps(cause, ensure_ascii)
    if len(encoded.encode()) >= wire.MAX_XRAY_CAUSE_SIZE:
        return None
    return encoded
