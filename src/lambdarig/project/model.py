"""What a project declares, as values: functions, layers and the event sources that reach them.

Built by ``lambdarig.project.template.load_project`` from a SAM template; everything here is
already resolved (parameters, pseudo parameters, Globals, ``Ref``/``GetAtt``). No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

DEFAULT_TIMEOUT_S = 3  # SAM's default Timeout
DEFAULT_MEMORY_MB = 128
DEFAULT_REST_STAGE = "Prod"  # the implicit ServerlessRestApi's stage
DEFAULT_HTTP_STAGE = "$default"


@dataclass(frozen=True)
class Layer:
    """A local layer (``AWS::Serverless::LayerVersion`` / ``AWS::Lambda::LayerVersion``)."""

    logical_id: str
    content: Path


@dataclass(frozen=True)
class Authorizer:
    """A Lambda authorizer of an ``Api`` (``FunctionPayloadType`` TOKEN or REQUEST) or ``HttpApi``
    (always REQUEST), run by the template function ``function`` (its logical id).

    ``identity_sources`` are API Gateway's mapping expressions, as SAM writes them:
    ``method.request.header.X`` / ``method.request.querystring.X`` / ``stageVariables.X`` /
    ``context.X`` for REST, ``$request.header.X`` / ``$request.querystring.X`` /
    ``$stageVariables.X`` / ``$context.X`` for HTTP APIs. ``ttl_s`` is ``ReauthorizeEvery``
    (REST default 300, HTTP API 0: no caching). ``payload_version`` is the HTTP API's
    ``AuthorizerPayloadFormatVersion`` (REST: 1.0); ``simple_responses`` its
    ``EnableSimpleResponses``; ``validation_expression`` a TOKEN authorizer's
    ``ValidationExpression``.
    """

    name: str
    function: str
    kind: str  # "TOKEN" or "REQUEST"
    identity_sources: tuple[str, ...]
    ttl_s: int
    payload_version: str = "1.0"
    simple_responses: bool = False
    validation_expression: Optional[str] = None  # noqa: UP045


@dataclass(frozen=True)
class HttpRoute:
    """One ``Api`` (REST, payload 1.0) or ``HttpApi`` (payload 2.0 unless 1.0 is asked) route.

    ``method`` is upper case or ``ANY``; ``path`` keeps ``{param}`` and ``{proxy+}``; an
    ``HttpApi`` event without path and method is the ``$default`` route (``path`` None).
    ``authorizer`` names the route's authorizer (its ``Auth.Authorizer`` or the API's
    ``DefaultAuthorizer``); ``lambda_authorizer`` is its definition when it is a Lambda authorizer
    (None for ``AWS_IAM``, Cognito and JWT authorizers, which are not evaluated locally). ``cors``
    is the API's ``Cors`` (``Api``) or ``CorsConfiguration`` (``HttpApi``) value, resolved, Globals
    applied (None without one).
    """

    event_id: str
    kind: str  # "rest" or "http"
    method: str
    path: Optional[str]  # noqa: UP045 (dataclass field evaluated on 3.9)
    api_id: str
    stage: str
    payload_format_version: str
    authorizer: Optional[str] = None  # noqa: UP045
    lambda_authorizer: Optional[Authorizer] = None  # noqa: UP045
    cors: Any = None

    @property
    def route_key(self) -> str:
        return "$default" if self.path is None else f"{self.method} {self.path}"


@dataclass(frozen=True)
class EventSource:
    """An event source the local run does not serve (SQS, Schedule, S3, ...): kept for the table."""

    event_id: str
    type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Function:
    """One function of the project, resolved."""

    logical_id: str
    name: str
    handler: Optional[str]  # noqa: UP045 (None for an image function)
    runtime: Optional[str]  # noqa: UP045
    code: Optional[Path]  # noqa: UP045 (a folder or a .zip; None for an image)
    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    environment: dict[str, str] = field(default_factory=dict)
    layers: tuple[Layer, ...] = ()
    package_type: str = "Zip"
    image_uri: Optional[str] = None  # noqa: UP045
    image_config: dict[str, Any] = field(default_factory=dict)  # ImageConfig, as written
    architectures: tuple[str, ...] = ("x86_64",)
    reserved_concurrency: Optional[int] = None  # noqa: UP045
    auto_publish_alias: Optional[str] = None  # noqa: UP045
    event_invoke_config: dict[str, Any] = field(default_factory=dict)
    dead_letter_queue: dict[str, Any] = field(default_factory=dict)
    function_url: Optional[dict[str, Any]] = None  # noqa: UP045
    routes: tuple[HttpRoute, ...] = ()
    other_events: tuple[EventSource, ...] = ()
    tracing: Optional[str] = None  # noqa: UP045
    snap_start: Optional[str] = None  # noqa: UP045


@dataclass(frozen=True)
class Project:
    """A template's functions (in template order) and where it came from."""

    template: Path
    stack_name: str
    region: str
    account: str
    functions: tuple[Function, ...]

    def function(self, name: str) -> Function:
        """The function whose logical id or name is ``name`` (``KeyError`` otherwise)."""
        for function in self.functions:
            if name in (function.logical_id, function.name):
                return function
        raise KeyError(name)
