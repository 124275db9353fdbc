"""``lambdarig conformance``: run the conformance kit against any runtime command."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from lambdarig.cli import CommandError

EXAMPLE = """examples:
  lambdarig conformance --runtime 'python -m lambdarig.runtime_client {handler}'
  lambdarig conformance --runtime ./target/release/bootstrap --only echo,error-shape
  lambdarig conformance --runtime ./bootstrap --streaming
  lambdarig conformance --list

The runtime must run the conformance handler (see lambdarig/conformance/reference/
conformance_handler.py for the behaviour to port); {handler} in CMD is replaced by its name,
which is also in $_HANDLER. Exit status: 0 all passed, 1 some failed, 2 usage errors."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "conformance",
        help="check a Lambda runtime against the Runtime API conformance kit",
        description="Run the conformance kit against a runtime command through lambdarig's "
        "emulator, and print a table of behaviours passed and failed.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runtime", metavar="CMD", help="command that starts the runtime")
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME...]",
        action="append",
        default=[],
        help="run only these cases (repeatable; see --list)",
    )
    parser.add_argument(
        "--streaming",
        action="store_true",
        help="also run the response-streaming cases (the runtime then talks to the kit's own "
        "recording Runtime API)",
    )
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument(
        "--emulator",
        metavar="CMD",
        help="emulator command (default: $LAMBDARIG_EMULATOR or python -m lambdarig.rie_server)",
    )
    parser.set_defaults(func=run)


def runtime_argv(command: str, cwd: Path) -> list[str]:
    """Split CMD; a relative program path (``./bootstrap``) is made absolute against ``cwd``,
    since the runtime starts in the reference handler's directory. Raises
    :class:`CommandError` unless the program is an executable file (a path, or found on PATH)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise CommandError(
            f"expected a shell-style --runtime command, got {command!r} ({exc})"
        ) from None
    if not argv:
        raise CommandError(f"expected a non-empty --runtime command, got {command!r}")
    if "/" in argv[0] and not os.path.isabs(argv[0]):
        argv[0] = str((cwd / argv[0]).resolve())
    found = argv[0] if "/" in argv[0] else shutil.which(argv[0])
    if found is None or not (os.path.isfile(found) and os.access(found, os.X_OK)):
        raise CommandError(f"expected --runtime to start an executable program, got {argv[0]!r}")
    return argv


def run(args: argparse.Namespace) -> int:
    from lambdarig.conformance import CASES, STREAMING_CASES, CaseResult, run_kit
    from lambdarig.testing import HarnessError, HarnessSettings

    if args.list:
        width = max(len(case.name) for case in CASES + STREAMING_CASES)
        for case in CASES + STREAMING_CASES:
            extra = " (--streaming)" if case in STREAMING_CASES else ""
            print(f"{case.name:{width}}  {case.behaviour}{extra}")
        return 0
    if not args.runtime:
        raise CommandError("expected --runtime CMD (the command that starts your runtime)")
    only = [name.strip() for item in args.only for name in item.split(",") if name.strip()]
    settings = HarnessSettings.from_environ(os.environ, emulator=args.emulator)

    def progress(result: CaseResult) -> None:
        mark = "PASS" if result.passed else "FAIL"
        print(f"  {mark} {result.name} ({result.seconds:.2f} s)", file=sys.stderr, flush=True)

    try:
        report = run_kit(
            runtime_argv(args.runtime, Path.cwd()),
            only,
            settings=settings,
            on_result=progress,
            streaming=args.streaming,
        )
    except HarnessError as exc:
        raise CommandError(str(exc).splitlines()[0]) from None
    print(report.table())
    return 0 if report.passed else 1
