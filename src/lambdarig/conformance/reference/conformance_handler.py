"""The reference *conformance handler* for Python runtimes (standard library only).

A runtime under test runs a handler that behaves as below; this file is that handler for Python
(``conformance_handler.handler``). Authors of other runtimes port these ~60 lines. The event is a
JSON object whose ``action`` selects the behaviour:

==========  ======================================================================================
``echo``    return ``event["value"]`` unchanged
``error``   fail the invocation with errorType ``event["type"]``, errorMessage ``event["message"]``
``context`` return ``{"request_id", "function_arn", "deadline_ms", "remaining_ms", "trace_id",
            "function_name", "function_version", "memory_limit_in_mb", "client_context_custom"}``
            (``trace_id`` = env ``_X_AMZN_TRACE_ID``; ``client_context_custom`` = the client
            context's ``custom`` object or null)
``sleep``   sleep ``event["ms"]`` milliseconds, then return ``"slept"``
``print``   write each of ``event["lines"]`` to stdout as one line, then return ``"printed"``
``large``   return a string of ``event["size"]`` ``x`` characters
``size``    return the length of the string ``event["data"]``
``env``     return the value of environment variable ``event["name"]`` (or null)
==========  ======================================================================================

Response streaming (only for ``--streaming``; skip these if your runtime cannot stream):

================  ================================================================================
``stream``        stream each string of ``event["chunks"]`` as one chunk, waiting
                  ``event["gap_ms"]`` milliseconds between two chunks
``stream_error``  stream ``event["chunks"]``, then fail with errorType ``event["type"]``,
                  errorMessage ``event["message"]`` (with no chunks: fail before the first byte)
``stream_http``   a streamed Function URL response: status ``event["statusCode"]``, headers
                  ``event["headers"]``, cookies ``event["cookies"]``, body ``event["chunks"]``
================  ================================================================================

Python has no standard streaming API: this file uses lambdarig's (a generator result, and
``lambdarig.runtime_client.http_response_stream``); port these actions to your runtime's own.

At init, if env ``LAMBDARIG_CONFORMANCE_INIT_ERROR`` is set, fail initialisation with errorMessage
equal to its value (the runtime must report it through ``/runtime/init/error``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

_INIT_ERROR = os.environ.get("LAMBDARIG_CONFORMANCE_INIT_ERROR")
if _INIT_ERROR:
    raise RuntimeError(_INIT_ERROR)


def _fail(error_type: str, message: str) -> Exception:
    # An exception class carrying the requested name: runtimes report the class name as errorType.
    kind: type[Exception] = type(str(error_type), (Exception,), {})
    return kind(message)


def _context(context: Any) -> dict[str, Any]:
    client_context = getattr(context, "client_context", None)
    remaining_ms = context.get_remaining_time_in_millis()
    return {
        "request_id": context.aws_request_id,
        "function_arn": context.invoked_function_arn,
        "deadline_ms": int(time.time() * 1000) + remaining_ms,
        "remaining_ms": remaining_ms,
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": str(context.memory_limit_in_mb),
        "client_context_custom": getattr(client_context, "custom", None),
    }


def _stream(event: dict[str, Any]) -> Iterator[str]:
    for index, chunk in enumerate(event["chunks"]):
        if index:
            time.sleep(event.get("gap_ms", 0) / 1000.0)
        yield chunk
    if event["action"] == "stream_error":
        raise _fail(event["type"], event["message"])


def handler(event: dict[str, Any], context: Any) -> Any:
    action = event.get("action")
    if action == "echo":
        return event.get("value")
    if action == "error":
        raise _fail(event["type"], event["message"])
    if action == "context":
        return _context(context)
    if action == "sleep":
        time.sleep(event["ms"] / 1000.0)
        return "slept"
    if action == "print":
        for line in event["lines"]:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return "printed"
    if action == "large":
        return "x" * event["size"]
    if action == "size":
        return len(event["data"])
    if action == "env":
        return os.environ.get(event["name"])
    if action in ("stream", "stream_error"):
        return _stream(event)
    if action == "stream_http":
        from lambdarig.runtime_client import http_response_stream

        return http_response_stream(
            _stream(event), event["statusCode"], event["headers"], event["cookies"]
        )
    raise _fail("ConformanceUsageError", f"unknown action {action!r}")
