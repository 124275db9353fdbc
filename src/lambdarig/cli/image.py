"""``lambdarig image``: build function container images offline (wheels prepared on the host).

Also holds the helpers ``lambdarig layer`` shares: ``command_group``, ``add_platform_arguments``
and ``build_errors``.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

from lambdarig.cli import CommandError

_EXAMPLES = """\
examples:
  lambdarig image build examples/hello --tag hello:latest
  lambdarig image build examples/hello --tag hello:bookworm --base lambdarig-base:bookworm
  lambdarig image build app/ --tag app:ric --variant awslambdaric -r app/requirements.txt
then:
  docker run --rm -p 9000:8080 hello:latest
  curl -XPOST localhost:9000/2015-03-31/functions/function/invocations -d '{}'
"""


def command_group(
    subparsers: Any, name: str, help: str, description: str, epilog: str
) -> Callable[[str, str], argparse.ArgumentParser]:
    """Add ``lambdarig NAME ACTION ...``; return a function adding one ACTION's parser."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = subparsers.add_parser(
        name, help=help, description=description, epilog=epilog, formatter_class=raw
    )
    actions = parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)

    def add_action(action: str, action_help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(
            action, help=action_help, epilog=epilog, formatter_class=raw
        )
        return parser

    return add_action


def add_platform_arguments(parser: argparse.ArgumentParser, arch: str | None) -> None:
    """``--arch`` (default ``arch``) and ``--pip-arg``: where wheels are downloaded for, and how."""
    parser.add_argument(
        "--arch",
        default=arch,
        choices=("x86_64", "arm64"),
        help="Lambda architecture of the wheels (default: " + (arch or "the base image's") + ")",
    )
    parser.add_argument(
        "--pip-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra pip download argument, e.g. --pip-arg=--no-index (repeatable)",
    )


@contextlib.contextmanager
def build_errors() -> Iterator[None]:
    """Turn ``lambdarig.build`` errors into one-line CLI errors."""
    from lambdarig.build.errors import BuildError

    try:
        yield
    except BuildError as exc:
        raise CommandError(str(exc)) from exc


def register(subparsers: Any) -> None:
    add_action = command_group(
        subparsers,
        "image",
        help="build function container images",
        description="Build Lambda function images. Wheels are downloaded on the host for the "
        "image's platform; nothing is fetched from inside the build.",
        epilog=_EXAMPLES,
    )
    build = add_action("build", "build an image from a code directory")
    build.add_argument("code_dir", type=Path, metavar="CODE_DIR", help="function code (/var/task)")
    build.add_argument("--tag", required=True, help="image tag, e.g. hello:latest")
    build.add_argument("--handler", default="app.handler", help="the image's CMD (app.handler)")
    build.add_argument("-r", "--requirements", type=Path, help="requirements.txt to install")
    build.add_argument("--python", help="the base image's Python, e.g. 3.12 (default: ask it)")
    build.add_argument("--base", default=None, help="base image (default python:3.12-slim)")
    build.add_argument(
        "--variant",
        default="lambdarig",
        choices=("lambdarig", "awslambdaric"),
        help="runtime client inside the image (default: lambdarig)",
    )
    build.add_argument(
        "--wheel-cache",
        type=Path,
        metavar="DIR",
        help="keep downloaded wheels in DIR for the next build (keyed by requirements, Python "
        "and platform; delete DIR to pick up new releases)",
    )
    build.add_argument(
        "--follow-links",
        action="store_true",
        help="copy what a link leading outside CODE_DIR points at (default: refuse such links; "
        "links inside CODE_DIR stay links)",
    )
    add_platform_arguments(build, None)
    build.set_defaults(func=_build)


def _megabytes(size: int | None) -> str:
    return "not present locally" if size is None else f"{size / 1_000_000:.1f} MB"


def _build(args: argparse.Namespace) -> int:
    from lambdarig.build import images

    with build_errors():
        built = images.build_image(
            args.code_dir,
            args.tag,
            base_image=args.base or images.DEFAULT_BASE_IMAGE,
            python_version=args.python,
            variant=args.variant,
            requirements=args.requirements,
            arch=args.arch,
            pip_args=args.pip_arg,
            handler=args.handler,
            wheel_cache=args.wheel_cache,
            follow_links=args.follow_links,
        )
    print(
        f"built {built.tag} ({built.image_id[:19]}): {_megabytes(built.size_bytes)}; "
        f"base {built.base_image}: {_megabytes(built.base_size_bytes)}"
    )
    return 0
