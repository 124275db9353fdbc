"""What a SAM template says about running its functions, read and checked as CloudFormation
checks it; each setting becomes the emulator's value or one ``CommandError``: a function's image
(``ImageUri``, ``ImageConfig``), its ``Tracing``, its ``EventInvokeConfig``
(``MaximumRetryAttempts`` 0-2, ``MaximumEventAgeInSeconds`` 60-21600, ``DestinationConfig``) and
``DeadLetterQueue``, and the HTTP front's routes and Function URLs (``FunctionUrlConfig``'s
``Cors`` and ``InvokeMode``). ``cli.hosting`` puts them together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdarig.cli import CommandError
from lambdarig.project.model import Function, Project
from lambdarig.rie_server.choices import MAX_RETRY_ATTEMPTS, Tracing
from lambdarig.rie_server.fronts.cors import CorsConfig, CorsError
from lambdarig.rie_server.fronts.routing import Route, route_from_template
from lambdarig.rie_server.invoke.async_invocations import EVENT_AGE_RANGE_S
from lambdarig.rie_server.invoke.destinations import EventDestinations


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
