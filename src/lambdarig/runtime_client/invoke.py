"""Run the handler for one invocation and turn whatever happens into an :class:`Outcome`.

Mirrors awslambdaric's ``handle_event_request`` / ``build_fault_result``
(awslambdaric/bootstrap.py): the event is decoded, the handler called, the result encoded; a
:class:`FaultError` (marshalling, context headers) or any exception the handler raises becomes the
error JSON ``{"errorMessage", "errorType", "requestId", "stackTrace"}``, which is logged through the
sink and returned with its X-Ray cause. Stack traces start at the first frame that is not ours:
leading frames are dropped by module identity (``lambdarig.runtime_client.*``, and ``asyncio.*`` for
async handlers), where awslambdaric drops frames whose file name contains ``/bootstrap.py``.

A streamed result (see :mod:`lambdarig.runtime_client.streaming`) becomes an outcome carrying a
:class:`~lambdarig.runtime_client.streaming.ResponseStream`; its first chunk is produced here (a
failure before it is an ordinary error outcome), the rest while the loop posts it. A failure after
the first chunk is logged and turned into the same error JSON, carried by the stream.

No Runtime API I/O happens here; the loop posts the outcome.
"""

from __future__ import annotations

import os

from lambdarig import runtime_api as wire
from lambdarig.runtime_client import marshal, sinks, streaming, xray
from lambdarig.runtime_client.context import context_for
from lambdarig.runtime_client.errors import FaultError

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any, Callable

    from lambdarig.runtime_client.aio import AsyncRunner
    from lambdarig.runtime_client.config import RuntimeConfig

TRACE_ID_ENV = "_X_AMZN_TRACE_ID"
# Frames from these modules are never the start of a user's stack trace.
_OWN_MODULE_PREFIXES = ("lambdarig.runtime_client", "asyncio")


async def _coroutine() -> None:
    """Only here to name the coroutine type without importing ``types`` (or ``inspect``)."""


_probe = _coroutine()
CoroutineType = type(_probe)
_probe.close()
del _probe

UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: "
    "Unhandled exception. "
    "The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. "
    "To determine if the runtime has been updated, check the runtime version in the INIT_START "
    "log entry. "
    "If this error correlates with a change in the runtime version, you may be able to mitigate "
    "this error by temporarily rolling back to the previous runtime version. "
    "For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


class Outcome:
    """What the loop posts: a response (``ok``), streamed when ``stream`` is set, or an error JSON
    with its optional X-Ray cause."""

    __slots__ = ("ok", "body", "content_type", "xray_cause", "error_type", "stream")

    def __init__(
        self,
        ok: bool,
        body: bytes,
        content_type: str,
        xray_cause: str | None = None,
        error_type: str | None = None,
        stream: streaming.ResponseStream | None = None,
    ) -> None:
        self.ok = ok
        self.body = body
        self.content_type = content_type
        self.xray_cause = xray_cause
        self.error_type = error_type
        self.stream = stream

    def __repr__(self) -> str:
        return (
            f"Outcome(ok={self.ok}, content_type={self.content_type!r}, "
            f"error_type={self.error_type!r}, body={self.body[:200]!r})"
        )


def make_error(
    message: str, error_type: str, stack_trace: list[str] | None, request_id: str | None = None
) -> dict[str, Any]:
    """The error JSON object in awslambdaric's key order; empty values become ``""``/``[]``."""
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def user_frames(tb: TracebackType | None) -> list[tuple[str, int, str, str | None]]:
    """``(filename, lineno, name, line)`` of ``tb`` from the first frame that is not ours.

    If every frame is ours (e.g. the handler is not callable) all are kept, as awslambdaric does.
    """
    import traceback  # error path only

    first = tb
    while first is not None:
        module = first.tb_frame.f_globals.get("__name__", "")
        if not isinstance(module, str) or not module.startswith(_OWN_MODULE_PREFIXES):
            break
        first = first.tb_next
    frames = traceback.extract_tb(first if first is not None else tb)
    return [(f.filename, f.lineno or 0, f.name, f.line) for f in frames]


def format_frames(frames: list[tuple[str, int, str, str | None]]) -> list[str]:
    """``traceback.format_list`` of plain tuples (so no 3.11+ caret lines), as awslambdaric."""
    import traceback  # error path only

    return traceback.format_list(frames)


def init_error_outcome(exc: BaseException, sink: sinks.LogSink) -> Outcome:
    """Report an exception raised while loading the handler: warning line, error log, outcome.

    The error JSON has ``requestId: ""``; no X-Ray cause (awslambdaric sends none on init).
    """
    if isinstance(exc, FaultError):
        error = make_error(exc.message, exc.error_type, exc.stack_trace)
    else:
        trace = format_frames(user_frames(exc.__traceback__))
        error = make_error(str(exc), type(exc).__name__, trace)
    import logging  # configures the root handler now if nothing imported logging yet

    logging.warning(UNHANDLED_EXCEPTION_WARNING)
    sink.log_error(error)
    body = marshal.dumps(error, sink.ensure_ascii).encode("utf-8")
    return Outcome(False, body, wire.CONTENT_TYPE_JSON, None, error["errorType"])


def decode_event(inv: wire.Invocation) -> Any:
    """The handler's event: parsed JSON when the content type is exactly JSON, else the bytes."""
    if inv.content_type != wire.CONTENT_TYPE_JSON:
        return inv.body
    try:
        return marshal.loads(inv.body)
    except Exception as exc:  # awslambdaric reports every decode failure the same way
        raise FaultError(f"Unable to unmarshal input: {exc}", wire.RUNTIME_UNMARSHAL_ERROR) from exc


def encode_result(result: Any, ensure_ascii: bool) -> tuple[bytes, str]:
    """``bytes`` go out raw as ``application/unknown``; anything else as JSON."""
    if isinstance(result, bytes):
        return result, wire.CONTENT_TYPE_UNKNOWN
    try:
        return marshal.dumps(result, ensure_ascii).encode("utf-8"), wire.CONTENT_TYPE_JSON
    except Exception as exc:  # awslambdaric reports every encode failure the same way
        raise FaultError(f"Unable to marshal response: {exc}", wire.RUNTIME_MARSHAL_ERROR) from exc


class Invoker:
    """Calls one loaded handler per invocation. Not thread-safe: one invocation at a time.

    ``invoke`` blocks while the handler runs and never raises for anything the handler or its
    data does; ``SystemExit``/``KeyboardInterrupt`` propagate.
    """

    def __init__(
        self,
        handler: Callable[..., Any],
        config: RuntimeConfig,
        sink: sinks.LogSink,
        environ: Any = None,
    ) -> None:
        self.handler = handler
        self.config = config
        self.sink = sink
        self.environ = os.environ if environ is None else environ
        self._async: AsyncRunner | None = None

    def prepare(self) -> None:
        """Ready what the first invocation needs (the JSON marshaller); the loop calls it while
        its first ``/next`` waits. Best effort: if that fails (a ``json.py`` in the task root
        shadowing the standard library's), the failure is met again at the first event and
        reported as that invocation's error, as it would have been without this call."""
        try:
            marshal.warm(self.config.json_ensure_ascii)
        except Exception:
            pass  # reported where it always was: decoding the event, encoding the result

    def invoke(self, inv: wire.Invocation) -> Outcome:
        """Run the handler for ``inv`` and return the outcome to post."""
        if inv.trace_id is not None:
            self.environ[TRACE_ID_ENV] = inv.trace_id
        else:
            self.environ.pop(TRACE_ID_ENV, None)
        sinks.set_request_context(inv.request_id, inv.tenant_id)
        ensure_ascii = self.config.json_ensure_ascii
        try:
            context = context_for(inv, self.config)
            result = self.handler(decode_event(inv), context)
            if isinstance(result, CoroutineType):
                result = self._run_async(result)
            if streaming.is_streamed(result):
                return self._stream(result, inv.request_id)
            body, content_type = encode_result(result, ensure_ascii)
        except Exception as exc:
            return self._error_outcome(exc, inv.request_id)
        return Outcome(True, body, content_type)

    def _stream(self, result: Any, request_id: str) -> Outcome:
        def on_error(exc: Exception) -> tuple[str, bytes]:
            outcome = self._error_outcome(exc, request_id)
            return outcome.error_type or wire.RUNTIME_UNKNOWN, outcome.body

        stream = streaming.open_stream(result, self._run_async, on_error)
        assert stream is not None  # is_streamed(result) held
        return Outcome(True, b"", stream.content_type, stream=stream)

    def _error_outcome(self, exc: Exception, request_id: str) -> Outcome:
        """Log ``exc`` as a function error and return the outcome reporting it."""
        ensure_ascii = self.config.json_ensure_ascii
        if isinstance(exc, FaultError):
            cause = xray.error_cause(
                xray.VALIDATION_ERROR_TYPE, exc.message, os.getcwd(), [], ensure_ascii
            )
            error = make_error(exc.message, exc.error_type, exc.stack_trace, request_id)
            return self._failure(error, cause)
        frames = user_frames(exc.__traceback__)
        name = type(exc).__name__
        cause = xray.error_cause(name, str(exc), os.getcwd(), frames, ensure_ascii)
        error = make_error(str(exc), name, format_frames(frames), request_id)
        return self._failure(error, cause)

    def _run_async(self, coroutine: Any) -> Any:
        if self._async is None:
            from lambdarig.runtime_client.aio import AsyncRunner

            self._async = AsyncRunner()
        return self._async.run(coroutine)

    def _failure(self, error: dict[str, Any], cause: str | None) -> Outcome:
        self.sink.log_error(error)
        body = marshal.dumps(error, self.config.json_ensure_ascii).encode("utf-8")
        return Outcome(False, body, wire.CONTENT_TYPE_JSON, cause, error["errorType"])

    def close(self) -> None:
        """Close the event loop of async handlers, if one was created."""
        if self._async is not None:
            self._async.close()
