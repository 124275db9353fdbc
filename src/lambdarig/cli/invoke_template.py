"""``lambdarig invoke LogicalId --template template.yaml``: one invocation of a template's function,
as ``sam local invoke`` makes it: start the function (only that one), invoke it once with the event,
print the payload on stdout and the function's logs (its output, START/END/REPORT) on stderr, stop.

Exit status as ``lambdarig invoke``: 0, 1 when the function failed, 2 for a user mistake (one line).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from lambdarig import invoke_api
from lambdarig.cli import CommandError
from lambdarig.cli.hosting import CodeDirs, hosted_function
from lambdarig.cli.invoke import print_answer, read_event
from lambdarig.cli.serve_template import load
from lambdarig.project.model import Function, Project
from lambdarig.rie_server.project_emulator import HostedFunction


def pick(project: Project, name: str | None) -> Function:
    """The function ``name`` (logical id or name); without one, the template's only function."""
    ids = ", ".join(function.logical_id for function in project.functions)
    if name is None:
        if len(project.functions) == 1:
            return project.functions[0]
        raise CommandError(f"expected a function to invoke (one of {ids}), got none")
    try:
        return project.function(name)
    except KeyError:
        raise CommandError(f"expected a function of the template ({ids}), got {name!r}") from None


async def invoke_once(hosted: HostedFunction, event: bytes) -> tuple[int, dict[str, str], bytes]:
    """Start ``hosted`` (logs to stderr), invoke it with ``event``, stop; the Invoke API answer."""
    from lambdarig.rie_server import ids
    from lambdarig.rie_server.errors import EmulatorError
    from lambdarig.rie_server.invoke import protocol as proto
    from lambdarig.rie_server.throttled import host_class

    identity = hosted.config.function
    host = host_class(hosted.record.reserved_concurrency)(hosted.config, output=sys.stderr)
    try:
        await host.start()
        path = invoke_api.PATH_INVOKE.format(name=identity.name)
        raw = proto.RawRequest("POST", path, {}, {}, event)
        call = proto.parse_invoke(
            raw, identity, proto.CompatMode.SERVICE, ids.uuid4(), ids.new_trace_id()
        )
        answer = call if isinstance(call, proto.HttpResponse) else await host.run(call)
    except (EmulatorError, OSError) as exc:
        raise CommandError(f"could not start {hosted.logical_id}: {exc}") from None
    finally:
        await host.stop()
    if not isinstance(answer, proto.HttpResponse):  # a plain invoke is never streamed
        raise CommandError(f"expected a buffered answer from {hosted.logical_id}, got a stream")
    return answer.status, {key.lower(): value for key, value in answer.headers}, answer.body


def run_template_invoke(args: argparse.Namespace) -> int:
    if args.url is not None or args.event_invocation:
        raise CommandError("expected --template without --url and --async, got them together")
    environ = dict(os.environ)
    project = load(args, environ)
    function = pick(project, args.name)
    event = read_event(args.event)
    warnings: list[str] = []
    with CodeDirs() as dirs:
        code = dirs.code_dir(function)
        hosted = hosted_function(function, project, code, environ, warnings)
        for warning in warnings:
            print(warning, file=sys.stderr)
        status, headers, body = asyncio.run(invoke_once(hosted, event))
    return print_answer(status, lambda name: headers.get(name.lower()), body)
