"""``lambdarig serve HANDLER``: run a Python handler behind a local Invoke API that answers like
the Lambda service (our runtime client unless ``--runtime`` names another).
``lambdarig serve --template template.yaml``: every function of a SAM template
(``cli.serve_template``)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lambdarig.cli import CommandError

EXAMPLE = """\
example:
  lambdarig serve app.handler --code examples/hello
  lambdarig serve app.handler --code examples/hello --watch   # edits re-initialise the runtime
  curl -s http://127.0.0.1:9000/2015-03-31/functions/function/invocations -d '{"name": "you"}'
  lambdarig serve app.handler --code examples/hello --http http   # an HTTP API on port 3000
  curl -s http://127.0.0.1:3000/any/path?q=1
  lambdarig serve app.handler --http url --invoke-mode RESPONSE_STREAM   # a streamed Function URL
  lambdarig serve -t template.yaml   # every function of a SAM template; prints what it serves
"""
HTTP_KINDS = ("rest", "http", "url", "alb")
DEFAULT_TIMEOUT_S = 3.0  # the service's default function timeout
DEFAULT_MEMORY_MB = 128  # the service's default memory size


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
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")


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


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a handler on a local Invoke API (127.0.0.1:9000)",
        description=__doc__,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
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
    add("--port", type=int, default=9000, metavar="P", help="default 9000 (0 = ephemeral)")
    add("--host", default="127.0.0.1", metavar="H", help="default 127.0.0.1")
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
    add(
        "--http",
        action=Given,
        choices=HTTP_KINDS,
        metavar="KIND",
        help="also serve the function over HTTP as a REST API (rest), HTTP API (http), "
        "Function URL (url) or ALB target (alb)",
    )
    add("--http-port", type=int, default=3000, metavar="P", help="default 3000 (0 = ephemeral)")
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
    from lambdarig.cli.serve_template import add_template_arguments

    add_template_arguments(add)
    parser.set_defaults(func=run, given=())


def runtime_command(handler: str, runtime: str | None) -> list[str]:
    """The runtime's argv: ``--runtime`` split like a shell would, then ``handler``."""
    base = shlex.split(runtime) if runtime else [sys.executable, "-m", "lambdarig.runtime_client"]
    return [*base, handler]


def function_environ(
    environ: Mapping[str, str], code: Path, pairs: Sequence[str]
) -> dict[str, str]:
    """The caller's environment plus ``--env`` pairs, with ``code`` first on ``PYTHONPATH``."""
    env = dict(environ)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"expected --env KEY=VALUE, got {pair!r}")
        env[key] = value
    paths = [str(code), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


# Exit status of the probe below when the python lacks the module (1 is a crash, 0 found).
_NO_MODULE = 3
_FIND_MODULE = (
    "import importlib.util, sys\n"
    "try:\n    found = importlib.util.find_spec(sys.argv[1]) is not None\n"
    "except Exception:\n    found = False\n"
    f"sys.exit(0 if found else {_NO_MODULE})"
)
MODULE_CHECK_TIMEOUT_S = 10.0


def check_runtime_module(command: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
    """For a ``--runtime`` of the form ``PYTHON -m MODULE ...``, make sure ``PYTHON`` (looked up on
    ``env``'s PATH, run in ``cwd`` with ``env``) finds ``MODULE``: one interpreter start-up (tens
    of ms, only for ``-m`` commands), so that a missing runtime is said at start rather than as
    ``Runtime.ExitError`` on the first invoke. Raises CommandError; a ``PYTHON`` that cannot be run
    is left to the emulator's own check."""
    if len(command) < 3 or command[1] != "-m":
        return
    python, module = command[0], command[2]
    try:
        probe = subprocess.run(
            [python, "-c", _FIND_MODULE, module],
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=MODULE_CHECK_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return
    if probe.returncode == _NO_MODULE:
        found = shutil.which(python, path=env.get("PATH", os.defpath))
        shown = python if found in (None, python) else f"{python} ({found})"
        raise CommandError(
            f"expected {shown} to have the module {module} (--runtime runs it with -m), it has "
            "not: install it into that python, or name a python that has it"
        )


def emulator_argv(args: argparse.Namespace) -> list[str]:
    """``lambdarig-rie`` flags for ``args``; with ``--image`` the command is just the handler."""
    layers = [flag for layer in args.layer for flag in ("--layer", layer)]
    flags = ["--image", args.image] if args.image else []
    if args.no_stream_throttle:
        flags.append("--no-stream-throttle")
    if args.snapstart:
        flags.append("--snapstart")
    if args.async_retry_delays is not None:
        flags += ["--async-retry-delays", args.async_retry_delays]
    if args.tracing is not None:
        flags += ["--tracing", args.tracing]
    if args.xray_daemon_address is not None:
        flags += ["--xray-daemon-address", args.xray_daemon_address]
    command = [args.handler] if args.image else runtime_command(args.handler, args.runtime)
    return [
        *layers,
        *flags,
        "--runtime-interface-emulator-address",
        f"{args.host}:{args.port}",
        "--runtime-api-address",
        "127.0.0.1:0",
        "--timeout",
        str(args.timeout),
        "--memory",
        str(args.memory),
        "--max-concurrency",
        str(args.max_concurrency),
        "--provisioned",
        str(args.provisioned),
        "--",
        *command,
    ]


def watched(args: argparse.Namespace, code: Path) -> tuple[str, ...]:
    """What ``--watch`` polls: the code directory and every layer (none without ``--watch``)."""
    if not args.watch:
        return ()
    if args.image:
        raise CommandError(
            "expected --watch without --image (the image holds the code: rebuild it), got both"
        )
    return (str(code), *(str(Path(layer).resolve()) for layer in args.layer))


def check_tracing(args: argparse.Namespace) -> None:
    """``--tracing`` and ``--xray-daemon-address``, checked before either mode starts."""
    from lambdarig.rie_server.config import parse_address, parse_tracing
    from lambdarig.rie_server.errors import ConfigError

    try:
        if args.tracing is not None:
            args.tracing = parse_tracing(args.tracing).value.lower()
        if args.xray_daemon_address is not None:
            parse_address(args.xray_daemon_address, "--xray-daemon-address")
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from lambdarig.rie_server import ConfigError, EmulatorConfig
    from lambdarig.rie_server.cli import run as serve

    if not 0 <= args.port <= 65535:
        raise CommandError(f"expected --port in 0-65535, got {args.port}")
    if not 0 <= args.http_port <= 65535:
        raise CommandError(f"expected --http-port in 0-65535, got {args.http_port}")
    refuse_misplaced_flags(args)
    check_tracing(args)
    if args.template is not None:
        from lambdarig.cli.serve_template import run_template

        return run_template(args)
    if args.handler is None:
        raise CommandError("expected HANDLER (e.g. app.handler) or --template FILE, got neither")
    code = Path(args.code).resolve()
    if not code.is_dir():
        raise CommandError(f"expected --code to be a directory, got {args.code!r}")
    watch_paths = watched(args, code)
    environ = function_environ(os.environ, code, args.env)
    try:
        config = EmulatorConfig.from_environ_and_args(environ, emulator_argv(args))
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    config = dataclasses.replace(
        config, cwd=str(code), handler=args.handler, watch_paths=watch_paths
    )
    if args.runtime and not args.image:
        check_runtime_module(config.command, environ, code)
    config = config.with_runtime_env(environ)
    if args.http:
        from lambdarig.rie_server.fronts.single import serve as serve_http

        front = serve_http(
            config,
            args.http,
            args.host,
            args.http_port,
            multi_value_headers=args.alb_multi_value_headers,
            invoke_mode=args.invoke_mode,
        )
        return asyncio.run(front)
    return asyncio.run(serve(config, prog="lambdarig", invoke_address_flag="--port"))
