"""``HttpFront`` on a real socket with an invoker we own (the emulator is exercised in
``test_serve_http``): routing, preflight, timeouts, throttling, framing headers."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from lambdarig.rie_server.environments.environment import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.environments.outcomes import failure
from lambdarig.rie_server.errors import Throttled
from lambdarig.rie_server.fronts.cors import CorsConfig
from lambdarig.rie_server.fronts.routing import Route, RouteTable
from lambdarig.rie_server.fronts.server import MAX_BODY_BYTES, HttpFront

Invoke = Callable[[str, bytes], Awaitable[InvokeOutcome]]
Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def ok(value: Any) -> InvokeOutcome:
    return failure(OutcomeKind.SUCCESS, None, None, body=json.dumps(value).encode())


def run(routes: list[Route], invoke: Invoke, send: Send, **kwargs: Any) -> httpx.Response:
    async def main() -> httpx.Response:
        front = HttpFront(RouteTable(routes), invoke, "127.0.0.1", 0, **kwargs)
        await front.start()
        try:
            async with httpx.AsyncClient(base_url=front.url, timeout=10) as client:
                return await send(client)
        finally:
            await front.stop()
            await front.stop()  # idempotent

    return asyncio.run(main())


def echo(calls: list[tuple[str, dict[str, Any]]]) -> Invoke:
    async def invoke(name: str, payload: bytes) -> InvokeOutcome:
        event = json.loads(payload)
        calls.append((name, event))
        return ok({"statusCode": 200, "body": json.dumps({"seen": event.get("rawPath")})})

    return invoke


def test_a_request_reaches_the_routes_function() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    routes = [Route("http", "GET", "/a/{x}", "A"), Route("http", "ANY", None, "Default")]
    response = run(routes, echo(calls), lambda c: c.get("/a/1?q=2", headers={"Cookie": "c=3"}))
    assert response.status_code == 200
    assert response.json() == {"seen": "/a/1"}
    assert response.headers["apigw-requestid"]
    ((name, event),) = calls
    assert name == "A"
    assert event["pathParameters"] == {"x": "1"}
    assert event["queryStringParameters"] == {"q": "2"}
    assert event["cookies"] == ["c=3"]
    assert event["requestContext"]["requestId"] == response.headers["apigw-requestid"]


def test_no_route_answers_as_the_service() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    rest = run([Route("rest", "GET", "/a", "A")], echo(calls), lambda c: c.post("/a"))
    assert (rest.status_code, rest.content) == (403, b'{"message":"Missing Authentication Token"}')
    http = run([Route("http", "GET", "/a", "A")], echo(calls), lambda c: c.get("/b"))
    assert (http.status_code, http.content) == (404, b'{"message":"Not Found"}')
    assert calls == []


def test_integration_timeout_answers_and_leaves_the_invocation_running() -> None:
    finished = threading.Event()  # each run() has its own loop; 3.9 binds asyncio's at creation

    async def slow(name: str, payload: bytes) -> InvokeOutcome:
        try:
            await asyncio.sleep(30)
        finally:
            finished.set()
        return ok("late")

    for kind, status, body in [
        ("rest", 504, b'{"message": "Endpoint request timed out"}'),
        ("http", 503, b'{"message":"Service Unavailable"}'),
    ]:
        path = "/" if kind == "rest" else None
        response = run(
            [Route(kind, "ANY", path, "S")],
            slow,
            lambda c: c.get("/"),
            integration_timeout_s=0.2,
        )
        assert (response.status_code, response.content) == (status, body)
    assert finished.is_set()  # stop() cancelled the orphaned invocation


def test_throttled_and_failed_invocations() -> None:
    async def throttled(name: str, payload: bytes) -> InvokeOutcome:
        raise Throttled("busy")

    async def error(name: str, payload: bytes) -> InvokeOutcome:
        return failure(OutcomeKind.FUNCTION_ERROR, "ValueError", None, body=b"{}")

    url = [Route("url", "ANY", None, "U")]
    assert run(url, throttled, lambda c: c.get("/")).status_code == 429
    failed = run(url, error, lambda c: c.get("/"))
    assert (failed.status_code, failed.content) == (502, b"Internal Server Error")


def test_framing_headers_from_the_function_are_dropped() -> None:
    async def invoke(name: str, payload: bytes) -> InvokeOutcome:
        headers = {"Content-Length": "999", "Transfer-Encoding": "chunked", "X-Kept": "1"}
        return ok({"statusCode": 200, "headers": headers, "body": "four"})

    response = run([Route("http", "ANY", None, "F")], invoke, lambda c: c.get("/"))
    assert response.content == b"four"
    assert response.headers["content-length"] == "4"
    assert "transfer-encoding" not in response.headers
    assert response.headers["x-kept"] == "1"


def test_header_injection_by_the_function_is_a_malformed_answer() -> None:
    async def invoke(name: str, payload: bytes) -> InvokeOutcome:
        return ok({"statusCode": 200, "headers": {"X-A": "1\r\nSet-Cookie: evil=1"}})

    response = run([Route("http", "ANY", None, "F")], invoke, lambda c: c.get("/"))
    assert response.status_code == 500
    assert "set-cookie" not in response.headers


def test_preflight_and_cors_headers() -> None:
    config = CorsConfig.from_http({"AllowOrigins": ["https://a.example"], "AllowMethods": ["GET"]})
    calls: list[tuple[str, dict[str, Any]]] = []
    routes = [Route("http", "GET", "/x", "F", cors=config)]
    headers = {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"}
    preflight = run(routes, echo(calls), lambda c: c.options("/x", headers=headers))
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://a.example"
    assert calls == []  # answered by the front
    actual = run(
        routes, echo(calls), lambda c: c.get("/x", headers={"Origin": "https://a.example"})
    )
    assert actual.headers["access-control-allow-origin"] == "https://a.example"


def test_a_body_over_the_payload_quota_is_refused_before_invoking() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    big = b"x" * (MAX_BODY_BYTES + 1)
    routes = [Route("rest", "ANY", "/", "F")]
    response = run(routes, echo(calls), lambda c: c.post("/", content=big))
    assert response.status_code == 413
    over_six_mb = b"x" * (6 * 1024 * 1024)
    response = run(routes, echo(calls), lambda c: c.post("/", content=over_six_mb))
    assert response.status_code == 413
    assert calls == []
