"""``lambdarig``: the command-line front end (serve, invoke, event, image, layer, conformance).

Each subcommand lives in its own module under ``lambdarig.cli`` and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` to a callable
``(argparse.Namespace) -> int``. Subcommand modules import their heavy dependencies lazily so that
``lambdarig --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lambdarig import __version__

# Module names under lambdarig.cli, in the order they appear in --help.
COMMANDS: tuple[str, ...] = ("serve", "image", "layer", "event", "invoke", "conformance")


class CommandError(Exception):
    """A user-facing failure: printed as one line on stderr, exit status 2 (or ``.exit_code``)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambdarig",
        description="Run, test and ship AWS Lambda functions exactly as Lambda runs them.",
        epilog="Example: lambdarig serve app.handler --code examples/hello",
    )
    parser.add_argument("--version", action="version", version=f"lambdarig {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"lambdarig.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args))
    except CommandError as exc:
        print(f"lambdarig: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
