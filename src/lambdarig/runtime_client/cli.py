"""``lambdarig-runtime HANDLER`` / ``python -m lambdarig.runtime_client HANDLER``.

argv and environment → :class:`RuntimeConfig` → the runtime loop in this process, or N worker
processes when ``AWS_LAMBDA_MAX_CONCURRENCY`` is set.

Exit statuses: 2 for a configuration error (one line on stderr), 1 for an init error or a fatal
Runtime API failure, 64/65 for SnapStart hook failures, 143 (128 + SIGTERM) when terminated.
SIGTERM raises ``SystemExit`` in the main thread so ``finally`` blocks and ``atexit`` handlers run
(awslambdaric leaves SIGTERM at its default, which kills the process without either); one that a
weakref callback swallowed is raised again before the next ``/next`` (``termination``).
``/next`` is read on the main thread: a signal interrupts the blocking read and its handler runs
(PEP 475), so awslambdaric's helper-thread polling (python3.12+ execution environments) is not
needed for signals to arrive.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found, unused-ignore]  # `signal` costs enum
import os
import sys

from lambdarig.runtime_client import termination
from lambdarig.runtime_client.config import TELEMETRY_LOG_FD_VAR, RuntimeConfig
from lambdarig.runtime_client.errors import ClientConfigError

TYPE_CHECKING = False  # typing is not imported at run time (cold start)
if TYPE_CHECKING:
    from collections.abc import Sequence

PROG = "lambdarig-runtime"
EXIT_CONFIG_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the runtime client; ``argv`` are the arguments after the program name (the handler)."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        config = RuntimeConfig.from_environ(os.environ, args)
        _check(config)
    except ClientConfigError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return EXIT_CONFIG_ERROR
    # awslambdaric removes the telemetry fd variable so user code and children do not inherit it.
    os.environ.pop(TELEMETRY_LOG_FD_VAR, None)
    _signal.signal(_signal.SIGTERM, termination.on_signal)
    _make_task_root_importable(config.task_root)
    if config.max_concurrency is not None:
        from lambdarig.runtime_client.concurrency import run_workers

        return run_workers(config)
    from lambdarig.runtime_client.loop import run
    from lambdarig.runtime_client.session import RuntimeSession

    # Called from here, not from a helper: the handler then runs at the same stack depth as
    # under awslambdaric (main -> run -> invoke -> handler), so a RecursionError reports the
    # same number of frames.
    with RuntimeSession(config) as session:
        return run(config, session.client, session.sink)


def _check(config: RuntimeConfig) -> None:
    from lambdarig.runtime_client.transport import SocketTransport

    try:
        SocketTransport(config.runtime_api)
    except ValueError as exc:
        raise ClientConfigError(f"AWS_LAMBDA_RUNTIME_API: {exc}") from None
    if config.max_concurrency is not None and config.max_concurrency < 1:
        raise ClientConfigError(
            f"AWS_LAMBDA_MAX_CONCURRENCY must be a positive integer, got {config.max_concurrency}"
        )


def _make_task_root_importable(task_root: str | None) -> None:
    """Make sure the working directory, then ``LAMBDA_TASK_ROOT``, are on ``sys.path``.

    ``python -m awslambdaric`` gets the working directory (``/var/task`` in Lambda) on
    ``sys.path`` from ``-m``; a console script would get its ``bin`` directory instead.
    """
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if task_root and task_root not in sys.path:
        sys.path.insert(sys.path.index(cwd) + 1, task_root)
