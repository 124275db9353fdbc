"""A template's functions as the emulator runs them: ``lambdarig.project.Function`` values ->
``HostedFunction`` (configuration, control-plane record) and the HTTP front's routes.

A folder ``CodeUri`` is used in place; a zip is extracted once into a scratch directory
(``CodeDirs``, removed on exit) within Lambda's unzipped size and entry limits. Reads the caller's
environment it is given (the runtime inherits it, as with ``lambdarig serve``).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from lambdarig import invoke_api as api
from lambdarig.cli import CommandError
from lambdarig.cli.runtimes import lambdarig_path, python_for
from lambdarig.project.model import Function, Project
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.fronts.routing import Route, route_from_template
from lambdarig.rie_server.invoke.control import PUBLISHED_VERSION, FunctionRecord
from lambdarig.rie_server.invoke.names import FunctionIdentity
from lambdarig.rie_server.project_emulator import HostedFunction

UNRESERVED_CONCURRENCY = 10  # environments per function without ReservedConcurrentExecutions
LAYER_ARN = "arn:aws:lambda:{region}:{account}:layer:{name}:1"


class CodeDirs:
    """Where each function's code is: its folder, or its zip extracted (once) into a scratch
    directory removed by ``close`` (a context manager)."""

    def __init__(self) -> None:
        self._scratch: Path | None = None

    def code_dir(self, function: Function) -> Path | None:
        code = function.code
        if code is None or code.is_dir():
            return code
        from lambdarig.rie_server.environments.layers import prepare_opt
        from lambdarig.rie_server.environments.scratch import make_scratch, sweep_stale
        from lambdarig.rie_server.errors import EmulatorError

        if self._scratch is None:
            sweep_stale()
            self._scratch = make_scratch()
        try:
            return prepare_opt([code], self._scratch / function.logical_id)
        except EmulatorError as exc:
            raise CommandError(f"{function.logical_id}: CodeUri {code}: {exc}") from None

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> CodeDirs:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


# SnapStart.ApplyOn: the only value that turns SnapStart on (the other is None).
SNAPSTART_PUBLISHED_VERSIONS = "PublishedVersions"


def identity(function: Function, project: Project) -> FunctionIdentity:
    other = (function.logical_id,) if function.logical_id != function.name else ()
    alias = function.auto_publish_alias
    return FunctionIdentity(
        name=function.name,
        region=project.region,
        account=project.account,
        other_names=other,
        qualifiers=(PUBLISHED_VERSION, alias) if alias else (),
    )


def hosted_function(
    function: Function,
    project: Project,
    code: Path | None,
    environ: Mapping[str, str],
    warn: list[str],
) -> HostedFunction:
    """How to run ``function`` (``code``: its code directory) and what the control plane says."""
    where = function.logical_id
    reserved = function.reserved_concurrency
    if reserved == 0:
        raise CommandError(
            f"{where}: expected ReservedConcurrentExecutions >= 1, got 0 (a function that "
            "throttles every invoke is not supported yet)"
        )
    image = function.image_uri if function.package_type == "Image" else None
    command: tuple[str, ...] = ()
    env = {**environ, **function.environment}
    if image is None:
        if not function.handler or not function.runtime or code is None:
            raise CommandError(f"expected {where} to have Handler, Runtime and CodeUri, got none")
        python, warning = python_for(function.runtime, environ)
        if warning is not None:
            warn.append(f"{warning} ({where})")
        command = (python, "-m", "lambdarig.runtime_client", function.handler)
        paths = [str(code), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        if python != sys.executable:
            paths.append(lambdarig_path())
        env["PYTHONPATH"] = os.pathsep.join(paths)
    config = EmulatorConfig(
        command=command,
        cwd=str(code) if code is not None else None,
        handler=function.handler,
        function=identity(function, project),
        runtime_api_address="127.0.0.1:0",
        timeout_s=float(function.timeout_s),
        memory_mb=function.memory_mb,
        max_concurrency=reserved or UNRESERVED_CONCURRENCY,
        layers=tuple(str(layer.content) for layer in function.layers),
        image=image,
        snapstart=function.snap_start == SNAPSTART_PUBLISHED_VERSIONS,
    )
    config = config.with_runtime_env(env)
    layer_arns = tuple(
        LAYER_ARN.format(region=project.region, account=project.account, name=layer.logical_id)
        for layer in function.layers
    )
    record = FunctionRecord(
        identity=config.function,
        handler=function.handler,
        runtime=function.runtime,
        timeout_s=function.timeout_s,
        memory_mb=function.memory_mb,
        environment=dict(function.environment),
        layers=layer_arns,
        package_type=function.package_type,
        image_uri=function.image_uri,
        architectures=function.architectures,
        reserved_concurrency=reserved,
        alias=function.auto_publish_alias,
        tracing=function.tracing,
    )
    return HostedFunction(config, record, function.logical_id)


def front_routes(project: Project) -> tuple[list[Route], list[str]]:
    """The REST and HTTP API routes of every function (served by logical id) and the functions
    with a Function URL, in template order."""
    routes = [
        route_from_template(route, function.logical_id)
        for function in project.functions
        for route in function.routes
    ]
    urls = [function.logical_id for function in project.functions if function.function_url]
    return routes, urls


def default_region(environ: Mapping[str, str]) -> str:
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or api.DEFAULT_REGION
