"""``HttpFront`` runs a route's Lambda authorizer through the invoker before the function (real
socket, an invoker we own that plays both functions; the multi-function ``serve -t`` wiring is
not on this branch). Answers per kind are sourced in ``test_authorizers``."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from lambdarig.project.model import Authorizer, HttpRoute
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from lambdarig.rie_server.environments.environment import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.environments.outcomes import failure
from lambdarig.rie_server.fronts.authorizers import LambdaAuthorizer
from lambdarig.rie_server.fronts.routing import Route, RouteTable, route_from_template
from lambdarig.rie_server.fronts.server import HttpFront

TOKEN = LambdaAuthorizer("Tok", "Auth", "TOKEN", ("method.request.header.Authorization",), 300)
SIMPLE = LambdaAuthorizer(
    "S", "Auth", "REQUEST", ("$request.header.Authorization",), 0, "2.0", True
)


class Functions:
    """``Auth`` allows token ``allow`` (GET only), denies ``deny``, fails ``boom`` with
    ``Unauthorized``; ``Fn`` echoes its ``requestContext.authorizer``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, name: str, payload: bytes) -> InvokeOutcome:
        event = json.loads(payload)
        self.calls.append((name, event))
        if name == "Fn":
            body = json.dumps(event["requestContext"].get("authorizer"))
            return ok({"statusCode": 200, "body": body})
        if event.get("version") == "2.0":
            allowed = event["identitySource"] == ["allow"]
            return ok({"isAuthorized": allowed, "context": {"user": "u1", "n": 2}})
        token = event["authorizationToken"]
        if token == "boom":
            error = {"errorMessage": "Unauthorized", "errorType": "Exception"}
            return failure(OutcomeKind.FUNCTION_ERROR, None, None, body=json.dumps(error).encode())
        effect = "Allow" if token == "allow" else "Deny"
        arn = event["methodArn"].rsplit("/", 2)[0] + "/GET/*"
        statement = {"Effect": effect, "Action": "execute-api:Invoke", "Resource": arn}
        return ok(
            {
                "principalId": "user-1",
                "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
                "context": {"plan": "gold", "level": 3},
            }
        )


def ok(value: Any) -> InvokeOutcome:
    return failure(OutcomeKind.SUCCESS, None, None, body=json.dumps(value).encode())


def run(
    routes: list[Route],
    invoke: Functions,
    requests: list[tuple[str, str, dict[str, str]]],
    clock: list[float] | None = None,
) -> list[httpx.Response]:
    now = clock if clock is not None else [0.0]

    async def main() -> list[httpx.Response]:
        front = HttpFront(RouteTable(routes), invoke, "127.0.0.1", 0, monotonic=lambda: now[0])
        await front.start()
        try:
            async with httpx.AsyncClient(base_url=front.url, timeout=10) as client:
                answers = []
                for method, path, headers in requests:
                    answers.append(await client.request(method, path, headers=headers))
                    now[0] += 100.0  # each request 100 s after the previous one
                return answers
        finally:
            await front.stop()

    return asyncio.run(main())


def test_rest_token_authorizer_allows_denies_and_refuses() -> None:
    functions = Functions()
    routes = [Route("rest", "ANY", "/{proxy+}", "Fn", api_id="api1", lambda_authorizer=TOKEN)]
    allowed, missing, denied, unauthorized = run(
        routes,
        functions,
        [
            ("GET", "/a", {"Authorization": "allow"}),
            ("GET", "/a", {}),
            ("GET", "/a", {"Authorization": "deny"}),
            ("GET", "/a", {"Authorization": "boom"}),
        ],
    )
    assert allowed.status_code == 200
    assert allowed.json() == {
        "plan": "gold",
        "level": "3",
        "principalId": "user-1",
        "integrationLatency": allowed.json()["integrationLatency"],
    }
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    assert denied.status_code == 403
    assert denied.json() == {
        "Message": "User is not authorized to access this resource with an explicit deny"
    }
    assert unauthorized.status_code == 401
    names = [name for name, _ in functions.calls]
    assert names == ["Auth", "Fn", "Auth", "Auth"]  # no authorizer call without a token
    assert functions.calls[0][1]["methodArn"].endswith("/Prod/GET/a")


def test_rest_answers_are_cached_per_token_for_the_ttl() -> None:
    functions = Functions()
    routes = [Route("rest", "ANY", "/{proxy+}", "Fn", api_id="api1", lambda_authorizer=TOKEN)]
    token = {"Authorization": "allow"}
    first, second, post, after_ttl = run(
        routes,
        functions,
        [("GET", "/a", token), ("GET", "/b", token), ("POST", "/a", token), ("GET", "/a", token)],
    )
    assert (first.status_code, second.status_code) == (200, 200)
    # The cached policy (GET only) is applied to the POST: an implicit deny, no new call.
    assert post.status_code == 403
    assert post.json() == {"Message": "User is not authorized to access this resource"}
    assert after_ttl.status_code == 200  # 300 s later: asked again
    names = [name for name, _ in functions.calls]
    assert names == ["Auth", "Fn", "Fn", "Auth", "Fn"]


def test_http_api_simple_responses() -> None:
    functions = Functions()
    routes = [Route("http", "GET", "/x", "Fn", lambda_authorizer=SIMPLE)]
    allowed, forbidden, missing = run(
        routes,
        functions,
        [
            ("GET", "/x", {"Authorization": "allow"}),
            ("GET", "/x", {"Authorization": "nope"}),
            ("GET", "/x", {}),
        ],
    )
    assert (allowed.status_code, allowed.json()) == (200, {"lambda": {"user": "u1", "n": 2}})
    assert (forbidden.status_code, forbidden.json()) == (403, {"message": "Forbidden"})
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    auth_event = functions.calls[0][1]
    assert auth_event["routeArn"].endswith("/$default/GET/x")
    assert [name for name, _ in functions.calls] == ["Auth", "Fn", "Auth"]  # TTL 0: no cache


def test_a_template_route_brings_its_authorizer_and_cors() -> None:
    template = HttpRoute(
        event_id="Get",
        kind="http",
        method="GET",
        path="/x",
        api_id="Api",
        stage="$default",
        payload_format_version="2.0",
        authorizer="S",
        lambda_authorizer=Authorizer(
            "S", "Auth", "REQUEST", ("$request.header.Authorization",), 0, "2.0", True
        ),
        cors=True,
    )
    route = route_from_template(template, "Fn")
    assert route.lambda_authorizer == SIMPLE
    assert route.cors is not None and route.cors.allow_origins == ("*",)
    functions = Functions()
    preflight, refused = run(
        [route],
        functions,
        [
            ("OPTIONS", "/x", {"Origin": "https://a", "Access-Control-Request-Method": "GET"}),
            ("GET", "/x", {"Origin": "https://a"}),
        ],
    )
    assert preflight.status_code == 204 and functions.calls == []  # preflight needs no auth
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"


AUTH_AND_APP = """
import json

def handler(event, context):
    if event.get("type") == "TOKEN":
        effect = "Allow" if event["authorizationToken"] == "allow" else "Deny"
        statement = {"Effect": effect, "Action": "execute-api:Invoke", "Resource": "*"}
        return {"principalId": "p1", "context": {"who": "real"},
                "policyDocument": {"Version": "2012-10-17", "Statement": [statement]}}
    return {"statusCode": 200, "body": json.dumps(event["requestContext"]["authorizer"])}
"""


def test_a_real_emulator_runs_authorizer_and_function(tmp_path: Path) -> None:
    """One real function (the emulator runs one) is both authorizer and route function."""
    (tmp_path / "app.py").write_text(AUTH_AND_APP)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    config = EmulatorConfig(
        command=(sys.executable, "-m", "lambdarig.runtime_client", "app.handler"),
        cwd=str(tmp_path),
        handler="app.handler",
        invoke_host="127.0.0.1",
        invoke_port=0,
        runtime_api_address="127.0.0.1:0",
        timeout_s=10.0,
        runtime_env=env,
    )
    authorizer = LambdaAuthorizer(
        "Tok", "F", "TOKEN", ("method.request.header.Authorization",), 300
    )
    routes = RouteTable([Route("rest", "GET", "/a", "F", lambda_authorizer=authorizer)])

    async def main() -> tuple[httpx.Response, httpx.Response]:
        emulator = Emulator(config, output=io.StringIO())
        front = HttpFront(routes, lambda name, payload: emulator.invoke(payload), "127.0.0.1", 0)
        await emulator.start()
        await front.start()
        try:
            async with httpx.AsyncClient(base_url=front.url, timeout=30) as client:
                allowed = await client.get("/a", headers={"Authorization": "allow"})
                denied = await client.get("/a", headers={"Authorization": "other"})
                return allowed, denied
        finally:
            await front.stop()
            await emulator.stop()

    allowed, denied = asyncio.run(main())
    assert allowed.status_code == 200, allowed.text
    body = allowed.json()
    assert (body["who"], body["principalId"]) == ("real", "p1")
    assert denied.status_code == 403
