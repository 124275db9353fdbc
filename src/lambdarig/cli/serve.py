"""``lambdarig serve HANDLER``: run a Python handler behind a local Invoke API that answers like
the Lambda service (our runtime client unless ``--runtime`` names another).
``lambdarig serve --template template.yaml``: every function of a SAM template
(``cli.serve_template``)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdarig.cli import CommandError
from lambdarig.cli.serve_flags import add_serve_flags, check_serve_flags

if TYPE_CHECKING:
    from lambdarig.rie_server.cli import EarlySignals, Runner
    from lambdarig.rie_server.config import EmulatorConfig
    from lambdarig.rie_server.fast_start import Prestarted

_PROG = "lambdarig"  # how the emulator's own lines name the program here
_PORT_FLAG = "--port"  # the flag that moves the Invoke API here

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


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a handler on a local Invoke API (127.0.0.1:9000)",
        description=__doc__,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_serve_flags(parser.add_argument)
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


def run(args: argparse.Namespace) -> int:
    from lambdarig.rie_server import ConfigError, EmulatorConfig
    from lambdarig.rie_server.cli import serve

    check_serve_flags(args)
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
    # As lambdarig-rie starts: the sockets bound and the runtime spawned before asyncio loads.
    runner = _front(args, config) if args.http else None
    return serve(config, prog=_PROG, invoke_address_flag=_PORT_FLAG, runner=runner)


def _front(args: argparse.Namespace, config: EmulatorConfig) -> Runner:
    """``--http``: the function behind an HTTP front (``rie_server.fronts.single``)."""

    def runner(prestarted: Prestarted, signalled: EarlySignals) -> Coroutine[Any, Any, int]:
        from lambdarig.rie_server.fronts.single import serve as serve_http  # the emulator's modules

        return serve_http(
            config,
            args.http,
            args.host,
            args.http_port,
            multi_value_headers=args.alb_multi_value_headers,
            invoke_mode=args.invoke_mode,
            prog=_PROG,
            invoke_address_flag=_PORT_FLAG,
            prestarted=prestarted,
            signalled=signalled,
        )

    return runner
