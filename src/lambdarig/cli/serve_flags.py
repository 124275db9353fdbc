"""The flags of ``lambdarig serve``, grouped by what they configure, and the checks of where each
may appear: ``serve HANDLER`` takes one function's settings from its flags, ``serve -t`` from the
template, so each mode refuses the other's flags (``refuse_misplaced_flags``). The template flags
(``add_template_arguments``) are ``lambdarig invoke``'s too. Light to import: every command's
parser is built at each start (``lambdarig.cli.build_parser``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from lambdarig.cli import CommandError

HTTP_KINDS = ("rest", "http", "url", "alb")
DEFAULT_TIMEOUT_S = 3.0  # the service's default function timeout
DEFAULT_MEMORY_MB = 128  # the service's default memory size
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")

# The flags of one function and what sets the same thing in a template (``serve -t`` refuses them).
FUNCTION_FLAGS = {
    "--code": "CodeUri",
    "--timeout": "Timeout",
    "--memory": "MemorySize",
    "--env": "Environment (or --env-vars)",
    "--max-concurrency": "ReservedConcurrentExecutions",
    "--provisioned": "ProvisionedConcurrencyConfig, not emulated",
    "--snapstart": "SnapStart",
    "--layer": "Layers",
    "--image": "PackageType: Image and ImageUri",
    "--runtime": "Runtime",
    "--http": "the Events and FunctionUrlConfig",
    "--invoke-mode": "FunctionUrlConfig.InvokeMode",
    "--alb-multi-value-headers": "nothing: templates have no ALB",
}
# The flags that only mean something with a template (``serve HANDLER`` refuses them).
TEMPLATE_FLAGS = ("--parameter-overrides", "--env-vars", "--region", "--stack-name")


class Given(argparse.Action):
    """``store`` (or ``store_true``/``append`` by ``mode``) that also records the flag in
    ``args.given``: ``serve --template`` refuses the flags of a single function, also when they
    repeat a default."""

    def __init__(self, option_strings: Sequence[str], dest: str, mode: str = "store", **kw: Any):
        if mode == "store_true":
            kw.update(nargs=0, default=False)
        self.mode = mode
        super().__init__(option_strings, dest, **kw)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if self.mode == "store_true":
            values = True
        elif self.mode == "append":
            values = [*(getattr(namespace, self.dest, None) or []), values]
        setattr(namespace, self.dest, values)
        namespace.given = (*getattr(namespace, "given", ()), self.option_strings[-1])


def add_serve_flags(add: Callable[..., Any]) -> None:
    """Every argument of ``serve``, in the order ``--help`` has always listed them."""
    _add_function_flags(add)
    _add_environment_flags(add)
    _add_listening_flags(add)
    _add_runtime_flags(add)
    _add_http_front_flags(add)
    _add_event_and_tracing_flags(add)
    _add_http_kind_flags(add)
    add_template_arguments(add)


def add_template_arguments(add: Callable[..., Any]) -> None:
    """The ``--template`` flags of ``serve`` (and ``invoke``), as ``sam local`` spells them."""
    add("-t", "--template", metavar="FILE", help="serve every function of a SAM template")
    add(
        "--parameter-overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="K=V",
        help="template parameters (K=V or ParameterKey=K,ParameterValue=V)",
    )
    add("--env-vars", metavar="FILE", help='SAM\'s env.json: {"Parameters": {...}, "Fn": {...}}')
    add("--region", metavar="R", help="default $AWS_REGION, else us-east-1")
    add("--stack-name", metavar="NAME", help="default: the template's directory name")


def _add_function_flags(add: Callable[..., Any]) -> None:
    """The function: its handler, code, timeout, memory and variables."""
    add("handler", metavar="HANDLER", nargs="?", help="module.function, e.g. app.handler")
    add(
        "--code",
        action=Given,
        default=".",
        metavar="DIR",
        help="the function's code directory (default .)",
    )
    add(
        "--timeout",
        action=Given,
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help="default 3",
    )
    add(
        "--memory",
        action=Given,
        type=int,
        default=DEFAULT_MEMORY_MB,
        metavar="MB",
        help="default 128",
    )
    add(
        "--env",
        action=Given,
        mode="append",
        default=[],
        metavar="K=V",
        help="function variable (repeat)",
    )


def _add_environment_flags(add: Callable[..., Any]) -> None:
    """Its execution environments: how many at once, how many pre-warmed, SnapStart."""
    add("--max-concurrency", action=Given, type=int, default=10, metavar="N", help="default 10")
    add(
        "--provisioned",
        action=Given,
        type=int,
        default=0,
        metavar="N",
        help="pre-warm N environments",
    )
    add(
        "--snapstart",
        action=Given,
        mode="store_true",
        help="SnapStart: snapshot after init, then restore",
    )


def _add_listening_flags(add: Callable[..., Any]) -> None:
    """Where the Invoke API listens."""
    add("--port", type=int, default=9000, metavar="P", help="default 9000 (0 = ephemeral)")
    add("--host", default="127.0.0.1", metavar="H", help="default 127.0.0.1")


def _add_runtime_flags(add: Callable[..., Any]) -> None:
    """What runs the function (its layers, an image or a runtime command) and how the emulator
    treats it (response streaming speed, ``--watch``)."""
    add(
        "--layer",
        action=Given,
        mode="append",
        default=[],
        metavar="ZIP_OR_DIR",
        help="a layer (repeat)",
    )
    add(
        "--image",
        action=Given,
        metavar="IMAGE",
        help="run the function in containers of IMAGE (Docker)",
    )
    add(
        "--no-stream-throttle",
        action="store_true",
        help="stream responses at full speed (the service: 2 MiB/s after the first 6 MB)",
    )
    add(
        "--watch",
        action="store_true",
        help="re-initialise the environments when the code or a layer changes",
    )
    add(
        "--runtime",
        action=Given,
        metavar="CMD",
        help="runtime command; HANDLER is appended (default: python -m lambdarig.runtime_client); "
        "for PYTHON -m MODULE, serve checks at start that PYTHON has MODULE",
    )


def _add_http_front_flags(add: Callable[..., Any]) -> None:
    """The HTTP front: which service it plays and its port."""
    add(
        "--http",
        action=Given,
        choices=HTTP_KINDS,
        metavar="KIND",
        help="also serve the function over HTTP as a REST API (rest), HTTP API (http), "
        "Function URL (url) or ALB target (alb)",
    )
    add("--http-port", type=int, default=3000, metavar="P", help="default 3000 (0 = ephemeral)")


def _add_event_and_tracing_flags(add: Callable[..., Any]) -> None:
    """Around each invocation: ``Event`` retries and destinations, X-Ray tracing."""
    add(
        "--async-retry-delays",
        metavar="S,S",
        help="seconds before each retry of a failed Event invocation (default 60,120 as the "
        "service; '' for none)",
    )
    add(
        "--tracing",
        metavar="{active,passthrough}",
        help="X-Ray: active sends Lambda's segments of each invocation to --xray-daemon-address "
        "(with --template: overrides every function's Tracing)",
    )
    add(
        "--xray-daemon-address",
        metavar="HOST:PORT",
        help="the X-Ray daemon that --tracing active sends to (default 127.0.0.1:2000)",
    )
    add(
        "--aws-endpoint-url",
        metavar="URL",
        help="with --template: send SQS, SNS and EventBridge destinations and dead-letter "
        "queues there (LocalStack, moto); without it they are logged as not delivered",
    )


def _add_http_kind_flags(add: Callable[..., Any]) -> None:
    """What one kind of HTTP front takes: an ALB's multi-value headers, a URL's invoke mode."""
    add(
        "--alb-multi-value-headers",
        action=Given,
        mode="store_true",
        help="with --http alb: the target group's multi-value headers attribute",
    )
    add(
        "--invoke-mode",
        action=Given,
        choices=INVOKE_MODES,
        default="BUFFERED",
        metavar="MODE",
        help="with --http url: the Function URL's InvokeMode, BUFFERED (default) or "
        "RESPONSE_STREAM (answers streamed as the function writes them)",
    )


def check_serve_flags(args: argparse.Namespace) -> None:
    """One ``CommandError`` for a port out of range, a flag the chosen mode ignores, or a bad
    ``--tracing``/``--xray-daemon-address``; checked before either mode starts."""
    if not 0 <= args.port <= 65535:
        raise CommandError(f"expected --port in 0-65535, got {args.port}")
    if not 0 <= args.http_port <= 65535:
        raise CommandError(f"expected --http-port in 0-65535, got {args.http_port}")
    refuse_misplaced_flags(args)
    check_tracing(args)


def refuse_misplaced_flags(args: argparse.Namespace) -> None:
    """One ``CommandError`` for a flag that the chosen mode (HANDLER or ``--template``) ignores."""
    given = getattr(args, "given", ())
    if args.template is not None:
        for flag in given:
            if flag in FUNCTION_FLAGS:
                raise CommandError(
                    f"expected no {flag} with --template (the template's "
                    f"{FUNCTION_FLAGS[flag]} sets it), got {flag}"
                )
        return
    for flag in TEMPLATE_FLAGS:
        if getattr(args, flag[2:].replace("-", "_")):
            raise CommandError(f"expected {flag} with --template, got it without")
    if args.aws_endpoint_url is not None:
        raise CommandError("expected --aws-endpoint-url with --template (destinations), got none")
    if "--invoke-mode" in given and args.http != "url":
        raise CommandError(f"expected --invoke-mode with --http url, got --http {args.http}")
    if args.alb_multi_value_headers and args.http != "alb":
        raise CommandError(
            f"expected --alb-multi-value-headers with --http alb, got --http {args.http}"
        )


def check_tracing(args: argparse.Namespace) -> None:
    """``--tracing`` and ``--xray-daemon-address``, checked before either mode starts (a valid
    ``--tracing`` is normalised to lower case)."""
    from lambdarig.rie_server.config import parse_address, parse_tracing
    from lambdarig.rie_server.errors import ConfigError

    try:
        if args.tracing is not None:
            args.tracing = parse_tracing(args.tracing).value.lower()
        if args.xray_daemon_address is not None:
            parse_address(args.xray_daemon_address, "--xray-daemon-address")
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
