"""Response-streaming behaviours, checked against the kit's recording Runtime API.

Opt-in (``run_kit(..., streaming=True)``, ``lambdarig conformance --streaming``): many runtimes
(awslambdaric among them) do not stream. The conformance handler's ``stream``, ``stream_error``
and ``stream_http`` actions produce the responses (see ``reference/conformance_handler.py``).

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming
https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html
"""

from __future__ import annotations

import base64
import json
from typing import Any

from lambdarig import runtime_api as wire
from lambdarig.conformance.cases import Case, Environment, _differ, _short
from lambdarig.conformance.recorder import Posted, RecordingRuntimeAPI

STREAMING = Environment("streaming", recorded=True)
GAP_MS = 300  # between two chunks the handler produces
WAIT_S = 10.0
PRELUDE = {"statusCode": 201, "headers": {"x-conformance": "yes"}, "cookies": ["a=1", "b=2"]}


def _invoke(api: RecordingRuntimeAPI, event: dict[str, Any]) -> tuple[Posted | None, list[str]]:
    posted = api.invoke(event, WAIT_S)
    if isinstance(posted, str):
        return None, [posted]
    if posted.problem:
        return posted, [f"expected an HTTP/1.1 request body, got one that {posted.problem}"]
    return posted, []


def _streamed(posted: Posted) -> list[str]:
    """Problems unless ``posted`` is a streamed /response declaring the error trailers."""
    if posted.kind != "response" or posted.chunks is None:
        return [
            f"expected a chunked POST /response with {wire.HEADER_RESPONSE_MODE}: streaming, "
            f"got a {'chunked' if posted.chunks is not None else 'buffered'} POST /{posted.kind} "
            f"({_short(posted.body)})"
        ]
    problems = _differ(
        wire.HEADER_RESPONSE_MODE,
        wire.RESPONSE_MODE_STREAMING,
        posted.headers.get(wire.HEADER_RESPONSE_MODE.lower()),
    )
    declared = {t.strip().lower() for t in posted.headers.get("trailer", "").split(",")}
    for name in wire.STREAMING_TRAILERS:
        if name.lower() not in declared:
            problems.append(f"expected the Trailer header to declare {name}, got {declared}")
    return problems


def check_stream_chunks(api: RecordingRuntimeAPI) -> list[str]:
    parts = ["one ", "two ", "three"]
    posted, problems = _invoke(api, {"action": "stream", "chunks": parts, "gap_ms": GAP_MS})
    if posted is None or problems:
        return problems
    problems = _streamed(posted)
    problems += _differ("streamed body", "".join(parts).encode(), posted.body)
    problems += _differ("trailers after a successful stream", {}, _error_trailers(posted.trailers))
    if posted.chunk_times and posted.finished - posted.chunk_times[0] < GAP_MS / 1000:
        problems.append(
            f"expected the first chunk to arrive as produced, at least {GAP_MS} ms before the "
            f"stream ended (the handler waits {GAP_MS} ms between chunks), got "
            f"{(posted.finished - posted.chunk_times[0]) * 1000:.0f} ms"
        )
    return problems


def check_stream_error(api: RecordingRuntimeAPI) -> list[str]:
    event = {"action": "stream_error", "chunks": ["partial"], "type": "StreamFail", "message": "m"}
    posted, problems = _invoke(api, event)
    if posted is None or problems:
        return problems
    problems = _streamed(posted) + _differ("streamed body", b"partial", posted.body)
    trailers = posted.trailers
    problems += _differ(
        f"trailer {wire.HEADER_FUNCTION_ERROR_TYPE}",
        "StreamFail",
        trailers.get(wire.HEADER_FUNCTION_ERROR_TYPE.lower()),
    )
    raw = trailers.get(wire.HEADER_FUNCTION_ERROR_BODY.lower(), "")
    try:
        error = json.loads(base64.b64decode(raw, validate=True))
    except ValueError:
        return [
            *problems,
            f"trailer {wire.HEADER_FUNCTION_ERROR_BODY}: expected base64 error JSON, got "
            f"{_short(raw)}",
        ]
    if not isinstance(error, dict):
        return [*problems, f"error body trailer: expected a JSON object, got {_short(error)}"]
    problems += _differ("errorType in the error body trailer", "StreamFail", error.get("errorType"))
    problems += _differ("errorMessage in the error body trailer", "m", error.get("errorMessage"))
    return problems


def check_stream_error_first(api: RecordingRuntimeAPI) -> list[str]:
    event = {"action": "stream_error", "chunks": [], "type": "EarlyFail", "message": "early"}
    posted, problems = _invoke(api, event)
    if posted is None or problems:
        return problems
    if posted.kind != "error":
        return [f"expected POST /error before the first byte, got POST /{posted.kind}"]
    try:
        error = json.loads(posted.body)
    except ValueError:
        return [f"error body: expected JSON, got {_short(posted.body)}"]
    return _differ("errorType", "EarlyFail", error.get("errorType") if error else None)


def check_stream_http(api: RecordingRuntimeAPI) -> list[str]:
    event = {"action": "stream_http", **PRELUDE, "chunks": ["<p>", "hi</p>"]}
    posted, problems = _invoke(api, event)
    if posted is None or problems:
        return problems
    problems = _streamed(posted) + _differ(
        "Content-Type",
        wire.CONTENT_TYPE_HTTP_INTEGRATION,
        posted.headers.get("content-type"),
    )
    prelude, sep, body = posted.body.partition(wire.HTTP_INTEGRATION_DELIMITER)
    if not sep:
        return [*problems, f"expected a JSON prelude and 8 NUL bytes, got {_short(posted.body)}"]
    try:
        parsed = json.loads(prelude)
    except ValueError:
        return [*problems, f"prelude: expected JSON, got {_short(prelude)}"]
    return problems + _differ("prelude", PRELUDE, parsed) + _differ("body", b"<p>hi</p>", body)


def _error_trailers(trailers: dict[str, str]) -> dict[str, str]:
    names = {name.lower() for name in wire.STREAMING_TRAILERS}
    return {k: v for k, v in trailers.items() if k in names}


STREAMING_CASES: tuple[Case, ...] = (
    Case(
        "stream-chunks",
        "a streamed /response sends each chunk as the handler produces it",
        check_stream_chunks,
        STREAMING,
    ),
    Case(
        "stream-error",
        "a failure after the first byte ends the stream with the error trailers",
        check_stream_error,
        STREAMING,
    ),
    Case(
        "stream-error-first",
        "a failure before the first byte is reported on /error",
        check_stream_error_first,
        STREAMING,
    ),
    Case(
        "stream-http",
        "a Function URL stream starts with the JSON prelude and 8 NUL bytes",
        check_stream_http,
        STREAMING,
    ),
)
