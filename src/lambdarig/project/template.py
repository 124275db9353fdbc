"""A SAM template -> ``model.Project``: what ``lambdarig serve --template`` runs.

Globals and the implicit APIs (``ServerlessRestApi``, ``ServerlessHttpApi``) are applied by AWS's
own ``aws-sam-translator`` plugins, as ``sam local`` applies them; parameters, pseudo parameters
and ``Ref``/``GetAtt`` between resources are resolved by ``intrinsics``. Only what a local run
reads is resolved, and anything it cannot resolve is one ``ProjectError`` line naming the place.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambdarig.project import model
from lambdarig.project.authorizers import lambda_authorizer
from lambdarig.project.cfn_yaml import read_template
from lambdarig.project.errors import MissingExtraError, TemplateError
from lambdarig.project.errors import UnresolvableError as Unresolvable
from lambdarig.project.intrinsics import MISSING, Scope, resolve

DEFAULT_ACCOUNT = "123456789012"
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


def load_project(
    path: Path,
    *,
    region: str,
    parameter_overrides: Mapping[str, str] | None = None,
    env_vars: Mapping[str, Any] | None = None,
    stack_name: str | None = None,
    account: str = DEFAULT_ACCOUNT,
) -> model.Project:
    """Read and resolve the template at ``path``. ``env_vars`` is SAM's ``--env-vars`` document
    (``{"Parameters": {...}, "LogicalId": {...}}``). Raises ``ProjectError`` subclasses."""
    template = read_template(path)
    parameters = _parameters(template, parameter_overrides or {})
    template = _apply_sam_plugins(template, parameters, path)
    stack = stack_name or path.resolve().parent.name or "sam-app"
    resources = template.get("Resources") or {}
    scope = Scope(
        parameters=parameters,
        region=region,
        account=account,
        stack_name=stack,
        resources=resources,
        conditions=template.get("Conditions") or {},
        mappings=template.get("Mappings") or {},
    )
    base = path.resolve().parent
    functions = tuple(
        _function(logical_id, resource, scope, base, env_vars or {})
        for logical_id, resource in resources.items()
        if isinstance(resource, dict)
        and resource.get("Type") in FUNCTION_TYPES
        and _included(resource, scope, logical_id)
    )
    if not functions:
        raise TemplateError(f"expected at least one AWS::Serverless::Function in {path}, got none")
    return model.Project(path, stack, region, account, functions)


def _included(resource: Mapping[str, Any], scope: Scope, logical_id: str) -> bool:
    condition = resource.get("Condition")
    return condition is None or scope.condition(str(condition), f"Resources.{logical_id}")


def _parameters(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    declared = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(
            f"expected --parameter-overrides for parameters the template declares "
            f"({', '.join(sorted(declared)) or 'none'}), got {', '.join(unknown)}"
        )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        value: Any = overrides.get(name, spec.get("Default", MISSING))
        if value is MISSING:
            values[name] = MISSING
            continue
        value = str(value) if not isinstance(value, list) else ",".join(map(str, value))
        allowed = spec.get("AllowedValues")
        if isinstance(allowed, list) and value not in [str(v) for v in allowed]:
            raise TemplateError(f"expected parameter {name} to be one of {allowed}, got {value!r}")
        kind = str(spec.get("Type", "String"))
        values[name] = value.split(",") if kind.startswith("CommaDelimitedList") else value
    return values


def _apply_sam_plugins(
    template: dict[str, Any], parameters: Mapping[str, Any], path: Path
) -> dict[str, Any]:
    transforms = template.get("Transform")
    names = transforms if isinstance(transforms, list) else [transforms]
    if SAM_TRANSFORM not in names:
        return template
    try:
        from samtranslator.model.exceptions import InvalidDocumentException
        from samtranslator.parser.parser import Parser
        from samtranslator.translator.translator import prepare_plugins
    except ImportError as exc:
        raise MissingExtraError(
            "expected aws-sam-translator for SAM templates, got none: pip install 'lambdarig[sam]'"
        ) from exc
    known = {k: v for k, v in parameters.items() if v is not MISSING}
    result = copy.deepcopy(template)
    try:
        Parser().parse(result, known, prepare_plugins([], parameters=known))
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause.message) for cause in exc.causes) or str(exc)
        raise TemplateError(f"expected a valid SAM template in {path}, got: {causes}") from exc
    return result


def _int(value: Any, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise Unresolvable(where, f"expected a whole number, got {value!r}") from exc


def _function(
    logical_id: str,
    resource: Mapping[str, Any],
    scope: Scope,
    base: Path,
    env_vars: Mapping[str, Any],
) -> model.Function:
    where = f"Resources.{logical_id}.Properties"
    props = resource.get("Properties") or {}

    def get(name: str, default: Any = None) -> Any:
        return resolve(props[name], scope, f"{where}.{name}") if name in props else default

    package_type = str(get("PackageType", "Zip"))
    environment = {
        str(k): "" if v is None else str(v)
        for k, v in ((get("Environment") or {}).get("Variables") or {}).items()
    }
    environment = _env_overrides(environment, logical_id, get("FunctionName"), env_vars)
    routes, others = _events(logical_id, props.get("Events") or {}, scope)
    return model.Function(
        logical_id=logical_id,
        name=str(get("FunctionName") or logical_id),
        handler=get("Handler"),
        runtime=get("Runtime"),
        code=None if package_type == "Image" else _code_path(resource, scope, base, where),
        timeout_s=_int(get("Timeout", model.DEFAULT_TIMEOUT_S), f"{where}.Timeout"),
        memory_mb=_int(get("MemorySize", model.DEFAULT_MEMORY_MB), f"{where}.MemorySize"),
        environment=environment,
        layers=tuple(_layers(props.get("Layers") or [], scope, base, f"{where}.Layers")),
        package_type=package_type,
        image_uri=get("ImageUri") if package_type == "Image" else None,
        image_config=(get("ImageConfig") or {}) if package_type == "Image" else {},
        architectures=tuple(get("Architectures") or ("x86_64",)),
        reserved_concurrency=(
            None
            if "ReservedConcurrentExecutions" not in props
            else _int(get("ReservedConcurrentExecutions"), f"{where}.ReservedConcurrentExecutions")
        ),
        auto_publish_alias=get("AutoPublishAlias"),
        event_invoke_config=get("EventInvokeConfig") or {},
        dead_letter_queue=get("DeadLetterQueue") or {},
        function_url=get("FunctionUrlConfig"),
        routes=routes,
        other_events=others,
        tracing=get("Tracing"),
        snap_start=(get("SnapStart") or {}).get("ApplyOn"),
    )


def _env_overrides(
    environment: dict[str, str],
    logical_id: str,
    function_name: Any,
    env_vars: Mapping[str, Any],
) -> dict[str, str]:
    """SAM's ``--env-vars``: ``Parameters`` apply to every function, a logical id's (or function
    name's) section to that one; as in ``sam local``, only variables the template declares."""
    for section in ("Parameters", function_name, logical_id):
        values = env_vars.get(section) if isinstance(section, str) else None
        if isinstance(values, dict):
            for key, value in values.items():
                if key in environment:
                    environment[key] = "" if value is None else str(value)
    return environment


def _code_path(resource: Mapping[str, Any], scope: Scope, base: Path, where: str) -> Path:
    props = resource.get("Properties") or {}
    name = "CodeUri" if resource.get("Type") == "AWS::Serverless::Function" else "Code"
    if "InlineCode" in props:
        raise Unresolvable(f"{where}.InlineCode", "InlineCode is not run locally: use CodeUri")
    value = resolve(props.get(name, "."), scope, f"{where}.{name}")
    if not isinstance(value, str) or value.startswith("s3://"):
        raise Unresolvable(
            f"{where}.{name}", f"expected a local folder or .zip, got {value!r} (in S3)"
        )
    code = (base / value).resolve()
    if not code.exists():
        raise Unresolvable(f"{where}.{name}", f"expected a folder or .zip at {code}, got none")
    return code


def _layers(entries: Any, scope: Scope, base: Path, where: str) -> list[model.Layer]:
    layers = []
    for i, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        here = f"{where}[{i}]"
        target = entry.get("Ref") if isinstance(entry, dict) and len(entry) == 1 else None
        resource = scope.resources.get(target) if isinstance(target, str) else None
        if not isinstance(resource, dict) or resource.get("Type") not in LAYER_TYPES:
            shown = resolve(entry, scope, here)
            raise Unresolvable(
                here,
                f"layer {shown} is not a layer of this template: declare it as an "
                "AWS::Serverless::LayerVersion with ContentUri pointing at a local folder",
            )
        props = resource.get("Properties") or {}
        key = "ContentUri" if "ContentUri" in props else "Content"
        content = resolve(props.get(key), scope, f"Resources.{target}.Properties.{key}")
        if not isinstance(content, str) or content.startswith("s3://"):
            raise Unresolvable(
                f"Resources.{target}.Properties.{key}",
                f"expected a local folder or .zip for layer {target}, got {content!r}",
            )
        layers.append(model.Layer(str(target), (base / content).resolve()))
    return layers


def _events(
    logical_id: str, events: Mapping[str, Any], scope: Scope
) -> tuple[tuple[model.HttpRoute, ...], tuple[model.EventSource, ...]]:
    routes: list[model.HttpRoute] = []
    others: list[model.EventSource] = []
    for event_id, event in events.items():
        where = f"Resources.{logical_id}.Properties.Events.{event_id}"
        kind = str(event.get("Type"))
        props = event.get("Properties") or {}
        if kind in ("Api", "HttpApi"):
            routes.append(_route(event_id, kind, props, scope, where))
        else:
            others.append(model.EventSource(event_id, kind, props))
    return tuple(routes), tuple(others)


def _route(
    event_id: str, kind: str, props: Mapping[str, Any], scope: Scope, where: str
) -> model.HttpRoute:
    api_ref = props.get("RestApiId" if kind == "Api" else "ApiId")
    implicit = "ServerlessRestApi" if kind == "Api" else "ServerlessHttpApi"
    api_id = api_ref.get("Ref") if isinstance(api_ref, dict) else api_ref
    api_id = str(api_id or implicit)
    api = scope.resources.get(api_id) or {}
    api_props = api.get("Properties") or {}
    if kind == "Api":
        stage = resolve(api_props.get("StageName", model.DEFAULT_REST_STAGE), scope, where)
        version = "1.0"
    else:
        stage = resolve(api_props.get("StageName", model.DEFAULT_HTTP_STAGE), scope, where)
        version = str(resolve(props.get("PayloadFormatVersion", "2.0"), scope, where))
    path = resolve(props.get("Path"), scope, f"{where}.Path")
    method = resolve(props.get("Method"), scope, f"{where}.Method")
    auth = resolve(props.get("Auth") or {}, scope, f"{where}.Auth")
    default_auth = (resolve(api_props.get("Auth") or {}, scope, where)).get("DefaultAuthorizer")
    authorizer = auth.get("Authorizer", default_auth)
    name = None if authorizer in (None, "NONE") else str(authorizer)
    route_kind = "rest" if kind == "Api" else "http"
    cors_key = "Cors" if kind == "Api" else "CorsConfiguration"
    cors_where = f"Resources.{api_id}.Properties.{cors_key}"
    return model.HttpRoute(
        event_id=event_id,
        kind=route_kind,
        method="ANY" if method is None else str(method).upper(),
        path=None if path is None else str(path),
        api_id=api_id,
        stage=str(stage),
        payload_format_version=version,
        authorizer=name,
        lambda_authorizer=lambda_authorizer(name, route_kind, api_id, api_props, scope),
        cors=resolve(api_props.get(cors_key), scope, cors_where),
    )
