"""A template's functions as the emulator runs them: ``lambdarig.project.Function`` values ->
``HostedFunction`` (configuration, control-plane record); the template's settings are read by
``cli.template_settings``.

A folder ``CodeUri`` is used in place; a zip is extracted once into a scratch directory
(``CodeDirs``, removed on exit) within Lambda's unzipped size and entry limits. Reads the caller's
environment it is given (the runtime inherits it, as with ``lambdarig serve``).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from lambdarig import invoke_api
from lambdarig.cli import CommandError
from lambdarig.cli.layer_pythons import mismatches
from lambdarig.cli.runtimes import lambdarig_path, python_for
from lambdarig.cli.template_settings import (
    event_destinations,
    event_limits,
    image_command,
    image_uri,
    tracing_mode,
)
from lambdarig.project.model import Function, Project
from lambdarig.rie_server.arguments import DEFAULT_XRAY_DAEMON_ADDRESS
from lambdarig.rie_server.choices import FunctionIdentity
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.errors import ConfigError
from lambdarig.rie_server.invoke.control import PUBLISHED_VERSION, FunctionRecord
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
    *,
    watch: bool = False,
    retry_delays: tuple[float, ...] | None = None,
    tracing: str | None = None,
    xray_daemon_address: str | None = None,
) -> HostedFunction:
    """How to run ``function`` (``code``: its code directory) and what the control plane says.
    ``watch``: re-initialise it when its code folder or a layer changes (``--watch``);
    ``retry_delays``: ``--async-retry-delays``; ``tracing``: ``--tracing`` (``active`` or
    ``passthrough``, over the template's ``Tracing``); ``xray_daemon_address``: where active
    tracing sends segments."""
    config = emulator_config(function, project, code, environ, warn, tracing, xray_daemon_address)
    config = with_event_limits(config, function, retry_delays)
    if watch:
        config = dataclasses.replace(config, watch_paths=watched(function, code, warn))
    record = control_record(function, project, config)
    return HostedFunction(config, record, function.logical_id, event_destinations(function))


def emulator_config(
    function: Function,
    project: Project,
    code: Path | None,
    environ: Mapping[str, str],
    warn: list[str],
    tracing: str | None,
    xray_daemon_address: str | None,
) -> EmulatorConfig:
    """The emulator's configuration of ``function``, its runtime's environment included (the
    caller's ``environ`` and the function's ``Environment``)."""
    where = function.logical_id
    reserved = function.reserved_concurrency
    if reserved is not None and reserved < 0:
        raise CommandError(f"{where}: expected ReservedConcurrentExecutions >= 0, got {reserved}")
    image = image_uri(function)
    env = {**environ, **function.environment}
    command, layer_python = function_command(function, image, code, env, environ, warn)
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
        layer_python=layer_python,
        image=image,
        snapstart=function.snap_start == SNAPSTART_PUBLISHED_VERSIONS,
        tracing=tracing_mode(function, tracing),
        xray_daemon_address=xray_daemon_address or DEFAULT_XRAY_DAEMON_ADDRESS,
    )
    try:
        return config.with_runtime_env(env)
    except ConfigError as exc:  # --xray-daemon-address
        raise CommandError(str(exc)) from None


def function_command(
    function: Function,
    image: str | None,
    code: Path | None,
    env: dict[str, str],
    environ: Mapping[str, str],
    warn: list[str],
) -> tuple[tuple[str, ...], str | None]:
    """The runtime command and the ``3.X`` of the Python whose site-packages the layers put on
    the path: an image function's ``ImageConfig.Command`` (or ``()``, its CMD) and no Python; a
    zip function's ``process_command``."""
    if image is not None:
        return image_command(function, warn), None
    return process_command(function, code, env, environ, warn)


def with_event_limits(
    config: EmulatorConfig, function: Function, retry_delays: tuple[float, ...] | None
) -> EmulatorConfig:
    """``config`` with the function's ``Event`` retries and maximum age, and
    ``--async-retry-delays`` when given."""
    retries, max_age = event_limits(function)
    config = dataclasses.replace(config, async_max_retries=retries, async_max_age_s=max_age)
    if retry_delays is not None:
        config = dataclasses.replace(config, async_retry_delays=retry_delays)
    return config


def control_record(function: Function, project: Project, config: EmulatorConfig) -> FunctionRecord:
    """What the control plane (``GetFunction``, ``ListFunctions``...) says about ``function``."""
    layer_arns = tuple(
        LAYER_ARN.format(region=project.region, account=project.account, name=layer.logical_id)
        for layer in function.layers
    )
    return FunctionRecord(
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
        reserved_concurrency=function.reserved_concurrency,
        alias=function.auto_publish_alias,
        tracing=config.tracing.value,
    )


def process_command(
    function: Function,
    code: Path | None,
    env: dict[str, str],
    environ: Mapping[str, str],
    warn: list[str],
) -> tuple[tuple[str, ...], str]:
    """A zip function's runtime command (its ``Runtime``'s Python running lambdarig's client;
    ``PYTHONPATH`` in ``env`` set to its code first) and the ``3.X`` of the Python that runs it,
    whose site-packages the layers put on the path (``layer_pythons``)."""
    where = function.logical_id
    if not function.handler or not function.runtime or code is None:
        raise CommandError(f"expected {where} to have Handler, Runtime and CodeUri, got none")
    python, warning = python_for(function.runtime, environ)
    if warning is not None:
        warn.append(f"{warning} ({where})")
    current = "{}.{}".format(*sys.version_info[:2])
    version = current if python == sys.executable else function.runtime[len("python") :]
    warn.extend(mismatches(function, version))
    paths = [str(code), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    if python != sys.executable:
        paths.append(lambdarig_path())
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return (python, "-m", "lambdarig.runtime_client", function.handler), version


def watched(function: Function, code: Path | None, warn: list[str]) -> tuple[str, ...]:
    """What ``--watch`` polls for ``function``: its code folder and its layers."""
    if function.code is None or code is None:
        warn.append(f"{function.logical_id}: --watch ignores an image function (rebuild it)")
        return ()
    if function.code != code:
        warn.append(f"{function.logical_id}: --watch ignores a zip CodeUri (extracted once)")
        return ()
    return (str(code.resolve()), *(str(layer.content.resolve()) for layer in function.layers))


def default_region(environ: Mapping[str, str]) -> str:
    return (
        environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or invoke_api.DEFAULT_REGION
    )
