"""The child side of :mod:`probe`: runs the cases it reads on stdin on one side, prints results.

``python probe_child.py ric|ours`` with awslambdaric importable and ``src`` on ``PYTHONPATH``. A
case is a dict with an ``op`` (a key of :data:`OPS`) and Python expressions (strings) for values
JSON cannot carry. Each case's log output is followed by ``@@CASE@@``; the JSON list of results
comes last, after ``@@RESULTS@@``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, Callable, Dict


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

    def wait_next_invocation(self, while_waiting: Any = None) -> Any:
        raise _Stop

    next_invocation = wait_next_invocation

    def post_invocation_result(self, invoke_id: str, result: Any, ctype: str, inv: Any) -> None:
        body = result if isinstance(result, bytes) else result.encode()
        self.posted.append({"ok": True, "body": body.decode("latin-1"), "content_type": ctype})

    def post_invocation_error(self, invoke_id: str, body: str, xray: str, inv: Any) -> None:
        self.posted.append({"ok": False, "body": body, "xray": xray})


def _error(exc: BaseException) -> dict[str, str]:
    return {"error_class": type(exc).__name__, "error": str(exc)}


ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"
DEADLINE_MS = 4102444800000
Op = Callable[[Dict[str, Any]], Any]


# --- awslambdaric's side ------------------------------------------------------------------------


def _ric_setup_logging(sink: Any, case: dict[str, Any]) -> None:
    from awslambdaric import bootstrap

    bootstrap._setup_logging(
        bootstrap._AWS_LAMBDA_LOG_FORMAT, bootstrap._AWS_LAMBDA_LOG_LEVEL, sink
    )
    bootstrap._GLOBAL_AWS_REQUEST_ID = case.get("request_id")
    bootstrap._GLOBAL_TENANT_ID = case.get("tenant_id")


def _ric_dumps(case: dict[str, Any]) -> Any:
    from awslambdaric.lambda_runtime_marshaller import to_json

    try:
        return {"json": to_json(eval(case["expr"]))}
    except Exception as exc:
        return _error(exc)


def _ric_loads(case: dict[str, Any]) -> Any:
    from awslambdaric.lambda_runtime_exception import FaultException
    from awslambdaric.lambda_runtime_marshaller import LambdaMarshaller

    try:
        return {"repr": repr(LambdaMarshaller().unmarshal_request(eval(case["expr"])))}
    except FaultException as exc:
        return {"error_type": exc.exception_type, "error": exc.msg}


def _ric_init(case: dict[str, Any]) -> Any:
    from awslambdaric import bootstrap

    capture = _Capture()
    try:
        bootstrap.run(case["handler"], capture)
    except _Stop:
        return {"loaded": True}
    except SystemExit as exc:
        return {"exit": exc.code, **capture.posted[0]}
    raise AssertionError("bootstrap.run returned")


def _ric_invoke(case: dict[str, Any]) -> Any:
    from awslambdaric import bootstrap

    capture = _Capture()
    sink = bootstrap.StandardLogSink()
    _ric_setup_logging(sink, {"request_id": case["request_id"]})
    bootstrap.handle_event_request(
        capture,
        bootstrap._get_handler(case["handler"]),
        case["request_id"],
        eval(case["body"]),
        case.get("content_type", "application/json"),
        case.get("client_context"),
        case.get("cognito_identity"),
        ARN,
        case.get("deadline_ms", DEADLINE_MS),
        case.get("tenant_id"),
        sink,
    )
    return capture.posted[0]


def _ric_context(case: dict[str, Any]) -> Any:
    from awslambdaric import bootstrap
    from awslambdaric.lambda_runtime_exception import FaultException

    try:
        ctx = bootstrap.create_lambda_context(
            case.get("client_context"),
            case.get("cognito_identity"),
            DEADLINE_MS,
            "req-1",
            ARN,
            case.get("tenant_id"),
        )
    except FaultException as exc:
        return {"error_type": exc.exception_type, "error": exc.msg}
    return _describe_context(ctx)


def _ric_log_error(case: dict[str, Any]) -> Any:
    from awslambdaric import bootstrap

    bootstrap.log_error(case["error"], bootstrap.StandardLogSink())
    return None


def _ric_telemetry(case: dict[str, Any]) -> Any:
    from awslambdaric import bootstrap

    read_fd, write_fd = os.pipe()
    with bootstrap.FramedTelemetryLogSink(write_fd) as sink:
        _ric_setup_logging(sink, case)
        exec(case["code"], {"logging": logging})
        bootstrap.log_error(case["error"], sink)
    return _read_frames(read_fd)


def _ric_logging(case: dict[str, Any]) -> Any:
    from awslambdaric import bootstrap

    _ric_setup_logging(bootstrap.StandardLogSink(), case)
    exec(case["code"], {"logging": logging})
    return None


# --- lambdarig's side ---------------------------------------------------------------------------


def _our_config(handler: str = "h.h", **environ: str) -> Any:
    from lambdarig.runtime_client.config import RuntimeConfig

    return RuntimeConfig.from_environ(
        {**os.environ, "AWS_LAMBDA_RUNTIME_API": "x", **environ}, [handler]
    )


def _our_invocation(case: dict[str, Any], request_id: str, body: bytes) -> Any:
    from lambdarig import runtime_api as wire

    return wire.Invocation(
        request_id,
        case.get("deadline_ms", DEADLINE_MS),
        ARN,
        body,
        content_type=case.get("content_type", "application/json"),
        client_context=case.get("client_context"),
        cognito_identity=case.get("cognito_identity"),
        tenant_id=case.get("tenant_id"),
    )


def _ours_dumps(case: dict[str, Any]) -> Any:
    from lambdarig.runtime_client import marshal

    try:
        return {"json": marshal.dumps(eval(case["expr"]), _our_config().json_ensure_ascii)}
    except Exception as exc:
        return _error(exc)


def _ours_loads(case: dict[str, Any]) -> Any:
    from lambdarig import runtime_api as wire
    from lambdarig.runtime_client import invoke
    from lambdarig.runtime_client.errors import FaultError

    try:
        return {"repr": repr(invoke.decode_event(wire.Invocation("r", 0, "", eval(case["expr"]))))}
    except FaultError as exc:
        return {"error_type": exc.error_type, "error": exc.message}


def _ours_init(case: dict[str, Any]) -> Any:
    from lambdarig.runtime_client import logs, loop

    config = _our_config(case["handler"])
    capture = _Capture()
    try:
        status = loop.run(config, capture, logs.setup_logging(config))  # type: ignore[arg-type]
    except _Stop:
        return {"loaded": True}
    return {"exit": status, **capture.posted[0]}


def _ours_invoke(case: dict[str, Any]) -> Any:
    from lambdarig.runtime_client import handler, invoke, logs, sinks

    config = _our_config()
    sink = sinks.make_sink(config)
    logs.install_handler(config, sink)
    inv = _our_invocation(case, case["request_id"], eval(case["body"]))
    outcome = invoke.Invoker(handler.load_handler(case["handler"]), config, sink).invoke(inv)
    if outcome.ok:
        body = outcome.body.decode("latin-1")
        return {"ok": True, "body": body, "content_type": outcome.content_type}
    return {"ok": False, "body": outcome.body.decode(), "xray": outcome.xray_cause or ""}


def _ours_context(case: dict[str, Any]) -> Any:
    from lambdarig.runtime_client import context
    from lambdarig.runtime_client.errors import FaultError

    inv = _our_invocation(case, "req-1", b"")
    try:
        return _describe_context(context.context_for(inv, _our_config()))
    except FaultError as exc:
        return {"error_type": exc.error_type, "error": exc.message}


def _ours_log_error(case: dict[str, Any]) -> Any:
    from lambdarig.runtime_client import sinks

    sinks.make_sink(_our_config()).log_error(case["error"])
    return None


def _ours_telemetry(case: dict[str, Any]) -> Any:
    from lambdarig.runtime_client import logs, sinks

    read_fd, write_fd = os.pipe()
    sink = sinks.make_sink(_our_config(_LAMBDA_TELEMETRY_LOG_FD=str(write_fd)))
    logs.install_handler(_our_config(), sink)
    sinks.set_request_context(case.get("request_id") or "", case.get("tenant_id"))
    exec(case["code"], {"logging": logging})
    sink.log_error(case["error"])
    sink.close()
    return _read_frames(read_fd)


def _ours_logging(case: dict[str, Any]) -> Any:
    from lambdarig.runtime_client import logs, sinks

    config = _our_config()
    logs.install_handler(config, sinks.make_sink(config))
    sinks.set_request_context(case.get("request_id") or "", case.get("tenant_id"))
    exec(case["code"], {"logging": logging})
    return None


OPS: dict[str, dict[str, Op]] = {
    side: {
        op: globals()[f"_{side}_{op}"]
        for op in (
            "dumps",
            "loads",
            "init",
            "invoke",
            "context",
            "log_error",
            "telemetry",
            "logging",
        )
    }
    for side in ("ric", "ours")
}


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
    ops = OPS[side]
    cases = json.loads(sys.stdin.read())
    results = []
    for case in cases:
        results.append(ops[case["op"]](case))
        sys.stdout.write("\n@@CASE@@\n")
        root = logging.getLogger()
        for installed in list(root.handlers):
            root.removeHandler(installed)
    sys.stdout.write("\n@@RESULTS@@\n" + json.dumps(results))
    sys.stdout.flush()


if __name__ == "__main__":
    _main()
