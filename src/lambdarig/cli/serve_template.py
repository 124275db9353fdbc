"""``lambdarig serve --template template.yaml``: every function of a SAM template behind one
Invoke API (``--port``), its REST and HTTP API routes on ``--http-port`` and its Function URLs on
the next ports (``rie_server.fronts.project``). ``--watch`` re-initialises only the functions whose
code folder or layers changed; ``Event`` destinations outside the project go to
``--aws-endpoint-url`` (``cli.aws_destinations``)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdarig.cli import CommandError
from lambdarig.cli.hosting import CodeDirs, default_region, hosted_function
from lambdarig.cli.template_settings import front_routes, streamed_urls, url_cors

if TYPE_CHECKING:
    from lambdarig.rie_server.project_emulator import HostedFunction

MAX_ENV_VARS_BYTES = 1024 * 1024


def parameter_overrides(words: Sequence[str]) -> dict[str, str]:
    """``K=V`` words (several per argument, shell-quoted, as sam accepts them) or
    ``ParameterKey=K,ParameterValue=V``."""
    overrides: dict[str, str] = {}
    for word in (part for argument in words for part in shlex.split(argument)):
        if word.startswith("ParameterKey="):
            key, sep, value = word[len("ParameterKey=") :].partition(",ParameterValue=")
        else:
            key, sep, value = word.partition("=")
        if not sep or not key:
            raise CommandError(f"expected --parameter-overrides KEY=VALUE, got {word!r}")
        overrides[key] = value
    return overrides


def read_env_vars(path: str | None) -> dict[str, Any]:
    """SAM's ``--env-vars`` document: a JSON object of objects of strings."""
    if path is None:
        return {}
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_ENV_VARS_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"expected --env-vars to be a readable JSON file, got {exc}") from None
    if len(data) > MAX_ENV_VARS_BYTES:
        raise CommandError(f"expected --env-vars of at most {MAX_ENV_VARS_BYTES} bytes, got more")
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise CommandError(f"expected --env-vars to be JSON, got: {exc}") from None
    if not isinstance(document, dict) or not all(
        isinstance(section, dict) for section in document.values()
    ):
        raise CommandError(
            'expected --env-vars as {"Parameters": {"K": "V"}, "LogicalId": {"K": "V"}}, '
            f"got {type(document).__name__} of other values"
        )
    return document


def load(args: argparse.Namespace, environ: Mapping[str, str]) -> Any:
    """The project of ``args.template``; any ``ProjectError`` is one ``CommandError`` line."""
    from lambdarig.project import ProjectError, load_project

    try:
        return load_project(
            Path(args.template),
            region=args.region or default_region(environ),
            parameter_overrides=parameter_overrides(args.parameter_overrides),
            env_vars=read_env_vars(args.env_vars),
            stack_name=args.stack_name,
        )
    except ProjectError as exc:
        raise CommandError(str(exc)) from None


def retry_delays(flag: str | None) -> tuple[float, ...] | None:
    """``--async-retry-delays`` (None: the default)."""
    from lambdarig.rie_server.config import parse_retry_delays
    from lambdarig.rie_server.errors import ConfigError

    if flag is None:
        return None
    try:
        return parse_retry_delays(flag)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def endpoint_url(url: str | None) -> str | None:
    """``--aws-endpoint-url``: an absolute http(s) URL with a host."""
    from urllib.parse import urlsplit

    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CommandError(f"expected --aws-endpoint-url like http://127.0.0.1:4566, got {url!r}")
    return url


def run_template(args: argparse.Namespace) -> int:
    from lambdarig.cli.aws_destinations import aws_sender
    from lambdarig.rie_server.fronts.project import serve_project
    from lambdarig.rie_server.project_emulator import ProjectEmulator

    if args.handler is not None:
        raise CommandError(f"expected HANDLER or --template, got both ({args.handler!r})")
    delays = retry_delays(args.async_retry_delays)
    endpoint = endpoint_url(args.aws_endpoint_url)
    environ = dict(os.environ)
    project = load(args, environ)
    warnings: list[str] = []
    with CodeDirs() as dirs:
        functions = [
            hosted_function(
                function,
                project,
                dirs.code_dir(function),
                environ,
                warnings,
                watch=args.watch,
                retry_delays=delays,
                tracing=args.tracing,
                xray_daemon_address=args.xray_daemon_address,
            )
            for function in project.functions
        ]
        for warning in warnings:
            print(warning, file=sys.stderr)
        if args.no_stream_throttle:
            functions = [without_stream_throttle(function) for function in functions]
        routes, urls = front_routes(project)
        cors = url_cors(project)
        streamed = streamed_urls(project)
        send = aws_sender(endpoint, project.region, environ)
        emulator = ProjectEmulator(functions, args.host, args.port, send=send)
        served = serve_project(
            emulator,
            routes,
            urls,
            args.host,
            args.http_port,
            url_cors=cors,
            streamed=streamed,
            stream_throttle=not args.no_stream_throttle,
        )
        return asyncio.run(served)


def without_stream_throttle(function: HostedFunction) -> HostedFunction:
    """``--no-stream-throttle``: ``function``'s streamed responses at full speed."""
    config = dataclasses.replace(function.config, stream_throttle=False)
    return dataclasses.replace(function, config=config)
