"""SnapStart runtime hooks (``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``), run as awslambdaric.

After the handler loaded: before-snapshot hooks (last registered first) → ``GET /restore/next``
(returns once the environment was restored from the snapshot) → after-restore hooks (first
registered first). Hooks are registered by user code through the optional ``snapshot_restore_py``
package; without it there are no hooks, and ``/restore/next`` is still called.

Failures (the error is logged like an init error, without the LAMBDA_WARNING line):
- a before-snapshot hook or ``/restore/next`` fails → ``POST /init/error`` with
  ``Lambda-Runtime-Function-Error-Type: Runtime.BeforeSnapshotError``, exit status 64;
- an after-restore hook fails → ``POST /restore/error`` with
  ``Lambda-Runtime-Function-Error-Type: Runtime.AfterRestoreError``, exit status 65.
The posted body is awslambdaric's error JSON (``errorType`` = the exception's class name).
Unlike awslambdaric's bare ``except:``, ``SystemExit``/``KeyboardInterrupt`` (e.g. SIGTERM while
waiting on ``/restore/next``) propagate instead of being reported as hook failures.
"""

from __future__ import annotations

from lambdarig import runtime_api as wire
from lambdarig.runtime_client.errors import RuntimeClientError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from lambdarig.runtime_client.client import RuntimeAPIClient
    from lambdarig.runtime_client.config import RuntimeConfig
    from lambdarig.runtime_client.sinks import LogSink

    Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

EXIT_BEFORE_SNAPSHOT_ERROR = 64
EXIT_AFTER_RESTORE_ERROR = 65
POST_FAILED_LOG = "LAMBDA_RUNTIME Could not report the SnapStart hook failure: {error}\n"


def run_hooks(config: RuntimeConfig, client: RuntimeAPIClient, sink: LogSink) -> int:
    """Run the SnapStart phase; 0 when the loop may start, else the exit status (64 or 65).

    Blocks in ``/restore/next`` until the platform restores the snapshot. A Runtime API failure
    while reporting a hook failure is logged; the exit status stays 64/65.
    """
    before, after = _registries()
    try:
        while before:
            func, args, kwargs = before.pop()
            func(*args, **kwargs)
        client.restore_next()
    except Exception as exc:
        body = _log_fault(config, sink, exc)
        _post(sink, client.post_init_error, body, wire.RUNTIME_BEFORE_SNAPSHOT_ERROR)
        return EXIT_BEFORE_SNAPSHOT_ERROR
    try:
        for func, args, kwargs in after:
            func(*args, **kwargs)
    except Exception as exc:
        body = _log_fault(config, sink, exc)
        _post(sink, client.post_restore_error, body, wire.RUNTIME_AFTER_RESTORE_ERROR)
        return EXIT_AFTER_RESTORE_ERROR
    return 0


def _registries() -> tuple[list[Hook], list[Hook]]:
    """The live hook lists of ``snapshot_restore_py``, or two empty lists when it is absent."""
    try:
        import snapshot_restore_py  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return [], []
    before: list[Hook] = snapshot_restore_py.get_before_snapshot()
    after: list[Hook] = snapshot_restore_py.get_after_restore()
    return before, after


def _log_fault(config: RuntimeConfig, sink: LogSink, exc: BaseException) -> bytes:
    """Log ``exc`` as awslambdaric's ``build_fault_result`` + ``log_error``; return the body."""
    from lambdarig.runtime_client.invoke import format_frames, make_error, user_frames
    from lambdarig.runtime_client.marshal import dumps

    trace = format_frames(user_frames(exc.__traceback__))
    error = make_error(str(exc), type(exc).__name__, trace)
    sink.log_error(error)
    return dumps(error, config.json_ensure_ascii).encode("utf-8")


def _post(sink: LogSink, post: Callable[[bytes, str], None], body: bytes, error_type: str) -> None:
    try:
        post(body, error_type)
    except RuntimeClientError as exc:
        sink.log(POST_FAILED_LOG.format(error=exc))
