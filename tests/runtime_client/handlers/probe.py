"""Run the same cases through awslambdaric (side "ric") or lambdarig (side "ours"), in a child.

Imported by tests for :func:`probe`; executed by the awslambdaric interpreter (with ``src`` on
``PYTHONPATH``) as a script, so both sides run on the very same Python. A case is a dict with an
``op`` and Python expressions (strings) for values JSON cannot carry (Decimal, bytes, sets...).
The child prints one JSON document: the list of results, one per case.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[3] / "src"
HANDLERS = Path(__file__).resolve().parent


def probe(
    python: Path,
    side: str,
    cases: list[dict[str, Any]],
    env: dict[str, str] | None = None,
    extra_path: Path | None = None,
) -> tuple[list[Any], str]:
    """Run ``cases`` on ``side`` in a fresh ``python`` child: (one result per case, its output).

    ``extra_path`` is put first on the child's ``sys.path`` (for modules a test writes itself).
    """
    path = f"{extra_path}:{SRC}:{HANDLERS}" if extra_path else f"{SRC}:{HANDLERS}"
    child_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": path}
    child_env.update(env or {})
    done = subprocess.run(
        [str(python), str(Path(__file__).resolve()), side],
        input=json.dumps(cases).encode(),
        env=child_env,
        cwd=HANDLERS,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"probe child failed ({done.returncode}): {done.stderr.decode()}")
    output, _, results = done.stdout.decode().rpartition("\n@@RESULTS@@\n")
    return json.loads(results), output


_STAMPS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")


def assert_same_as_awslambdaric(
    python: Path,
    cases: list[dict[str, Any]],
    env: dict[str, str] | None = None,
    extra_path: Path | None = None,
) -> None:
    """Run ``cases`` on both sides; results and per-case log output (timestamps masked) match."""
    theirs, their_output = probe(python, "ric", cases, env, extra_path)
    ours, our_output = probe(python, "ours", cases, env, extra_path)
    for case, expected, actual in zip(cases, theirs, ours):
        assert actual == expected, case
    their_logs = _STAMPS.sub("<ts>", their_output).split("\n@@CASE@@\n")
    our_logs = _STAMPS.sub("<ts>", our_output).split("\n@@CASE@@\n")
    for case, expected_log, actual_log in zip(cases, their_logs, our_logs):
        assert actual_log == expected_log, case


def run_python(code: str, *args: str) -> str:
    """stdout of ``python [args] -c code`` in a child of this interpreter with ``src`` importable."""
    done = subprocess.run(
        [sys.executable, *args, "-c", f"import sys; sys.path.insert(0, {str(SRC)!r})\n{code}"],
        capture_output=True,
        timeout=30,
        check=True,
    )
    return done.stdout.decode()


# --- child side ---------------------------------------------------------------------------------


class _Stop(BaseException):
    """Raised instead of waiting for a next invocation: ends a probe case after init."""


class _Capture:
    """Stands in for either side's Runtime API client: records what would be posted.

    Speaks awslambdaric's method names (``post_init_error(data, type)``, ``marshaller``...) and
    lambdarig's (``post_init_error(body, type)``, ``next_invocation``).
    """

    def __init__(self) -> None:
        self.posted: list[Any] = []

    @property
    def marshaller(self) -> Any:
        from awslambdaric.lambda_runtime_marshaller import LambdaMarshaller

        return LambdaMarshaller()

    def post_init_error(self, data: Any, error_type: str | None = None) -> None:
        if isinstance(data, bytes):
            body = data.decode()
        else:
            from awslambdaric.lambda_runtime_marshaller import to_json

            body, error_type = to_json(data), error_type or data["errorType"]
        self.posted.append({"body": body, "error_type": error_type})

    def wait_next_invocation(self) -> Any:
        raise _Stop

    next_invocation = wait_next_invocation

    def post_invocation_result(self, invoke_id: str, result: Any, ctype: str, inv: Any) -> None:
        body = result if isinstance(result, bytes) else result.encode()
        self.posted.append({"ok": True, "body": body.decode("latin-1"), "content_type": ctype})

    def post_invocation_error(self, invoke_id: str, body: str, xray: str, inv: Any) -> None:
        self.posted.append({"ok": False, "body": body, "xray": xray})


def _error(exc: BaseException) -> dict[str, str]:
    return {"error_class": type(exc).__name__, "error": str(exc)}


def _ric(case: dict[str, Any]) -> Any:
    from awslambdaric import bootstrap
    from awslambdaric.lambda_runtime_exception import FaultException
    from awslambdaric.lambda_runtime_marshaller import LambdaMarshaller, to_json

    op = case["op"]
    if op == "dumps":
        try:
            return {"json": to_json(eval(case["expr"]))}
        except Exception as exc:
            return _error(exc)
    if op == "loads":
        try:
            event = LambdaMarshaller().unmarshal_request(eval(case["expr"]))
            return {"repr": repr(event)}
        except FaultException as exc:
            return {"error_type": exc.exception_type, "error": exc.msg}
    if op == "init":
        capture = _Capture()
        try:
            bootstrap.run(case["handler"], capture)
        except _Stop:
            return {"loaded": True}
        except SystemExit as exc:
            return {"exit": exc.code, **capture.posted[0]}
        raise AssertionError("bootstrap.run returned")
    if op == "invoke":
        capture = _Capture()
        sink = bootstrap.StandardLogSink()
        bootstrap._setup_logging(
            bootstrap._AWS_LAMBDA_LOG_FORMAT, bootstrap._AWS_LAMBDA_LOG_LEVEL, sink
        )
        bootstrap._GLOBAL_AWS_REQUEST_ID = case["request_id"]
        handler = bootstrap._get_handler(case["handler"])
        bootstrap.handle_event_request(
            capture,
            handler,
            case["request_id"],
            eval(case["body"]),
            case.get("content_type", "application/json"),
            case.get("client_context"),
            case.get("cognito_identity"),
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            case.get("deadline_ms", 4102444800000),
            case.get("tenant_id"),
            sink,
        )
        return capture.posted[0]
    if op == "context":
        try:
            ctx = bootstrap.create_lambda_context(
                case.get("client_context"),
                case.get("cognito_identity"),
                4102444800000,
                "req-1",
                "arn:aws:lambda:us-east-1:123456789012:function:f",
                case.get("tenant_id"),
            )
        except FaultException as exc:
            return {"error_type": exc.exception_type, "error": exc.msg}
        return _describe_context(ctx)
    if op == "log_error":
        sink = bootstrap.StandardLogSink()
        bootstrap.log_error(case["error"], sink)
        return None
    if op == "telemetry":
        read_fd, write_fd = os.pipe()
        with bootstrap.FramedTelemetryLogSink(write_fd) as sink:
            bootstrap._setup_logging(
                bootstrap._AWS_LAMBDA_LOG_FORMAT, bootstrap._AWS_LAMBDA_LOG_LEVEL, sink
            )
            bootstrap._GLOBAL_AWS_REQUEST_ID = case.get("request_id")
            bootstrap._GLOBAL_TENANT_ID = case.get("tenant_id")
            exec(case["code"], {"logging": logging})
            bootstrap.log_error(case["error"], sink)
        return _read_frames(read_fd)
    if op == "logging":
        sink = bootstrap.StandardLogSink()
        bootstrap._setup_logging(
            bootstrap._AWS_LAMBDA_LOG_FORMAT, bootstrap._AWS_LAMBDA_LOG_LEVEL, sink
        )
        bootstrap._GLOBAL_AWS_REQUEST_ID = case.get("request_id")
        bootstrap._GLOBAL_TENANT_ID = case.get("tenant_id")
        exec(case["code"], {"logging": logging})
        return None
    raise ValueError(op)


def _ours(case: dict[str, Any]) -> Any:
    from lambdarig import runtime_api as wire
    from lambdarig.runtime_client import context, handler, invoke, logs, marshal
    from lambdarig.runtime_client.config import RuntimeConfig
    from lambdarig.runtime_client.errors import FaultError

    config = RuntimeConfig.from_environ({**os.environ, "AWS_LAMBDA_RUNTIME_API": "x"}, ["h.h"])
    op = case["op"]
    if op == "dumps":
        try:
            return {"json": marshal.dumps(eval(case["expr"]), config.json_ensure_ascii)}
        except Exception as exc:
            return _error(exc)
    if op == "loads":
        inv = wire.Invocation("r", 0, "", eval(case["expr"]))
        try:
            return {"repr": repr(invoke.decode_event(inv))}
        except FaultError as exc:
            return {"error_type": exc.error_type, "error": exc.message}
    if op == "init":
        from lambdarig.runtime_client import loop

        config = RuntimeConfig.from_environ(
            {**os.environ, "AWS_LAMBDA_RUNTIME_API": "x"}, [case["handler"]]
        )
        capture = _Capture()
        try:
            status = loop.run(config, capture, logs.setup_logging(config))  # type: ignore[arg-type]
        except _Stop:
            return {"loaded": True}
        return {"exit": status, **capture.posted[0]}
    if op == "invoke":
        sink = logs.make_sink(config)
        logs.install_handler(config, sink)
        inv = wire.Invocation(
            case["request_id"],
            case.get("deadline_ms", 4102444800000),
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            eval(case["body"]),
            content_type=case.get("content_type", "application/json"),
            client_context=case.get("client_context"),
            cognito_identity=case.get("cognito_identity"),
            tenant_id=case.get("tenant_id"),
        )
        invoker = invoke.Invoker(handler.load_handler(case["handler"]), config, sink)
        outcome = invoker.invoke(inv)
        if outcome.ok:
            body = outcome.body.decode("latin-1")
            return {"ok": True, "body": body, "content_type": outcome.content_type}
        return {"ok": False, "body": outcome.body.decode(), "xray": outcome.xray_cause or ""}
    if op == "context":
        inv = wire.Invocation(
            "req-1",
            4102444800000,
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            b"",
            client_context=case.get("client_context"),
            cognito_identity=case.get("cognito_identity"),
            tenant_id=case.get("tenant_id"),
        )
        try:
            return _describe_context(context.context_for(inv, config))
        except FaultError as exc:
            return {"error_type": exc.error_type, "error": exc.message}
    if op == "log_error":
        logs.make_sink(config).log_error(case["error"])
        return None
    if op == "telemetry":
        read_fd, write_fd = os.pipe()
        environ = {
            **os.environ,
            "AWS_LAMBDA_RUNTIME_API": "x",
            "_LAMBDA_TELEMETRY_LOG_FD": str(write_fd),
        }
        sink = logs.make_sink(RuntimeConfig.from_environ(environ, ["h.h"]))
        logs.install_handler(config, sink)
        logs.set_request_context(case.get("request_id") or "", case.get("tenant_id"))
        exec(case["code"], {"logging": logging})
        sink.log_error(case["error"])
        sink.close()
        return _read_frames(read_fd)
    if op == "logging":
        logs.install_handler(config, logs.make_sink(config))
        logs.set_request_context(case.get("request_id") or "", case.get("tenant_id"))
        exec(case["code"], {"logging": logging})
        return None
    raise ValueError(op)


def _read_frames(fd: int) -> list[Any]:
    """Parse telemetry frames: [type as hex, message, timestamp within the last minute?]."""
    import time

    with open(fd, "rb") as pipe:
        data = pipe.read()
    frames, now_us = [], time.time_ns() // 1000
    while data:
        length = int.from_bytes(data[4:8], "big")
        stamp = int.from_bytes(data[8:16], "big")
        message = data[16 : 16 + length].decode()
        frames.append([data[:4].hex(), message, 0 <= now_us - stamp < 60_000_000])
        data = data[16 + length :]
    return frames


def _describe_context(ctx: Any) -> dict[str, Any]:
    names = (
        "aws_request_id log_group_name log_stream_name function_name memory_limit_in_mb "
        "function_version invoked_function_arn tenant_id"
    ).split()
    described = {name: getattr(ctx, name) for name in names}
    described["repr"] = repr(ctx)
    described["w3c"] = ctx.w3c()
    described["identity"] = repr(ctx.identity)
    described["client_context"] = repr(ctx.client_context)
    described["remaining_is_int"] = type(ctx.get_remaining_time_in_millis()).__name__
    return described


def _main() -> None:
    side = sys.argv[1]
    run = _ric if side == "ric" else _ours
    cases = json.loads(sys.stdin.read())
    results = []
    for case in cases:
        results.append(run(case))
        sys.stdout.write("\n@@CASE@@\n")
        root = logging.getLogger()
        for installed in list(root.handlers):
            root.removeHandler(installed)
    sys.stdout.write("\n@@RESULTS@@\n" + json.dumps(results))
    sys.stdout.flush()


if __name__ == "__main__":
    _main()
