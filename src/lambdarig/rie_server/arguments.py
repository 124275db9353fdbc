"""``lambdarig-rie``'s command line: aws-lambda-rie's flags, ours, and the runtime's command.

aws-lambda-rie reads its argv with go-flags ignoring unknown options, so its own flags are taken
wherever they appear, also after the runtime's command, as ``--flag value`` or ``--flag=value``;
every other word, in order, is the command. AWS's own end-to-end tests start it that way::

  aws-lambda-rie /lambda-entrypoint.sh app.handler --runtime-interface-emulator-address 0.0.0.0:9000

``parse_args`` does the same for aws-lambda-rie's flags (``AWS_LAMBDA_RIE_FLAGS``), with one
addition: ``--`` ends option parsing, and what follows it is the command verbatim (aws-lambda-rie
would run ``--`` as a word of the command). Our own flags are read before the command only, so a
runtime's own options (``--timeout``, ``--memory``...) reach it untouched, as with aws-lambda-rie.

Pure: argv comes in as a list; nothing here reads the process's argv or environment.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from lambdarig.rie_server.choices import CompatMode
from lambdarig.rie_server.early_bind import (
    DEFAULT_INVOKE_ADDRESS,
    END_OF_OPTIONS,
    INVOKE_ADDRESS_FLAG,
)
from lambdarig.rie_server.errors import ConfigError

BOOTSTRAP_CANDIDATES = ("/var/task/bootstrap", "/opt/bootstrap", "/var/runtime/bootstrap")
DEFAULT_RUNTIME_API_ADDRESS = "127.0.0.1:9001"
DEFAULT_MAX_CONCURRENCY = 10
DEFAULT_XRAY_DAEMON_ADDRESS = "127.0.0.1:2000"  # the X-Ray daemon's default
TRACING_CHOICES = ("active", "passthrough")
TIMEOUT_VAR = "AWS_LAMBDA_FUNCTION_TIMEOUT"
MEMORY_VAR = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
# aws-lambda-rie's level names (logrus) → the Python levels of our own diagnostics.
# aws-lambda-rie's level names -> ``logging``'s (by name: no ``import logging`` before the bind)
LOG_LEVELS = {
    "trace": "DEBUG",
    "debug": "DEBUG",
    "info": "INFO",
    "warn": "WARNING",
    "error": "ERROR",
    "fatal": "CRITICAL",
    "panic": "CRITICAL",
}
# aws-lambda-rie's flags, read anywhere in argv: flag → whether it takes a value.
AWS_LAMBDA_RIE_FLAGS = {
    INVOKE_ADDRESS_FLAG: True,
    "--runtime-api-address": True,
    "--log-level": True,
    "--enable-init-caching": False,
}

EXAMPLE = """\
example: lambdarig-rie --runtime-interface-emulator-address 127.0.0.1:8080 \\
           python -m lambdarig.runtime_client app.handler

aws-lambda-rie's flags are also read after CMD ARGS..., as aws-lambda-rie reads them (ours only
before it); '--' ends the flags, and what follows it is the command as given:
  lambdarig-rie python -m awslambdaric app.handler --runtime-interface-emulator-address 0.0.0.0:9000
"""


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv`` (without the program name); ``command`` is the runtime's argv. Raises
    ``ConfigError`` (one line) for an unknown flag before the command or a missing value."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    words = list(args.command)
    if words[:1] == [END_OF_OPTIONS]:
        args.command = words[1:]
        return args
    command, late_flags = split_command(words)
    if late_flags:
        # Parsed into the same namespace: what was given before the command stays unless the
        # same flag comes again later (then the later one wins, as with aws-lambda-rie).
        parser.parse_args(late_flags, namespace=args)
    args.command = command
    return args


def split_command(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """``words`` (the command and what follows it) → (the command, aws-lambda-rie's flags found
    among them, each with its value). The first ``--`` ends the search and is dropped."""
    command: list[str] = []
    flags: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == END_OF_OPTIONS:
            command += words[index:]
            break
        name, has_value, _ = word.partition("=")
        if name not in AWS_LAMBDA_RIE_FLAGS:
            command.append(word)
            continue
        flags.append(word)
        if AWS_LAMBDA_RIE_FLAGS[name] and not has_value and index < len(words):
            flags.append(words[index])
            index += 1
    return command, flags


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """``RawDescriptionHelpFormatter``, sized for the terminal only when it formats: argparse
    builds one for every ``add_argument`` (to check the metavar), and sizing one imports
    ``shutil`` (with bz2, lzma, fnmatch), which the emulator's start does not otherwise need."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, 1 if width is None else width)
        self._sized = width is not None
        self._wanted_position = max_help_position

    def format_help(self) -> str:
        if not self._sized:  # argparse's own sizing, as a formatter made without a width has it
            sized = argparse.RawDescriptionHelpFormatter(
                self._prog, self._indent_increment, self._wanted_position
            )
            self._width, self._max_help_position = sized._width, sized._max_help_position
            self._sized = True
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    """aws-lambda-rie's flags plus ours; ``CMD ARGS...`` after the flags is the runtime command
    (``parse_args`` then takes aws-lambda-rie's flags out of it).

    Numbers are read as text and checked by ``config``, so that every bad value is reported as
    what was expected and what arrived.
    """
    parser = _Parser(
        prog="lambdarig-rie",
        description="Run a Lambda runtime behind an Invoke API that behaves like the service.",
        epilog=EXAMPLE,
        formatter_class=_HelpFormatter,
        allow_abbrev=False,  # go-flags knows no abbreviations: --log is not --log-level
    )
    _add_aws_lambda_rie_flags(parser.add_argument)
    _add_our_flags(parser.add_argument)
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="CMD ARGS...",
        help=f"the runtime's command (default: the first of {', '.join(BOOTSTRAP_CANDIDATES)})",
    )
    return parser


def _add_aws_lambda_rie_flags(add: Callable[..., Any]) -> None:
    address, api_address = DEFAULT_INVOKE_ADDRESS, DEFAULT_RUNTIME_API_ADDRESS
    add(
        INVOKE_ADDRESS_FLAG,
        default=address,
        metavar="HOST:PORT",
        help=f"Invoke API listen address (default {address}; port 0 = ephemeral)",
    )
    add(
        "--runtime-api-address",
        default=api_address,
        metavar="HOST:PORT",
        help=f"the first environment's Runtime API address (default {api_address})",
    )
    add(
        "--log-level",
        type=str.lower,
        choices=list(LOG_LEVELS),
        help="the emulator's own diagnostics on stderr (default info, or $LOG_LEVEL)",
    )
    add(
        "--enable-init-caching",
        action="store_true",
        help="as aws-lambda-rie: the runtime and extensions also get "
        "AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN, and "
        "GET /2021-04-23/credentials on the Runtime API answers the emulator's AWS keys "
        "for that token",
    )


def _add_our_flags(add: Callable[..., Any]) -> None:
    """lambdarig-rie's own flags (read before the command only), in the order ``--help`` lists
    them."""
    _add_environment_flags(add)
    _add_answer_flags(add)
    _add_function_flags(add)
    _add_tracing_flags(add)
    _add_event_flags(add)


def _add_environment_flags(add: Callable[..., Any]) -> None:
    """The execution environments: how many at once, how many pre-warmed, when and how they
    initialise."""
    add(
        "--max-concurrency",
        default=str(DEFAULT_MAX_CONCURRENCY),
        metavar="N",
        help=f"environments at once; beyond them 429 (default {DEFAULT_MAX_CONCURRENCY})",
    )
    add("--provisioned", default="0", metavar="N", help="pre-warm N environments")
    add("--lazy-init", action="store_true", help="initialise on the first invoke (as AWS's)")
    add(
        "--snapstart",
        action="store_true",
        help="SnapStart: init with AWS_LAMBDA_INITIALIZATION_TYPE=snap-start, then restore "
        "(before-snapshot hooks, /restore/next, after-restore hooks)",
    )


def _add_answer_flags(add: Callable[..., Any]) -> None:
    """How invocations are answered: streaming speed, the service's shapes or aws-lambda-rie's."""
    add(
        "--no-stream-throttle",
        action="store_true",
        help="stream responses at full speed (the service: 2 MiB/s after the first 6 MB)",
    )
    add(
        "--compat",
        choices=[mode.value for mode in CompatMode],
        default=CompatMode.SERVICE.value,
        help="invoke answers shaped like the service (default) or like aws-lambda-rie",
    )


def _add_function_flags(add: Callable[..., Any]) -> None:
    """The function: its memory, timeout, layers and image."""
    add("--memory", metavar="MB", help=f"memory size, enforced (default ${MEMORY_VAR} or 3008)")
    add("--timeout", metavar="S", help=f"function timeout (default ${TIMEOUT_VAR} or 300)")
    add(
        "--layer",
        action="append",
        default=[],
        metavar="ZIP_OR_DIR",
        help="a layer laid out under /opt as Lambda does (repeat, in order)",
    )
    add(
        "--image",
        metavar="IMAGE",
        help="run each environment as a container of IMAGE (Docker); "
        "CMD ARGS... is then the container's command",
    )


def _add_tracing_flags(add: Callable[..., Any]) -> None:
    """Active tracing (X-Ray)."""
    add(
        "--tracing",
        default="passthrough",
        metavar="{active,passthrough}",
        help="X-Ray: active sends Lambda's segments of each sampled invocation to "
        "--xray-daemon-address over UDP (default passthrough: none)",
    )
    add(
        "--xray-daemon-address",
        default=DEFAULT_XRAY_DAEMON_ADDRESS,
        metavar="HOST:PORT",
        help=f"where --tracing active sends segments (default {DEFAULT_XRAY_DAEMON_ADDRESS})",
    )


def _add_event_flags(add: Callable[..., Any]) -> None:
    """``Event`` invocations."""
    add(
        "--async-retry-delays",
        metavar="S,S",
        help="advanced: seconds before each retry of a failed Event invocation "
        "(default 60,120 as the service; '' for none)",
    )
