"""The behaviours a Runtime API runtime must show, checked black-box through the emulator.

Each :class:`Case` drives the runtime's *conformance handler* (protocol in
``reference/conformance_handler.py``) through the Invoke API and returns the differences between
what Lambda requires and what came back; no differences means the runtime passed. Cases that need
a differently configured function name an :class:`Environment`; the kit starts one emulator per
environment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdarig import invoke_api
from lambdarig import runtime_api as wire
from lambdarig.testing import InvokeResult, LambdaFunction

FUNCTION_NAME = "conformance"
INIT_ERROR_MESSAGE = "conformance: init failed on purpose"
TRACE_ID = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
LARGE = 5 * 1024 * 1024  # well inside the 6 MB limits in both directions


@dataclass(frozen=True)
class Environment:
    """A function configuration some cases need. ``recorded``: the runtime talks to the kit's
    recording Runtime API instead of the emulator (the case's ``check`` then gets a
    :class:`~lambdarig.conformance.recorder.RecordingRuntimeAPI`)."""

    name: str
    timeout: float = 10
    env: tuple[tuple[str, str], ...] = ()
    recorded: bool = False


DEFAULT = Environment("default")
SHORT_TIMEOUT = Environment("short-timeout", timeout=1)
INIT_FAILS = Environment(
    "init-error", env=(("LAMBDARIG_CONFORMANCE_INIT_ERROR", INIT_ERROR_MESSAGE),)
)


@dataclass(frozen=True)
class Case:
    """One behaviour: ``check(fn)`` returns the differences found (empty: passed). ``fn`` is a
    :class:`LambdaFunction`, or a ``RecordingRuntimeAPI`` in a ``recorded`` environment."""

    name: str
    behaviour: str
    check: Callable[[Any], list[str]]
    environment: Environment = DEFAULT


def _differ(what: str, expected: Any, got: Any) -> list[str]:
    return [] if expected == got else [f"{what}: expected {expected!r}, got {got!r}"]


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _succeeded(result: InvokeResult) -> list[str]:
    if result.status_code != invoke_api.STATUS_REQUEST_RESPONSE or result.function_error:
        return [
            f"expected a successful invoke, got HTTP {result.status_code} "
            f"function_error={result.function_error!r} body={_short(result.raw)}"
        ]
    return []


def _echo(fn: LambdaFunction, value: Any, what: str = "echoed value") -> list[str]:
    result = fn.invoke({"action": "echo", "value": value})
    return _succeeded(result) or _differ(what, value, result.payload)


def _context(fn: LambdaFunction, **options: Any) -> tuple[InvokeResult, dict[str, Any], list[str]]:
    result = fn.invoke({"action": "context"}, **options)
    problems = _succeeded(result)
    payload = result.payload if isinstance(result.payload, dict) else {}
    if not problems and not payload:
        problems = [f"expected the context object, got {_short(result.payload)}"]
    return result, payload, problems


def _unhandled(result: InvokeResult, when: str) -> tuple[dict[str, Any], list[str]]:
    """The error body (``{}`` when not an object) and problems unless ``Unhandled`` was reported."""
    problems = _differ(
        f"X-Amz-Function-Error {when}", invoke_api.FUNCTION_ERROR_UNHANDLED, result.function_error
    )
    return (result.payload if isinstance(result.payload, dict) else {}), problems


def check_echo(fn: LambdaFunction) -> list[str]:
    return _echo(fn, {"a": [1, 2, {"b": None}], "s": "text", "n": -1.5, "t": True})


def check_json_types(fn: LambdaFunction) -> list[str]:
    problems: list[str] = []
    values: tuple[Any, ...] = (None, 0, 12.5, "plain string", [], {}, False)
    for value in values:
        problems += _echo(fn, value, f"echo of {value!r}")
    return problems


def check_unicode(fn: LambdaFunction) -> list[str]:
    return _echo(fn, "héllo wörld ✓ 😀 \u2028 \x00 tab\t", "echoed unicode string")


def check_sequential(fn: LambdaFunction) -> list[str]:
    problems: list[str] = []
    seen: list[str] = []
    for index in range(10):
        problems += _echo(fn, index, f"invoke #{index}")
        _, payload, trouble = _context(fn)
        problems += trouble
        seen.append(str(payload.get("request_id")))
    if len(set(seen)) != len(seen):
        problems.append(f"expected 10 distinct request ids, got {seen}")
    return problems


def check_request_id(fn: LambdaFunction) -> list[str]:
    result, payload, problems = _context(fn)
    if problems:
        return problems
    reported = result.request_id or (result.report.request_id if result.report else None)
    return _differ(
        f"context request id (header {wire.HEADER_REQUEST_ID})", reported, payload.get("request_id")
    )


def check_function_arn(fn: LambdaFunction) -> list[str]:
    _, payload, problems = _context(fn)
    expected = invoke_api.function_arn(FUNCTION_NAME)
    return problems or _differ(
        f"invoked function ARN (header {wire.HEADER_FUNCTION_ARN})",
        expected,
        payload.get("function_arn"),
    )


def check_deadline(fn: LambdaFunction) -> list[str]:
    before = int(time.time() * 1000)
    _, payload, problems = _context(fn)
    after = int(time.time() * 1000)
    if problems:
        return problems
    budget = int(fn.spec.timeout * 1000)
    remaining, deadline = payload.get("remaining_ms"), payload.get("deadline_ms")
    if not isinstance(remaining, int) or not 0 < remaining <= budget:
        problems.append(
            f"remaining time: expected an integer in (0, {budget}] ms, got {remaining!r}"
        )
    low, high = before + budget - 1000, after + budget + 1000
    if not isinstance(deadline, int) or not low <= deadline <= high:
        problems.append(
            f"deadline (header {wire.HEADER_DEADLINE_MS}): expected epoch ms in [{low}, {high}], "
            f"got {deadline!r}"
        )
    return problems


def check_trace_id(fn: LambdaFunction) -> list[str]:
    _, payload, problems = _context(fn, trace_id=TRACE_ID)
    return problems or _differ(
        f"_X_AMZN_TRACE_ID (from header {wire.HEADER_TRACE_ID})", TRACE_ID, payload.get("trace_id")
    )


def check_client_context(fn: LambdaFunction) -> list[str]:
    custom = {"tenant": "acme", "n": "1"}
    _, payload, problems = _context(fn, client_context={"custom": custom, "env": {}, "client": {}})
    return problems or _differ(
        f"client context custom (header {wire.HEADER_CLIENT_CONTEXT})",
        custom,
        payload.get("client_context_custom"),
    )


def check_function_config(fn: LambdaFunction) -> list[str]:
    _, payload, problems = _context(fn)
    if problems:
        return problems
    return (
        _differ("function name", FUNCTION_NAME, payload.get("function_name"))
        + _differ("function version", "$LATEST", payload.get("function_version"))
        + _differ("memory limit", str(fn.spec.memory), payload.get("memory_limit_in_mb"))
    )


def check_error_shape(fn: LambdaFunction) -> list[str]:
    result = fn.invoke({"action": "error", "type": "ConformanceError", "message": "it failed"})
    problems = _differ(
        "X-Amz-Function-Error", invoke_api.FUNCTION_ERROR_UNHANDLED, result.function_error
    )
    body = result.payload
    if not isinstance(body, dict):
        return [*problems, f"error body: expected a JSON object, got {_short(body)}"]
    problems += _differ("errorType", "ConformanceError", body.get("errorType"))
    problems += _differ("errorMessage", "it failed", body.get("errorMessage"))
    if not isinstance(body.get("stackTrace", []), list):
        problems.append(f"stackTrace: expected a list, got {_short(body.get('stackTrace'))}")
    return problems


def check_error_then_success(fn: LambdaFunction) -> list[str]:
    fn.invoke({"action": "error", "type": "ConformanceError", "message": "first"})
    return _echo(fn, "still serving", "echo after a function error")


def check_logs(fn: LambdaFunction) -> list[str]:
    lines = ["conformance line one", "conformance line two"]
    result = fn.invoke({"action": "print", "lines": lines})
    problems = _succeeded(result)
    found = [line for line in result.logs if line in lines]
    problems += _differ("function output between START and END", lines, found)
    if result.report is None:
        problems.append("expected a REPORT line for the invocation, got none")
    return problems


def check_large_response(fn: LambdaFunction) -> list[str]:
    result = fn.invoke({"action": "large", "size": LARGE})
    problems = _succeeded(result)
    if problems:
        return problems
    if not isinstance(result.payload, str):
        return [
            f"5 MiB response: expected a JSON string of {LARGE} characters, got a body of "
            f"{len(result.raw)} bytes that is not one"
        ]
    return _differ("length of a 5 MiB response", LARGE, len(result.payload))


def check_large_event(fn: LambdaFunction) -> list[str]:
    result = fn.invoke({"action": "size", "data": "y" * LARGE})
    return _succeeded(result) or _differ("length of a 5 MiB event", LARGE, result.payload)


def check_timeout(fn: LambdaFunction) -> list[str]:
    result = fn.invoke({"action": "sleep", "ms": 3000})
    body, problems = _unhandled(result, "after a timeout")
    problems += _differ("errorType after a timeout", wire.SANDBOX_TIMEDOUT, body.get("errorType"))
    return problems + _echo(fn, "after timeout", "echo after a timeout (runtime restarted)")


def check_init_error(fn: LambdaFunction) -> list[str]:
    result = fn.invoke({"action": "echo", "value": 1})
    body, problems = _unhandled(result, "after an init failure")
    message = str(body.get("errorMessage", ""))
    if INIT_ERROR_MESSAGE not in message:
        problems.append(
            f"expected the init error posted to /runtime/init/error (errorMessage containing "
            f"{INIT_ERROR_MESSAGE!r}), got {_short(result.raw)}"
        )
    return problems


CASES: tuple[Case, ...] = (
    Case("echo", "GET /next delivers the event; POST /response returns the result", check_echo),
    Case(
        "json-types",
        "null, numbers, strings, lists, objects, booleans round-trip",
        check_json_types,
    ),
    Case("unicode", "non-ASCII, U+2028 and control characters round-trip", check_unicode),
    Case("sequential", "ten invokes in a row, each with its own request id", check_sequential),
    Case("request-id", "the context's request id is the platform's", check_request_id),
    Case("function-arn", "the context's invoked function ARN comes from /next", check_function_arn),
    Case(
        "deadline", "remaining time and deadline follow Lambda-Runtime-Deadline-Ms", check_deadline
    ),
    Case("trace-id", "_X_AMZN_TRACE_ID is set from Lambda-Runtime-Trace-Id", check_trace_id),
    Case(
        "client-context", "Lambda-Runtime-Client-Context reaches the context", check_client_context
    ),
    Case(
        "function-config",
        "function name, version and memory from the environment",
        check_function_config,
    ),
    Case(
        "error-shape",
        "a handler error is POSTed to /error as errorType/errorMessage/stackTrace",
        check_error_shape,
    ),
    Case(
        "error-then-success",
        "the runtime keeps serving after a function error",
        check_error_then_success,
    ),
    Case("logs", "stdout lines land between START and END", check_logs),
    Case("large-response", "a 5 MiB response is posted intact", check_large_response),
    Case("large-event", "a 5 MiB event is read intact", check_large_event),
    Case(
        "timeout",
        "a handler past its timeout is stopped; the next invoke works",
        check_timeout,
        SHORT_TIMEOUT,
    ),
    Case(
        "init-error",
        "an init failure is reported through /runtime/init/error",
        check_init_error,
        INIT_FAILS,
    ),
)
