"""``lambdarig layer``: build reproducible layer zips and publish them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lambdarig.cli import CommandError
from lambdarig.cli.image import add_platform_arguments, build_errors, command_group

_EXAMPLES = """\
examples:
  lambdarig layer build runtime --out dist/lambdarig-runtime.zip --alongside src/
  lambdarig layer build deps -r requirements.txt --python 3.12 --arch arm64 --out dist/deps.zip
  lambdarig layer publish dist/lambdarig-runtime.zip --name lambdarig-runtime \\
      --compatible-runtimes python3.12 python3.13 --architectures x86_64 arm64
"""


def register(subparsers: Any) -> None:
    add_action = command_group(
        subparsers,
        "layer",
        help="build and publish Lambda layers",
        description="Build reproducible Lambda layer zips (same input, same SHA-256) and publish "
        "them.",
        epilog=_EXAMPLES,
    )
    build = add_action("build", "build a layer zip")
    build.add_argument(
        "kind",
        choices=("runtime", "deps"),
        help="runtime: lambdarig's runtime client + exec wrapper; deps: requirements",
    )
    build.add_argument("--out", type=Path, required=True, help="zip file to write")
    build.add_argument("-r", "--requirements", type=Path, help="requirements.txt (deps)")
    build.add_argument("--python", default="3.12", help="Lambda Python version (deps), e.g. 3.12")
    build.add_argument(
        "--alongside",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="function code or another layer (directory or zip) sharing Lambda's 250 MB "
        "unzipped limit with this layer (repeatable)",
    )
    add_platform_arguments(build, "x86_64")
    build.set_defaults(func=_build)
    publish = add_action("publish", "publish a zip as a new layer version")
    publish.add_argument("zip", type=Path)
    publish.add_argument("--name", required=True, help="layer name")
    publish.add_argument("--compatible-runtimes", nargs="+", default=[], metavar="RUNTIME")
    publish.add_argument("--architectures", nargs="+", default=[], metavar="ARCH")
    publish.add_argument("--description", default="")
    publish.add_argument("--endpoint-url", help="Lambda API endpoint (default: boto3's)")
    publish.add_argument("--region", help="AWS region (default: boto3's)")
    publish.set_defaults(func=_publish)


def _build(args: argparse.Namespace) -> int:
    from lambdarig.build import deps, layers

    with build_errors():
        alongside = sum(layers.unzipped_size(path) for path in args.alongside)
        if args.kind == "runtime":
            layer = layers.build_runtime_layer(args.out, function_unzipped_bytes=alongside)
        else:
            if args.requirements is None:
                raise CommandError("expected -r/--requirements FILE for a deps layer, got none")
            if args.requirements.is_file():  # progress: pip's output is captured
                print(
                    f"downloading the wheels of {args.requirements} for Python {args.python} "
                    f"({args.arch}) with pip ...",
                    file=sys.stderr,
                    flush=True,
                )
            layer = deps.build_dependency_layer(
                args.requirements,
                args.out,
                python_version=args.python,
                arch=args.arch,
                pip_args=args.pip_arg,
                function_unzipped_bytes=alongside,
            )
    print(
        f"wrote {layer.path}: {layer.zipped_bytes:,} bytes zipped, {layer.unzipped_bytes:,} "
        f"bytes unzipped, {layer.entries} files, sha256 {layer.sha256}"
    )
    return 0


def _publish(args: argparse.Namespace) -> int:
    from lambdarig.build import publish

    with build_errors():
        client = publish.lambda_client(args.endpoint_url, args.region)
        published = publish.publish_layer(
            args.zip,
            args.name,
            client,
            compatible_runtimes=args.compatible_runtimes,
            architectures=args.architectures,
            description=args.description,
        )
    print(
        f"published {published.layer_version_arn} (version {published.version}, "
        f"{published.code_size:,} bytes, CodeSha256 {published.code_sha256})"
    )
    return 0
