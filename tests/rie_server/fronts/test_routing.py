"""Route matching as API Gateway documents it (the most specific route wins).

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
("Routing API requests"): literal over ``{param}`` over ``{proxy+}``, exact method over ``ANY``,
``$default`` last.
"""

from __future__ import annotations

import pytest

from lambdarig.project.model import HttpRoute
from lambdarig.rie_server.fronts.routing import (
    Route,
    RouteError,
    RouteTable,
    route_from_template,
    single_function_routes,
)


def table(*specs: tuple[str, str | None, str], kind: str = "http") -> RouteTable:
    return RouteTable(Route(kind, method, path, fn) for method, path, fn in specs)


ROUTES = table(
    ("GET", "/pets", "list"),
    ("GET", "/pets/{id}", "get"),
    ("ANY", "/pets/{id}", "any-pet"),
    ("GET", "/pets/dog", "dog"),
    ("ANY", "/{proxy+}", "proxy"),
    ("GET", "/pets/{id}/{rest+}", "pet-rest"),
    ("ANY", None, "default"),
)


@pytest.mark.parametrize(
    "method, path, function, params",
    [
        ("GET", "/pets", "list", None),
        ("GET", "/pets/", "list", None),
        ("GET", "/pets/dog", "dog", None),
        ("GET", "/pets/7", "get", {"id": "7"}),
        ("DELETE", "/pets/7", "any-pet", {"id": "7"}),
        ("POST", "/pets", "proxy", {"proxy": "pets"}),
        ("GET", "/pets/7/a/b", "pet-rest", {"id": "7", "rest": "a/b"}),
        ("GET", "/other/x", "proxy", {"proxy": "other/x"}),
        ("GET", "/pets/a%20b", "get", {"id": "a b"}),
        ("GET", "/", "default", None),
    ],
)
def test_the_most_specific_route_wins(
    method: str, path: str, function: str, params: dict[str, str] | None
) -> None:
    match = ROUTES.match(method, path)
    assert match is not None
    assert match.route.function == function
    assert match.path_parameters == params


def test_no_route_without_default() -> None:
    routes = table(("GET", "/a", "a"), ("POST", "/b/{x}", "b"))
    assert routes.match("POST", "/a") is None
    assert routes.match("POST", "/b") is None
    assert routes.match("POST", "/b/1/2") is None


def test_greedy_needs_at_least_one_segment() -> None:
    routes = table(("ANY", "/{proxy+}", "p"))
    assert routes.match("GET", "/") is None
    single = RouteTable(single_function_routes("rest", "fn"))
    root = single.match("GET", "/")
    assert root is not None and root.resource == "/" and root.path_parameters is None
    deep = single.match("PUT", "/a/b")
    assert deep is not None and deep.resource == "/{proxy+}"
    assert deep.path_parameters == {"proxy": "a/b"}


def test_defaults_per_kind() -> None:
    rest = Route("rest", "get", "/x", "f")
    assert (rest.method, rest.payload_version, rest.stage, rest.route_key) == (
        "GET",
        "1.0",
        "Prod",
        "GET /x",
    )
    http = Route("http", "ANY", None, "f")
    assert (http.payload_version, http.stage, http.route_key) == ("2.0", "$default", "$default")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "soap"}, "expected a route kind"),
        ({"method": "GE T"}, "expected an HTTP method"),
        ({"path": "pets"}, "starting with '/'"),
        ({"path": "/{proxy+}/x"}, "as the last segment"),
        ({"path": "/{}"}, "expected a parameter name"),
        ({"payload_version": "3.0"}, "payload version"),
    ],
)
def test_bad_routes_are_refused(kwargs: dict[str, str], message: str) -> None:
    spec = {"kind": "http", "method": "GET", "path": "/x", "function": "f", **kwargs}
    with pytest.raises(RouteError, match=message):
        Route(**spec)  # type: ignore[arg-type]


def test_one_kind_per_listener() -> None:
    with pytest.raises(RouteError, match="one kind per listener"):
        RouteTable([Route("http", "GET", "/a", "f"), Route("rest", "GET", "/a", "f")])
    with pytest.raises(RouteError, match="at least one route"):
        RouteTable([])


def test_a_template_route_becomes_a_front_route() -> None:
    template = HttpRoute(
        event_id="Get",
        kind="http",
        method="GET",
        path="/items/{id}",
        api_id="ServerlessHttpApi",
        stage="$default",
        payload_format_version="1.0",
        authorizer="Auth",
    )
    route = route_from_template(template, "ItemsFunction", binary_media_types=("image/png",))
    assert route.route_key == template.route_key
    assert (route.payload_version, route.authorizer, route.function) == (
        "1.0",
        "Auth",
        "ItemsFunction",
    )
    assert route.binary_media_types == ("image/png",)
