"""Conformance: the same handlers through AWS's aws-lambda-rie, once with awslambdaric (the
reference) and once with lambdarig.runtime_client; status, body and log lines must be equal after
masking request ids, times, durations, paths and interpreter versions (see ``harness.mask``).

Cases are listed in group order (same handler and env), so each emulator pair stays alive across
the consecutive cases of its group.
"""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from tests.conformance.conftest import EmulatorPool
from tests.conformance.harness import OURS, REFERENCE, Outcome, Side

pytestmark = pytest.mark.peers

JSON_LOGS = {"AWS_LAMBDA_LOG_FORMAT": "JSON"}
JSON_RECONFIGURED = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "CONF_GROUP": "re"}
TIMEOUT_1S = {"AWS_LAMBDA_FUNCTION_TIMEOUT": "1"}
PY312 = {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
CLIENT_CONTEXT = {
    "custom": {"k": "v"},
    "env": {"platform": "test"},
    "client": {"installation_id": "i-1", "app_title": "conf", "app_version_code": "7"},
}


@dataclass(frozen=True)
class Case:
    id: str
    handler: str
    event: bytes = b"{}"
    env: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def kind(name: str) -> bytes:
    return json.dumps({"kind": name}).encode()


def _group(
    prefix: str, handler: str, kinds: list[str], env: dict[str, str] | None = None
) -> list[Case]:
    return [Case(f"{prefix}-{k}", handler, kind(k), env or {}) for k in kinds]


RETURN_KINDS = [
    "dict", "list", "tuple", "str", "none", "int", "float", "bool", "bytes", "decimal",
    "decimal_nan", "nan", "unicode", "set", "datetime", "object", "dict_int_keys", "large",
]  # fmt: skip
ERROR_KINDS = [
    "value", "nested", "unicode", "custom", "custom_str", "chained", "implicit_chain", "empty",
    "multiline", "keyerror", "args", "stdlib", "recursion",
]  # fmt: skip
LARGE_EVENT = json.dumps({f"k{i}": "z" * 1000 for i in range(3000)}).encode()  # about 3 MB
LOG_KINDS = [
    "print",
    "levels",
    "exc_info",
    "extra",
    "unicode",
    "context_log",
    "raise",
    "stdout_api",
]
# These change the root logger for the rest of their group, so they come last.
LOG_RECONFIGURED = ["set_level", "levels", "reformat", "levels", "exc_info"]

CASES: list[Case] = [
    # Handler loading: every init error type, and the accepted handler spellings.
    Case("load-malformed-name", "nodot"),
    Case("load-missing-module", "conf_missing_module.handler"),
    Case("load-handler-not-found", "conf_state.no_such_function"),
    Case("load-syntax-error", "conf_syntax_error.handler"),
    Case("load-builtin-conflict", "sys.handler"),
    Case("load-name-error-at-import", "conf_raises_at_import.handler"),
    Case("load-custom-exception-at-import", "conf_custom_at_import.handler"),
    Case("load-missing-dependency", "conf_bad_import.handler"),
    Case("load-missing-dependency-in-package", "pkg.sub.broken.handler"),
    Case("load-missing-module-slash-path", "pkg/sub/missing.handler"),
    Case("load-module-is-not-a-package", "conf_state.handler.extra"),
    Case("load-empty-module-name", "."),
    Case("load-slash-path", "pkg/sub/app.handler"),
    Case("load-dotted-package", "pkg.sub.app.handler"),
    Case("load-malformed-name-json-logs", "nodot", env=JSON_LOGS),
    Case("load-missing-module-json-logs", "conf_missing_module.handler", env=JSON_LOGS),
    # Return values and marshalling.
    *_group("return", "conf_returns.handler", RETURN_KINDS),
    *_group("return-py312", "conf_returns.handler", ["unicode", "dict", "nan"], PY312),
    Case(
        "return-py311-unicode",
        "conf_returns.handler",
        kind("unicode"),
        {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.11"},
    ),  # fmt: skip
    # Event decoding.
    Case("event-object", "conf_returns.echo", b'{"a": [1, 2.5, "x"], "b": null}'),
    Case("event-string", "conf_returns.echo", b'"just a string"'),
    Case("event-number", "conf_returns.echo", b"12.50"),
    Case("event-unicode", "conf_returns.echo", '{"t": "ü ✓ 日本"}'.encode()),
    Case("event-empty", "conf_returns.echo", b""),
    Case("event-not-json", "conf_returns.echo", b"not json at all"),
    Case("event-large", "conf_returns.echo_size", LARGE_EVENT),
    Case("event-sam-style", "conf_returns.echo_raw", b'{"Records": [{"eventSource": "aws:s3"}]}'),
    # Exceptions from the handler.
    *_group("error", "conf_errors.handler", ERROR_KINDS),
    *_group("error-json-logs", "conf_errors.handler", ["value", "chained", "unicode"], JSON_LOGS),
    Case("error-sys-exit", "conf_errors.handler", kind("exit"), {"CONF_GROUP": "exit"}),
    # Context and environment.
    Case("context-attributes", "conf_context.attributes"),
    Case("context-client-context-absent", "conf_context.client_context"),
    Case(
        "context-client-context",
        "conf_context.client_context",
        headers={
            "X-Amz-Client-Context": base64.b64encode(json.dumps(CLIENT_CONTEXT).encode()).decode()
        },
    ),  # fmt: skip
    Case("context-trace-absent", "conf_context.trace"),
    Case("context-trace-header", "conf_context.trace", headers={"X-Amzn-Trace-Id": TRACE_HEADER}),
    Case("context-environment", "conf_context.environment"),
    Case(
        "context-attributes-configured",
        "conf_context.attributes",
        env={
            "AWS_LAMBDA_FUNCTION_NAME": "conf-fn",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_FUNCTION_VERSION": "7",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/conf-fn",
        },
    ),  # fmt: skip
    # Logging: text (default level), levels, TRACE, JSON.
    *_group("log-text", "conf_logging.handler", LOG_KINDS),
    *_group(
        "log-text-debug",
        "conf_logging.handler",
        ["levels", "exc_info"],
        {"AWS_LAMBDA_LOG_LEVEL": "DEBUG"},
    ),  # fmt: skip
    *_group(
        "log-text-trace", "conf_logging.handler", ["levels"], {"AWS_LAMBDA_LOG_LEVEL": "trace"}
    ),
    *_group(
        "log-text-error", "conf_logging.handler", ["levels"], {"AWS_LAMBDA_LOG_LEVEL": "ERROR"}
    ),
    *_group("log-json", "conf_logging.handler", LOG_KINDS, JSON_LOGS),
    *[
        Case(
            f"log-text-reconfigured-{n}-{k}", "conf_logging.handler", kind(k), {"CONF_GROUP": "re"}
        )
        for n, k in enumerate(LOG_RECONFIGURED)
    ],  # fmt: skip
    *[
        Case(f"log-json-reconfigured-{n}-{k}", "conf_logging.handler", kind(k), JSON_RECONFIGURED)
        for n, k in enumerate(LOG_RECONFIGURED)
    ],  # fmt: skip
    *_group(
        "log-json-info",
        "conf_logging.handler",
        ["levels", "extra"],
        {**JSON_LOGS, "AWS_LAMBDA_LOG_LEVEL": "INFO"},
    ),  # fmt: skip
    *_group(
        "log-json-trace",
        "conf_logging.handler",
        ["levels"],
        {"AWS_LAMBDA_LOG_FORMAT": "json", "AWS_LAMBDA_LOG_LEVEL": "TRACE"},
    ),  # fmt: skip
    # Timeouts: output printed before the deadline survives (unbuffered stdout), and the next
    # invoke runs in a fresh runtime.
    Case("timeout-exceeded", "conf_slow.handler", b'{"sleep": 3}', TIMEOUT_1S),
    Case("timeout-next-invoke-reinitialises", "conf_slow.handler", b'{"sleep": 0}', TIMEOUT_1S),
    # Several sequential invokes keep module-level state.
    *[
        Case(f"state-invoke-{n}", "conf_state.handler", json.dumps({"n": n}).encode())
        for n in range(1, 4)
    ],  # fmt: skip
]


def run(pool: EmulatorPool, case: Case) -> tuple[Outcome, Outcome]:
    """Invoke the case on both sides. If either side breaks, the group's emulators are dropped, so
    the next case does not start from environments that saw different invokes."""
    try:
        sides = [pool.get(side, case.handler, case.env) for side in (REFERENCE, OURS)]
        # The two emulators are independent processes: invoke both at once to halve the wait.
        with ThreadPoolExecutor(max_workers=2) as executor:
            reference, ours = executor.map(lambda e: e.invoke(case.event, case.headers), sides)
    except BaseException:
        pool.close()
        raise
    return reference, ours


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_same_as_awslambdaric(emulators: EmulatorPool, case: Case) -> None:
    reference, ours = run(emulators, case)
    assert ours.status == reference.status
    assert ours.body == reference.body
    assert ours.logs == reference.logs


def test_case_ids_are_unique() -> None:
    assert len({case.id for case in CASES}) == len(CASES)


def test_masking_hides_every_difference_between_two_reference_runs(emulators: EmulatorPool) -> None:
    """The harness itself: awslambdaric against awslambdaric must compare equal, or the masking
    (ids, times, durations, paths) is incomplete and a conformance failure would mean nothing."""
    again = Side("awslambdaric-again", REFERENCE.module)
    emulators.close()  # both runs start from a fresh environment, and leave none behind
    try:
        for case in _group("self-check", "conf_logging.handler", LOG_KINDS, JSON_LOGS):
            first = emulators.get(REFERENCE, case.handler, case.env).invoke(case.event)
            second = emulators.get(again, case.handler, case.env).invoke(case.event)
            assert first == second
    finally:
        emulators.close()


def test_non_callable_handler_fails_at_invoke_with_the_same_error(emulators: EmulatorPool) -> None:
    """The one frame awslambdaric reports here is its own bootstrap's call site, which no other
    client can reproduce byte for byte; everything else must match."""
    reference, ours = run(emulators, Case("not-callable", "conf_errors.not_callable"))
    assert (ours.status, reference.status) == (200, 200)
    expected, actual = json.loads(reference.body), json.loads(ours.body)
    assert [actual["errorType"], actual["errorMessage"]] == ["TypeError", expected["errorMessage"]]
    assert len(actual["stackTrace"]) == len(expected["stackTrace"]) == 1


def test_response_too_large_ends_the_runtime_like_awslambdaric(emulators: EmulatorPool) -> None:
    """The Runtime API answers 413 to a response over 6291556 bytes; both clients then exit, so the
    next invoke initialises a new runtime. The crash lines differ on purpose (awslambdaric prints
    its C++ client's message and its own traceback; lambdarig prints one line naming the
    endpoint, status and body), so only the caller-visible outcome is compared."""
    too_large = Case("too-large", "conf_returns.handler", kind("too_large"))
    reference, ours = run(emulators, too_large)
    assert (ours.status, ours.body) == (reference.status, reference.body) == (502, ours.body)
    assert "Function.ResponseSizeTooLarge" in ours.body
    assert any("413" in line for line in ours.logs)
    reference, ours = run(emulators, Case("after-too-large", "conf_returns.handler", kind("str")))
    assert ours == reference
    assert "conf_returns imported" in ours.logs  # the module was imported again: a new runtime


def test_async_handler_is_awaited_where_awslambdaric_fails(emulators: EmulatorPool) -> None:
    """A deliberate difference: awslambdaric cannot marshal the coroutine, lambdarig awaits it."""
    reference, ours = run(emulators, Case("async", "conf_async.handler", b'{"x": 1}'))
    assert reference.status == 200
    assert json.loads(reference.body)["errorType"] == "Runtime.MarshalError"
    assert (ours.status, json.loads(ours.body)) == (200, {"awaited": {"x": 1}})
