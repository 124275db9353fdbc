"""A template's functions as the emulator runs them: ``lambdarig.project.Function`` values ->
``HostedFunction`` (configuration, control-plane record) and the HTTP front's routes.

A folder ``CodeUri`` is used in place; a zip is extracted once into a scratch directory
(``CodeDirs``, removed on exit) within Lambda's unzipped size and entry limits. Reads the caller's
environment it is given (the runtime inherits it, as with ``lambdarig serve``).

``EventInvokeConfig`` (``MaximumRetryAttempts`` 0-2, ``MaximumEventAgeInSeconds`` 60-21600,
``DestinationConfig``) and ``DeadLetterQueue`` are checked here, as CloudFormation checks them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from lambdarig import invoke_api
from lambdarig.cli import CommandError
from lambdarig.cli.layer_pythons import mismatches
from lambdarig.cli.runtimes import lambdarig_path, python_for
from lambdarig.project.model import Function, Project
from lambdarig.rie_server.arguments import DEFAULT_XRAY_DAEMON_ADDRESS
from lambdarig.rie_server.choices import MAX_RETRY_ATTEMPTS, FunctionIdentity, Tracing
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.errors import ConfigError
from lambdarig.rie_server.fronts.cors import CorsConfig, CorsError
from lambdarig.rie_server.fronts.routing import Route, route_from_template
from lambdarig.rie_server.invoke.async_invocations import EVENT_AGE_RANGE_S
from lambdarig.rie_server.invoke.control import PUBLISHED_VERSION, FunctionRecord
from lambdarig.rie_server.invoke.destinations import EventDestinations
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
    where = function.logical_id
    reserved = function.reserved_concurrency
    if reserved is not None and reserved < 0:
        raise CommandError(f"{where}: expected ReservedConcurrentExecutions >= 0, got {reserved}")
    image = image_uri(function)
    command: tuple[str, ...] = () if image is None else image_command(function, warn)
    env = {**environ, **function.environment}
    layer_python = None
    if image is None:
        command, layer_python = process_command(function, code, env, environ, warn)
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
        config = config.with_runtime_env(env)
    except ConfigError as exc:  # --xray-daemon-address
        raise CommandError(str(exc)) from None
    retries, max_age = event_limits(function)
    config = dataclasses.replace(
        config,
        async_max_retries=retries,
        async_max_age_s=max_age,
        watch_paths=watched(function, code, warn) if watch else (),
    )
    if retry_delays is not None:
        config = dataclasses.replace(config, async_retry_delays=retry_delays)
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
        tracing=config.tracing.value,
    )
    return HostedFunction(config, record, function.logical_id, event_destinations(function))


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


def image_uri(function: Function) -> str | None:
    """The local image of a ``PackageType: Image`` function (None for a zip function)."""
    if function.package_type != "Image":
        return None
    if not isinstance(function.image_uri, str) or not function.image_uri:
        raise CommandError(
            f"{function.logical_id}: expected ImageUri (a local image) for PackageType Image, got "
            f"{function.image_uri!r}: build it (lambdarig image build DIR --tag TAG), then set "
            "ImageUri: TAG"
        )
    return function.image_uri


# ImageConfig keys the containers cannot apply yet (their image's own values are used).
UNAPPLIED_IMAGE_CONFIG = ("EntryPoint", "WorkingDirectory")


def image_command(function: Function, warn: list[str]) -> tuple[str, ...]:
    """``ImageConfig.Command`` (it replaces the image's CMD, as on the service), else ``()``: the
    image's CMD."""
    config = function.image_config
    where = f"{function.logical_id}.ImageConfig"
    if not isinstance(config, dict):
        raise CommandError(f"expected {where} to be a mapping, got {config!r}"[:300])
    for key in UNAPPLIED_IMAGE_CONFIG:
        if config.get(key) is not None:
            warn.append(f"lambdarig: warning: {where}.{key} is not applied yet: the image's own is")
    command = config.get("Command")
    if command is None:
        return ()
    if not isinstance(command, list) or not all(isinstance(word, str) for word in command):
        raise CommandError(f"expected {where}.Command to be a list of strings, got {command!r}")
    return tuple(command)


# A template's Tracing: SAM's values (Disabled: no tracing configuration, as PassThrough).
TEMPLATE_TRACING = {"Active": Tracing.ACTIVE, "PassThrough": Tracing.PASSTHROUGH}
TEMPLATE_TRACING_OFF = "Disabled"


def tracing_mode(function: Function, flag: str | None) -> Tracing:
    """``--tracing`` when given, else the function's ``Tracing`` (its own or from ``Globals``)."""
    value = function.tracing
    known = isinstance(value, str) and (value in TEMPLATE_TRACING or value == TEMPLATE_TRACING_OFF)
    if value is not None and not known:
        choices = ", ".join([*TEMPLATE_TRACING, TEMPLATE_TRACING_OFF])
        raise CommandError(f"expected {function.logical_id}.Tracing in {choices}, got {value!r}")
    if flag is not None:
        return Tracing.ACTIVE if flag == "active" else Tracing.PASSTHROUGH
    return TEMPLATE_TRACING.get(str(value), Tracing.PASSTHROUGH)


def watched(function: Function, code: Path | None, warn: list[str]) -> tuple[str, ...]:
    """What ``--watch`` polls for ``function``: its code folder and its layers."""
    if function.code is None or code is None:
        warn.append(f"{function.logical_id}: --watch ignores an image function (rebuild it)")
        return ()
    if function.code != code:
        warn.append(f"{function.logical_id}: --watch ignores a zip CodeUri (extracted once)")
        return ()
    return (str(code.resolve()), *(str(layer.content.resolve()) for layer in function.layers))


def _bounded_int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CommandError(f"expected {where} to be an integer in {low}-{high}, got {value!r}")
    return value


def _event_config(function: Function) -> dict[str, Any]:
    config = function.event_invoke_config
    if not isinstance(config, dict) or not isinstance(config.get("DestinationConfig") or {}, dict):
        raise CommandError(
            f"expected {function.logical_id}.EventInvokeConfig to be a mapping with a mapping "
            f"DestinationConfig, got {config!r}"[:300]
        )
    return config


def event_limits(function: Function) -> tuple[int, float | None]:
    """``MaximumRetryAttempts`` (default 2) and ``MaximumEventAgeInSeconds`` (default: none)."""
    config = _event_config(function)
    where = f"{function.logical_id}.EventInvokeConfig"
    retries = MAX_RETRY_ATTEMPTS
    if config.get("MaximumRetryAttempts") is not None:
        retries = _bounded_int(
            config["MaximumRetryAttempts"], f"{where}.MaximumRetryAttempts", 0, MAX_RETRY_ATTEMPTS
        )
    age: float | None = None
    if config.get("MaximumEventAgeInSeconds") is not None:
        age = _bounded_int(
            config["MaximumEventAgeInSeconds"],
            f"{where}.MaximumEventAgeInSeconds",
            *EVENT_AGE_RANGE_S,
        )
    return retries, age


DESTINATION_TYPES = ("Lambda", "SQS", "SNS", "EventBridge")
DEAD_LETTER_TYPES = ("SQS", "SNS")


def _arn(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.startswith("arn:") or len(value.split(":")) < 6:
        raise CommandError(f"expected {where} to be an ARN, got {value!r}")
    return value


def _destination(config: Mapping[str, Any], kind: str, where: str) -> str | None:
    entry = (config.get("DestinationConfig") or {}).get(kind)
    if entry is None:
        return None
    where = f"{where}.DestinationConfig.{kind}"
    if not isinstance(entry, dict) or entry.get("Type") not in DESTINATION_TYPES:
        got = entry.get("Type") if isinstance(entry, dict) else entry
        raise CommandError(f"expected {where}.Type in {', '.join(DESTINATION_TYPES)}, got {got!r}")
    if entry.get("Destination") is None:
        raise CommandError(
            f"expected {where}.Destination (an ARN; a queue or topic SAM would create is not "
            "supported), got none"
        )
    return _arn(entry["Destination"], f"{where}.Destination")


def event_destinations(function: Function) -> EventDestinations:
    """The function's ``OnSuccess``/``OnFailure`` destinations and ``DeadLetterQueue``."""
    config = _event_config(function)
    where = f"{function.logical_id}.EventInvokeConfig"
    dead_letter = None
    queue = function.dead_letter_queue
    if queue:
        if not isinstance(queue, dict):
            raise CommandError(f"expected {function.logical_id}.DeadLetterQueue to be a mapping")
        dlq_where = f"{function.logical_id}.DeadLetterQueue"
        if queue.get("Type") not in DEAD_LETTER_TYPES:
            raise CommandError(
                f"expected {dlq_where}.Type in {', '.join(DEAD_LETTER_TYPES)}, "
                f"got {queue.get('Type')!r}"
            )
        dead_letter = _arn(queue.get("TargetArn"), f"{dlq_where}.TargetArn")
    return EventDestinations(
        on_success=_destination(config, "OnSuccess", where),
        on_failure=_destination(config, "OnFailure", where),
        dead_letter=dead_letter,
    )


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


def url_cors(project: Project) -> dict[str, CorsConfig]:
    """The ``FunctionUrlConfig`` ``Cors`` of each function that has one, by logical id."""
    configs = {}
    for function in project.functions:
        config = function.function_url
        if not isinstance(config, dict) or config.get("Cors") is None:
            continue
        try:
            configs[function.logical_id] = CorsConfig.from_url(config["Cors"])
        except CorsError as exc:
            raise CommandError(f"{function.logical_id}: {exc}") from None
    return configs


URL_INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")


def streamed_urls(project: Project) -> list[str]:
    """The functions whose ``FunctionUrlConfig`` has ``InvokeMode: RESPONSE_STREAM`` (the other
    allowed value, and the default, is ``BUFFERED``)."""
    streamed = []
    for function in project.functions:
        config = function.function_url
        if not config:
            continue
        where = f"{function.logical_id}.FunctionUrlConfig"
        if not isinstance(config, dict):
            raise CommandError(f"expected {where} to be a mapping, got {config!r}"[:300])
        mode = config.get("InvokeMode", "BUFFERED")
        if mode not in URL_INVOKE_MODES:
            raise CommandError(
                f"expected {where}.InvokeMode in {', '.join(URL_INVOKE_MODES)}, got {mode!r}"[:300]
            )
        if mode == "RESPONSE_STREAM":
            streamed.append(function.logical_id)
    return streamed


def default_region(environ: Mapping[str, str]) -> str:
    return (
        environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or invoke_api.DEFAULT_REGION
    )
