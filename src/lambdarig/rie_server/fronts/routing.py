"""Routes and route matching for the HTTP front, as API Gateway, Function URLs and ALB match them.

Sans-IO: values in, values out. A ``Route`` says which requests reach which function and how the
event is shaped (``kind``: ``rest`` / ``http`` / ``url`` / ``alb``; ``payload_version`` 1.0 or
2.0). ``RouteTable.match`` picks, among the routes whose method and path template accept the
request, the most specific one the way API Gateway documents it
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html,
"Routing API requests"): segment by segment a literal beats a ``{param}``, which beats a greedy
``{proxy+}``; an exact method beats ``ANY``; the ``$default`` route (``path`` None) catches what
nothing else matched. A greedy ``{proxy+}`` matches one or more whole segments, never the empty
path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import unquote

from lambdarig.rie_server.fronts.cors import CorsConfig

if TYPE_CHECKING:  # authorizers -> responses -> routing: imported where used
    from lambdarig.rie_server.fronts.authorizers import LambdaAuthorizer

KINDS = ("rest", "http", "url", "alb")
BUFFERED = "BUFFERED"
RESPONSE_STREAM = "RESPONSE_STREAM"
INVOKE_MODES = (BUFFERED, RESPONSE_STREAM)  # a Function URL's ``InvokeMode``
ANY = "ANY"
DEFAULT_ROUTE = "$default"

_LITERAL, _PARAM, _GREEDY = 0, 1, 2


class RouteError(ValueError):
    """A route that cannot be served (bad kind, method or path template)."""


@dataclass(frozen=True)
class Route:
    """One route of the front.

    ``path`` is a template (``/items/{id}``, ``/{proxy+}``) or None for ``$default`` (HTTP API,
    Function URL and ALB catch-alls). ``function`` names the function ``HttpFront``'s invoker
    receives. ``api_id`` groups routes of one API (``Cors`` and binary media types are per API).
    ``authorizer`` is the name of the route's authorizer (informational);
    ``lambda_authorizer`` the Lambda authorizer the front runs before the function (None: none).
    ``multi_value_headers`` is ALB's target-group attribute; ``invoke_mode`` a Function URL's
    ``InvokeMode`` (``RESPONSE_STREAM``: the answer is streamed, ``fronts.streamed``).
    """

    kind: str
    method: str
    path: Optional[str]  # noqa: UP045 (dataclass field evaluated on 3.9)
    function: str
    payload_version: str = ""
    stage: str = ""
    api_id: str = ""
    binary_media_types: tuple[str, ...] = ()
    cors: Optional[CorsConfig] = None  # noqa: UP045
    authorizer: Optional[str] = None  # noqa: UP045
    lambda_authorizer: Optional[LambdaAuthorizer] = None  # noqa: UP045
    multi_value_headers: bool = False
    invoke_mode: str = BUFFERED
    _segments: tuple[tuple[int, str], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise RouteError(f"expected a route kind in {KINDS}, got {self.kind!r}")
        method = self.method.upper()
        if not method.isalpha():
            raise RouteError(f"expected an HTTP method or ANY, got {self.method!r}")
        object.__setattr__(self, "method", method)
        if not self.payload_version:
            version = "1.0" if self.kind in ("rest", "alb") else "2.0"
            object.__setattr__(self, "payload_version", version)
        if self.payload_version not in ("1.0", "2.0"):
            raise RouteError(f"expected payload version 1.0 or 2.0, got {self.payload_version!r}")
        if not self.stage:
            object.__setattr__(self, "stage", "Prod" if self.kind == "rest" else "$default")
        if self.path is not None:
            object.__setattr__(self, "_segments", _parse_template(self.path))
        if self.invoke_mode not in INVOKE_MODES:
            raise RouteError(f"expected an invoke mode in {INVOKE_MODES}, got {self.invoke_mode!r}")
        if self.invoke_mode == RESPONSE_STREAM and self.kind != "url":
            raise RouteError(f"expected {RESPONSE_STREAM} on a Function URL, got {self.kind}")
        if self.lambda_authorizer is not None and self.kind not in ("rest", "http"):
            raise RouteError(f"expected Lambda authorizers on rest or http routes, got {self.kind}")

    @property
    def route_key(self) -> str:
        """``GET /items/{id}`` or ``$default`` (HTTP API's ``routeKey``)."""
        return DEFAULT_ROUTE if self.path is None else f"{self.method} {self.path}"

    @property
    def specificity(self) -> tuple[int, ...]:
        """Smaller is more specific: segment kinds in order, then 1 for ``ANY``."""
        if self.path is None:
            return (99,)
        return (*(kind for kind, _ in self._segments), 9, int(self.method == ANY))

    def accepts_method(self, method: str) -> bool:
        return self.method in (ANY, method)

    def match_path(self, path: str) -> dict[str, str] | None:
        """The path parameters if ``path`` (percent-encoded, no query) fits the template."""
        if self.path is None:
            return {}
        parts = _split(path)
        params: dict[str, str] = {}
        for index, (kind, name) in enumerate(self._segments):
            if kind == _GREEDY:
                rest = parts[index:]
                if not rest:
                    return None
                params[name] = unquote("/".join(rest))
                return params
            if index >= len(parts):
                return None
            if kind == _LITERAL:
                if parts[index] != name:
                    return None
            else:
                if not parts[index]:
                    return None
                params[name] = unquote(parts[index])
        return params if len(parts) == len(self._segments) else None


def _split(path: str) -> list[str]:
    """``/a/b`` -> ``['a', 'b']``; ``/`` -> ``[]``; one trailing slash is ignored."""
    parts = path.split("/")[1:]
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def _parse_template(template: str) -> tuple[tuple[int, str], ...]:
    if not template.startswith("/"):
        raise RouteError(f"expected a path template starting with '/', got {template!r}")
    segments: list[tuple[int, str]] = []
    parts = _split(template)
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name.endswith("+"):
                if index != len(parts) - 1:
                    raise RouteError(f"expected {{{name}}} as the last segment of {template!r}")
                segments.append((_GREEDY, name[:-1]))
            else:
                segments.append((_PARAM, name))
            if not segments[-1][1]:
                raise RouteError(f"expected a parameter name in {template!r}")
        else:
            segments.append((_LITERAL, part))
    return tuple(segments)


@dataclass(frozen=True)
class Match:
    """The route a request reached and its path parameters (None when there are none)."""

    route: Route
    path_parameters: Optional[dict[str, str]]  # noqa: UP045

    @property
    def resource(self) -> str:
        """REST's ``resource`` (the template) or the route key."""
        return self.route.path if self.route.path is not None else DEFAULT_ROUTE


class RouteTable:
    """The routes one listener serves (one API kind per listener, as each service has its own
    endpoint): ``match`` returns the most specific ``Match`` or None."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(sorted(routes, key=lambda route: route.specificity))
        if not self.routes:
            raise RouteError("expected at least one route, got none")
        kinds = {route.kind for route in self.routes}
        if len(kinds) > 1:
            raise RouteError(f"expected routes of one kind per listener, got {sorted(kinds)}")
        self.kind = self.routes[0].kind

    def match(self, method: str, path: str) -> Match | None:
        for route in self.routes:
            if not route.accepts_method(method):
                continue
            params = route.match_path(path)
            if params is not None:
                return Match(route, params or None)
        return None

    def cors_for(self, path: str) -> CorsConfig | None:
        """The ``Cors`` of the API serving ``path`` (for a preflight: any method's route)."""
        for route in self.routes:
            if route.cors is not None and route.match_path(path) is not None:
                return route.cors
        return None


def route_from_template(route: Any, function: str, **settings: Any) -> Route:
    """A ``Route`` from a ``lambdarig.project.model.HttpRoute`` (kind, method, path, stage,
    payload version, api id, authorizer, Lambda authorizer, Cors) serving ``function``;
    ``settings`` adds or overrides per-API values (``binary_media_types``, ``cors``). Raises
    ``CorsError`` / ``AuthorizerError`` (both ``ValueError``) for values of the wrong shape."""
    from lambdarig.rie_server.fronts.authorizers import LambdaAuthorizer

    template_authorizer = getattr(route, "lambda_authorizer", None)
    if template_authorizer is not None and "lambda_authorizer" not in settings:
        settings["lambda_authorizer"] = LambdaAuthorizer.from_template(template_authorizer)
    template_cors = getattr(route, "cors", None)
    if template_cors is not None and "cors" not in settings:
        if route.kind == "rest":
            settings["cors"] = CorsConfig.from_rest(template_cors)
        else:
            settings["cors"] = CorsConfig.from_http(template_cors)
    return Route(
        kind=route.kind,
        method=route.method,
        path=route.path,
        function=function,
        payload_version=route.payload_format_version,
        stage=route.stage,
        api_id=route.api_id,
        authorizer=route.authorizer,
        **settings,
    )


def single_function_routes(kind: str, function: str, **settings: Any) -> list[Route]:
    """``lambdarig serve --http KIND``: every path and method reaches ``function``."""
    if kind == "rest":
        return [
            Route("rest", ANY, "/", function, **settings),
            Route("rest", ANY, "/{proxy+}", function, **settings),
        ]
    return [Route(kind, ANY, None, function, **settings)]
