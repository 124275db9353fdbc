"""The runtime loop: init (load the handler) → SnapStart hooks → forever next → invoke → post.

Policy, in one place:
- a handler that fails to load is reported on ``/init/error`` and the process exits 1;
- a 410 on a post means the platform gave up on that invocation (it timed out): one log line,
  and the loop goes on;
- any other Runtime API failure ends the loop with exit status 1 (the platform then reports
  ``Runtime.ExitError``), as awslambdaric's single-concurrency client does.
Handler failures never end the loop: the invoker turns them into error outcomes. A streamed
result is posted while the handler still produces it (``post_stream``).
"""

from __future__ import annotations

from lambdarig.runtime_client import termination
from lambdarig.runtime_client.errors import RuntimeClientError, StaleInvocationError

TYPE_CHECKING = False  # typing is not imported at run time (cold start)
if TYPE_CHECKING:
    from typing import Any, Callable

    from lambdarig.runtime_client.client import RuntimeAPIClient
    from lambdarig.runtime_client.config import RuntimeConfig
    from lambdarig.runtime_client.invoke import Invoker, Outcome
    from lambdarig.runtime_client.sinks import LogSink

    LoadHandler = Callable[[str], Callable[..., Any]]
    MakeInvoker = Callable[[Callable[..., Any], RuntimeConfig, LogSink], Invoker]
    InitErrorOutcome = Callable[[BaseException, LogSink], Outcome]

EXIT_INIT_ERROR = 1
EXIT_RUNTIME_API_ERROR = 1
STALE_POST_LOG = (
    "LAMBDA_RUNTIME Invocation {request_id} was already closed by the platform: {error}\n"
)
FATAL_LOG = "LAMBDA_RUNTIME Runtime API failure, exiting: {error}\n"


def run(
    config: RuntimeConfig,
    client: RuntimeAPIClient,
    sink: LogSink,
    load_handler: LoadHandler | None = None,
    make_invoker: MakeInvoker | None = None,
    init_error_outcome: InitErrorOutcome | None = None,
) -> int:
    """Run one runtime process to completion; returns its exit status (never returns 0).

    The three callables default to :func:`lambdarig.runtime_client.handler.load_handler`,
    :class:`lambdarig.runtime_client.invoke.Invoker` and
    :func:`lambdarig.runtime_client.invoke.init_error_outcome`. ``SystemExit`` and
    ``KeyboardInterrupt`` (SIGTERM, hooks calling ``sys.exit``) propagate.
    """
    load_handler, make_invoker, init_error_outcome = _defaults(
        load_handler, make_invoker, init_error_outcome
    )
    _warn_preview_runtime(config)
    try:
        function = load_handler(config.handler)
    except Exception as exc:  # anything the user's module raised at import is an init error
        return _report_init_error(client, sink, init_error_outcome(exc, sink))
    try:
        if config.initialization_type == "snap-start":
            from lambdarig.runtime_client.snapstart import run_hooks

            status = run_hooks(config, client, sink)
            if status:
                return status
        invoker = make_invoker(function, config, sink)
        try:
            # The loop proper, inline so the handler runs at awslambdaric's stack depth. While
            # the first /next waits for the platform, the invoker readies itself.
            prepare: Callable[[], None] | None = _readied(invoker)
            while True:
                termination.check()
                inv = client.next_invocation(prepare)
                prepare = None
                outcome = invoker.invoke(inv)
                try:
                    if outcome.stream is not None:
                        client.post_stream(inv, outcome.stream)
                    elif outcome.ok:
                        client.post_response(inv, outcome.body, outcome.content_type)
                    else:
                        client.post_error(inv, outcome.body, outcome.xray_cause)
                except StaleInvocationError as exc:
                    sink.log(STALE_POST_LOG.format(request_id=inv.request_id, error=exc))
        finally:
            invoker.close()
    except RuntimeClientError as exc:
        sink.log(FATAL_LOG.format(error=_describe(exc)))
    return EXIT_RUNTIME_API_ERROR


def _readied(invoker: Invoker) -> Callable[[], None]:
    """``invoker.prepare`` for the first ``/next``. It imports, and a SIGTERM meanwhile may be
    swallowed by the import system (``termination``): checked again before the answer is read."""

    def prepare() -> None:
        invoker.prepare()
        termination.check()

    return prepare


def _defaults(
    load_handler: LoadHandler | None,
    make_invoker: MakeInvoker | None,
    init_error_outcome: InitErrorOutcome | None,
) -> tuple[LoadHandler, MakeInvoker, InitErrorOutcome]:
    from lambdarig.runtime_client import handler, invoke

    return (
        load_handler or handler.load_handler,
        make_invoker or invoke.Invoker,
        init_error_outcome or invoke.init_error_outcome,
    )


def _warn_preview_runtime(config: RuntimeConfig) -> None:
    """awslambdaric's ``LAMBDA_WARNING`` for preview runtimes, logged before the handler loads."""
    if config.disable_preview_warning:
        return
    from lambdarig.runtime_client.logs import preview_runtime_warning

    warning = preview_runtime_warning(config.execution_env, config.region)
    if warning is not None:
        import logging

        logging.warning(warning)


def _report_init_error(client: RuntimeAPIClient, sink: LogSink, outcome: Outcome) -> int:
    from lambdarig import runtime_api as wire

    try:
        # awslambdaric sends no X-Ray cause on /init/error; neither do we.
        client.post_init_error(outcome.body, outcome.error_type or wire.RUNTIME_UNKNOWN)
    except RuntimeClientError as exc:
        sink.log(FATAL_LOG.format(error=_describe(exc)))
    return EXIT_INIT_ERROR


def _describe(exc: BaseException) -> str:
    text, cause = str(exc), exc.__cause__
    if cause is None or str(cause) in text:
        return text
    return f"{text} (caused by {cause.__class__.__name__}: {cause})"
