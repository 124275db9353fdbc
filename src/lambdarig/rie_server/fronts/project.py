"""A project's HTTP fronts: ``lambdarig serve --template``.

Ports (``plan_fronts``): REST API routes (``Api`` events, every REST API of the template) on
``--http-port``; HTTP API routes (``HttpApi`` events) on ``--http-port`` when there are no REST
routes, else on the next port (one listener answers as one kind of API: its errors, request id
header and integration timeout differ); then each Function URL on the next port, in template
order. With ``--http-port 0`` every listener gets an ephemeral port. Two routes with the same
method and path in one listener: the first in template order wins (as ``sam local start-api``).

``serve_project`` starts the emulator and the fronts, prints the start table and runs until SIGINT
or SIGTERM. Exit status as ``lambdarig-rie``: 0 after a signal, 1 when something cannot start.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from lambdarig.rie_server.cli import PROG, READY_LINE, StopOnSignals, configure_logging
from lambdarig.rie_server.errors import EmulatorError
from lambdarig.rie_server.fronts.cors import CorsConfig
from lambdarig.rie_server.fronts.routing import (
    BUFFERED,
    RESPONSE_STREAM,
    Route,
    RouteTable,
    single_function_routes,
)
from lambdarig.rie_server.fronts.server import HttpFront
from lambdarig.rie_server.project_emulator import ProjectEmulator

KIND_TITLES = {"rest": "REST API", "http": "HTTP API", "url": "Function URL"}
THROTTLED_NOTE = "throttled (ReservedConcurrentExecutions: 0): every invoke answers 429"


@dataclass(frozen=True)
class FrontPlan:
    """One listener: its routes (one kind) and its offset from ``--http-port``."""

    kind: str
    routes: tuple[Route, ...]
    offset: int


def plan_fronts(
    routes: Sequence[Route],
    url_functions: Sequence[str],
    url_cors: Mapping[str, CorsConfig] | None = None,
    streamed: Collection[str] = (),
) -> list[FrontPlan]:
    """The listeners for ``routes`` (REST and HTTP API) and the Function URLs of
    ``url_functions`` (names the invoker knows; ``url_cors``: their ``Cors``), in port order;
    the Function URLs of ``streamed`` have ``InvokeMode: RESPONSE_STREAM``."""
    url_cors = url_cors or {}
    plans: list[FrontPlan] = []
    for kind in ("rest", "http"):
        of_kind = tuple(route for route in routes if route.kind == kind)
        if of_kind:
            plans.append(FrontPlan(kind, of_kind, len(plans)))
    offset = max(1, len(plans))
    for index, function in enumerate(url_functions):
        mode = RESPONSE_STREAM if function in streamed else BUFFERED
        cors = url_cors.get(function)
        url_routes = single_function_routes("url", function, invoke_mode=mode, cors=cors)
        plans.append(FrontPlan("url", tuple(url_routes), offset + index))
    return plans


def route_lines(front: HttpFront) -> list[tuple[str, str]]:
    """(function, ``METHOD URL``) for each route of ``front``, in template order."""
    lines = []
    for route in front.routes.routes:
        if route.path is None:
            shown = f"{front.url}/ (any path)" if route.kind == "url" else f"{front.url}/*"
            if route.invoke_mode == RESPONSE_STREAM:
                shown = f"{front.url}/ (any path, streamed)"
            method = "ANY"
        else:
            shown = front.url + route.path
            method = route.method
        lines.append((route.function, f"{KIND_TITLES[route.kind]:<12} {method:<6} {shown}"))
    return lines


def start_table(emulator: ProjectEmulator, fronts: Sequence[HttpFront]) -> list[str]:
    """The start table: each function, its Invoke API name and what it serves over HTTP."""
    served: dict[str, list[str]] = {}
    for front in fronts:
        for function, line in route_lines(front):
            served.setdefault(function, []).append(line)
    rows = [("FUNCTION", "INVOKE API NAME", "HTTP")]
    for hosted in emulator.functions:
        lines = served.get(hosted.logical_id, [])
        if hosted.record.reserved_concurrency == 0:
            lines = [THROTTLED_NOTE, *lines]
        lines = lines or ["-"]
        rows.append((hosted.logical_id, hosted.config.function.name, lines[0]))
        rows.extend(("", "", line) for line in lines[1:])
    width0 = max(len(row[0]) for row in rows)
    width1 = max(len(row[1]) for row in rows)
    table = [f"{row[0]:<{width0}}  {row[1]:<{width1}}  {row[2]}".rstrip() for row in rows]
    invoke = f"{emulator.invoke_url}/2015-03-31/functions/NAME/invocations"
    return [*table, f"Invoke API: {invoke} (NAME: logical id, name or ARN[:qualifier])"]


async def serve_project(
    emulator: ProjectEmulator,
    routes: Sequence[Route],
    url_functions: Sequence[str],
    host: str,
    http_port: int,
    *,
    log_level: str = "info",
    status: TextIO | None = None,
    url_cors: Mapping[str, CorsConfig] | None = None,
    streamed: Collection[str] = (),
    stream_throttle: bool = True,
) -> int:
    """Serve the project until a signal (see the module docs); ``streamed``: the functions
    whose Function URL streams; ``stream_throttle``: the service's bandwidth rule on them."""
    status = status if status is not None else sys.stderr
    configure_logging(log_level, status)
    fronts = [
        HttpFront(
            RouteTable(plan.routes),
            emulator.invoke,
            host,
            http_port + plan.offset if http_port else 0,
            stream_invoke=emulator.invoke_streaming,
            stream_throttle=stream_throttle,
        )
        for plan in plan_fronts(routes, url_functions, url_cors, streamed)
    ]
    with StopOnSignals() as stop:
        try:
            try:
                await emulator.start()
                for front in fronts:
                    await front.start()
            except (OSError, EmulatorError) as exc:
                print(f"{PROG}: error: could not start: {exc}", file=status, flush=True)
                return 1
            for line in start_table(emulator, fronts):
                print(line, file=status)
            print(READY_LINE.format(url=emulator.invoke_url), file=status, flush=True)
            await stop.wait()
            return 0
        finally:
            for front in fronts:
                await front.stop()
            await emulator.stop()
