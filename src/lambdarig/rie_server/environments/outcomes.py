"""The values an execution environment works with: its spec, an invoke request, and how it ended.

Plain frozen data plus the builders of outcomes (no I/O of their own); ``environment`` re-exports
the types, which are the contract the invoke front end codes against.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, NamedTuple

from lambdarig import runtime_api
from lambdarig.rie_server.runtime import protocol

if TYPE_CHECKING:
    import asyncio

    from lambdarig.rie_server.environments.supervisor import ProcessFactory, RuntimeProcess
    from lambdarig.rie_server.runtime.streaming import ResponseStream


class Finish(enum.Enum):
    """How the runtime finished an init or an invocation through the Runtime API."""

    RESPONSE = "response"
    ERROR = "error"
    TOO_LARGE = "too_large"
    INIT_ERROR = "init_error"


class Posted(NamedTuple):
    """What the runtime posted to finish an init or an invocation."""

    kind: Finish
    body: bytes = b""
    content_type: str | None = None
    error_type: str | None = None


class OutcomeKind(enum.Enum):
    """How an init or invoke ended."""

    SUCCESS = "success"  # runtime posted /response
    FUNCTION_ERROR = "error"  # runtime posted /invocation/{id}/error
    TIMEOUT = "timeout"  # deadline passed; process group killed, re-init next time
    CRASH = "crash"  # runtime exited during the invoke (incl. out-of-memory kill)
    INIT_ERROR = "init_error"  # /init/error posted, or exit / timeout during init
    RESPONSE_TOO_LARGE = "too_large"  # the runtime's result exceeded MAX_PAYLOAD_SIZE (it got 413)


@dataclass(frozen=True)
class EnvironmentSpec:
    """Everything needed to run the function's runtime; immutable for the environment's life."""

    command: tuple[str, ...]
    cwd: str | None
    env: Mapping[str, str]
    function_arn: str
    timeout_s: float
    memory_mb: int
    init_timeout_s: float = 10.0
    max_concurrency: int = 1
    runtime_api_address: str = "127.0.0.1:0"
    process_factory: ProcessFactory | None = None
    # ``<opt>/extensions``: its executables start as external extensions (process mode; in
    # container mode the factory's ``open_sandbox`` names the image's).
    extensions_dir: str | None = None
    # SnapStart: init ends at ``/restore/next``, then a restore runs the after-restore hooks.
    snapstart: bool = False
    # aws-lambda-rie's --enable-init-caching: credentials on the Runtime API socket
    # (``runtime.credentials``).
    init_caching: bool = False


@dataclass(frozen=True)
class InvokeRequest:
    """One invocation as the front end hands it over (already validated)."""

    request_id: str
    payload: bytes
    content_type: str = runtime_api.CONTENT_TYPE_JSON
    trace_id: str | None = None
    client_context: str | None = None
    cognito_identity: str | None = None
    tenant_id: str | None = None
    invoked_function_arn: str | None = None
    # Takes the function's response stream when it streams (else it is read and dropped).
    on_stream: Callable[[ResponseStream], None] | None = None


@dataclass(frozen=True)
class InvokeOutcome:
    """The result of an init or invoke; ``error_message`` is the service's text when synthesised."""

    kind: OutcomeKind
    body: bytes
    content_type: str | None
    error_type: str | None
    error_message: str | None
    duration_ms: float
    init_duration_ms: float | None
    max_memory_used_mb: int
    out_of_memory: bool = False
    exit_status: int | None = None
    restore_duration_ms: float | None = None  # SnapStart: the restore before this invoke
    restore_error: bool = False  # SnapStart: the restore failed (the Invoke API's SnapStart*)
    # The runtime's own share of ``duration_ms`` when extensions worked on after its response
    # (``platform.runtimeDone`` reports it; REPORT's Duration covers both, as on the service).
    runtime_duration_ms: float | None = None
    # Extensions still busy with this invoke when the caller gets its answer: the outcome REPORT
    # tells once every INVOKE subscriber called ``/event/next`` again (``None``: this one).
    settled: asyncio.Future[InvokeOutcome] | None = dataclasses.field(
        default=None, compare=False, repr=False
    )


_FINISH_KINDS = {
    Finish.RESPONSE: OutcomeKind.SUCCESS,
    Finish.ERROR: OutcomeKind.FUNCTION_ERROR,
    Finish.TOO_LARGE: OutcomeKind.RESPONSE_TOO_LARGE,
    Finish.INIT_ERROR: OutcomeKind.INIT_ERROR,
}

_TOO_LARGE = Finish.TOO_LARGE  # read per invoke: bound once (an Enum member read is slow)


def failure(
    kind: OutcomeKind,
    error_type: str | None,
    error_message: str | None,
    *,
    body: bytes = b"",
    content_type: str | None = None,
    duration_ms: float = 0.0,
    init_ms: float | None = None,
    memory: int = 0,
    out_of_memory: bool = False,
    exit_status: int | None = None,
) -> InvokeOutcome:
    """An outcome the emulator synthesises (timeout, crash, init failure...)."""
    return InvokeOutcome(
        kind=kind,
        body=body,
        content_type=content_type,
        error_type=error_type,
        error_message=error_message,
        duration_ms=duration_ms,
        init_duration_ms=init_ms,
        max_memory_used_mb=memory,
        out_of_memory=out_of_memory,
        exit_status=exit_status,
    )


def from_posted(
    posted: Posted, duration_ms: float, init_ms: float | None, memory: int
) -> InvokeOutcome:
    """The outcome of what the runtime posted (``/response``, ``/error``, ``/init/error``)."""
    message = None
    if posted.kind is _TOO_LARGE:
        message = protocol.response_too_large_message()
        posted = posted._replace(error_type=runtime_api.FUNCTION_RESPONSE_SIZE_TOO_LARGE)
    return failure(
        _FINISH_KINDS[posted.kind],
        posted.error_type,
        message,
        body=posted.body,
        content_type=posted.content_type,
        duration_ms=duration_ms,
        init_ms=init_ms,
        memory=memory,
    )


def crashed(
    kind: OutcomeKind,
    request_id: str | None,
    process: RuntimeProcess,
    exited: asyncio.Future[int],
    duration_ms: float,
) -> InvokeOutcome:
    """The outcome of a runtime process that exited (``exited`` is done) during an init or an
    invocation: ``Runtime.ExitError`` with its exit status, memory and out-of-memory kill."""
    code = exited.result()
    return failure(
        kind,
        runtime_api.RUNTIME_EXIT_ERROR,
        protocol.exit_message(request_id, code),
        duration_ms=duration_ms,
        memory=process.peak_memory_mb(),
        out_of_memory=process.out_of_memory,
        exit_status=code,
    )
