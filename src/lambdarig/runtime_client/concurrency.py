"""Multi-concurrency (Lambda Managed Instances): ``AWS_LAMBDA_MAX_CONCURRENCY=N`` → N workers.

Each worker is a whole runtime (it loads the handler and runs its own ``/next`` loop against the
same Runtime API), with awslambdaric's rules for this mode, carried by
:class:`MultiConcurrentClient`:
- ``/next`` is tried up to 5 times in total, sleeping 0.1 s before the first retry and doubling;
- a failed ``/response`` or ``/error`` post is logged (``<error>: This won't kill the Runtime
  loop``) and the loop goes on;
- a 403 on ``/init/error`` is swallowed (another worker already reported the init failure).
With ``_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET`` set, each worker connects one AF_UNIX stream per
standard stream and ``dup2``s it over stdout and stderr. The telemetry log fd is consumed and
closed by the parent's logging setup; workers log to stdout (as awslambdaric's workers do).

Before forking, the parent logs awslambdaric's ``runtime_worker_pool_initializing`` DEBUG record
(visible with ``AWS_LAMBDA_LOG_LEVEL=DEBUG``). Then it only supervises: it waits for every worker
and exits with the first non-zero worker status (0 if all exited 0). When the parent is asked to
exit (SIGTERM raises ``SystemExit``), it sends SIGTERM to the live workers, waits up to
``TERMINATE_GRACE_S``, then SIGKILLs. Workers also ask Linux to SIGTERM them if the parent dies
without that chance (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import logging
import os
import time

from lambdarig.runtime_client.client import RuntimeAPIClient
from lambdarig.runtime_client.errors import RuntimeAPIError, RuntimeClientError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, NoReturn

    from lambdarig.runtime_api import Invocation
    from lambdarig.runtime_client.config import RuntimeConfig
    from lambdarig.runtime_client.streaming import ResponseStream
    from lambdarig.runtime_client.transport import Transport

WORKER_POOL_INITIALIZING_EVENT = "runtime_worker_pool_initializing"
NEXT_MAX_ATTEMPTS = 5
NEXT_INITIAL_DELAY_S = 0.1
NEXT_BACKOFF_FACTOR = 2.0
TERMINATE_GRACE_S = 3.0
_PR_SET_PDEATHSIG = 1
_SIGTERM = 15
_SIGKILL = 9


class MultiConcurrentClient(RuntimeAPIClient):
    """A :class:`RuntimeAPIClient` with the policy of ``LambdaMultiConcurrentRuntimeClient``.

    Log lines go to the root logger with awslambdaric's exact wording.
    """

    def __init__(self, transport: Transport, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(transport)
        self._sleep = sleep

    def next_invocation(self, while_waiting: Callable[[], object] | None = None) -> Invocation:
        try:
            return super().next_invocation(while_waiting)
        except RuntimeClientError as exc:
            last = exc
        logging.warning(f"Initial runtime_client.next() failed: {last}")
        delay = NEXT_INITIAL_DELAY_S
        for attempt in range(2, NEXT_MAX_ATTEMPTS + 1):
            try:
                logging.info(f"Retrying runtime_client.next() [attempt {attempt}]...")
                self._sleep(delay)
                return super().next_invocation()
            except RuntimeClientError as exc:
                logging.warning(f"Attempt {attempt} failed: {exc}")
                delay *= NEXT_BACKOFF_FACTOR
                last = exc
        raise last

    def post_response(self, inv: Invocation, body: bytes, content_type: str) -> None:
        try:
            super().post_response(inv, body, content_type)
        except RuntimeClientError as exc:
            logging.warning(f"{exc}: This won't kill the Runtime loop")

    def post_stream(self, inv: Invocation, stream: ResponseStream) -> None:
        try:
            super().post_stream(inv, stream)
        except RuntimeClientError as exc:
            logging.warning(f"{exc}: This won't kill the Runtime loop")

    def post_error(self, inv: Invocation, body: bytes, xray_cause: str | None) -> None:
        try:
            super().post_error(inv, body, xray_cause)
        except RuntimeClientError as exc:
            logging.warning(f"{exc}: This won't kill the Runtime loop")

    def post_init_error(self, body: bytes, error_type: str, xray_cause: str | None = None) -> None:
        try:
            super().post_init_error(body, error_type, xray_cause)
        except RuntimeAPIError as exc:
            if exc.status != 403:
                raise


def run_worker(config: RuntimeConfig) -> int:
    """One worker's runtime: the single-process runtime with a :class:`MultiConcurrentClient`."""
    from lambdarig.runtime_client.loop import run
    from lambdarig.runtime_client.session import RuntimeSession

    with RuntimeSession(config, MultiConcurrentClient) as session:
        return run(config, session.client, session.sink)


def run_workers(config: RuntimeConfig, worker: Callable[[RuntimeConfig], int] | None = None) -> int:
    """Fork ``config.max_concurrency`` workers running ``worker`` (default :func:`run_worker`),
    wait for all of them and return the first non-zero exit status (else 0).

    Blocks until every worker has exited. On ``SystemExit``/``KeyboardInterrupt`` in the parent,
    terminates the workers (SIGTERM, grace, SIGKILL) before propagating.
    """
    import sys

    worker = run_worker if worker is None else worker
    _emit_worker_pool_event(config)
    worker_config = _without_telemetry_fd(config)
    parent = os.getpid()
    live: dict[int, None] = {}
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        for _ in range(config.max_concurrency or 1):
            pid = os.fork()
            if pid == 0:
                _worker_main(worker, worker_config, parent)
            live[pid] = None
        return _wait_all(live)
    finally:
        _terminate(live)


def _emit_worker_pool_event(config: RuntimeConfig) -> None:
    """awslambdaric's one DEBUG record from the parent before forking, through a logging setup
    that is torn down again (which also consumes and closes the telemetry log fd)."""
    from lambdarig.runtime_client.logs import setup_logging

    sink = setup_logging(config)
    root = logging.getLogger()
    try:
        root.debug(
            {
                "event": WORKER_POOL_INITIALIZING_EVENT,
                "workerCount": config.max_concurrency,
                "executionEnvironmentMaxConcurrency": config.max_concurrency,
            }
        )
    finally:
        root.handlers.clear()
        sink.close()


def _wait_all(live: dict[int, None]) -> int:
    status = 0
    while live:
        pid, wait_status = os.wait()
        if pid in live:
            del live[pid]
            code = os.waitstatus_to_exitcode(wait_status)
            code = 128 - code if code < 0 else code
            status = status or code
    return status


def _terminate(live: dict[int, None]) -> None:
    for pid in live:
        _kill(pid, _SIGTERM)
    deadline = time.monotonic() + TERMINATE_GRACE_S
    while live and time.monotonic() < deadline:
        for pid in list(live):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                del live[pid]
        if live:
            time.sleep(0.01)
    for pid in list(live):
        _kill(pid, _SIGKILL)
        os.waitpid(pid, 0)
        del live[pid]


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass  # already exited; it is reaped by the caller


def _worker_main(
    worker: Callable[[RuntimeConfig], int], config: RuntimeConfig, parent: int
) -> NoReturn:
    """The body of a forked worker. Never returns into the parent's stack: ends in ``os._exit``."""
    import atexit
    import sys

    code = 1
    try:
        _die_with_parent(parent)
        if config.telemetry_fd_provider_socket:
            _redirect_output(config.telemetry_fd_provider_socket)
        code = worker(config)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _die_with_parent(parent: int) -> None:
    """Ask Linux for SIGTERM when the parent dies; exit now if it already did."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, _SIGTERM)
    except (ImportError, OSError, AttributeError):
        pass  # not Linux: the parent's SIGTERM handling still reaps workers
    if os.getppid() != parent:
        raise SystemExit(128 + _SIGTERM)


def _redirect_output(socket_path: str) -> None:
    import socket
    import sys

    for stream in (sys.stdout, sys.stderr):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(socket_path)
            os.dup2(sock.fileno(), stream.fileno())


def _without_telemetry_fd(config: RuntimeConfig) -> RuntimeConfig:
    from lambdarig.runtime_client.config import RuntimeConfig

    fields = {name: getattr(config, name) for name in RuntimeConfig.__slots__}
    fields["telemetry_log_fd"] = None  # the parent's logging setup closed it
    return RuntimeConfig(**fields)
