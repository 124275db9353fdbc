from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from lambdarig.rie_server.invoke.protocol import HttpResponse, RawRequest
from lambdarig.rie_server.invoke.server import BODY_KEEP_BYTES, InvokeApiServer

ANSWER = HttpResponse(200, (("X-Test", "1"),), b"ok")


def exchange(
    send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    answer: HttpResponse = ANSWER,
) -> tuple[list[RawRequest], httpx.Response]:
    seen: list[RawRequest] = []

    async def dispatch(raw: RawRequest) -> HttpResponse:
        seen.append(raw)
        return answer

    async def main() -> httpx.Response:
        server = InvokeApiServer(dispatch, "127.0.0.1", 0)
        await server.start()
        try:
            url = f"http://127.0.0.1:{server.port}"
            async with httpx.AsyncClient(base_url=url) as client:
                return await send(client)
        finally:
            await server.stop()
            await server.stop()  # idempotent

    return seen, asyncio.run(main())


def test_request_is_handed_over_raw_and_the_answer_written_back() -> None:
    seen, response = exchange(
        lambda c: c.post(
            "/2015-03-31/functions/my%3Afn/invocations?Qualifier=%24LATEST",
            content=b"payload",
            headers={"X-Amz-Invocation-Type": "Event"},
        )
    )
    (raw,) = seen
    assert raw.method == "POST"
    assert raw.path == "/2015-03-31/functions/my%3Afn/invocations"
    assert raw.query == {"Qualifier": "$LATEST"}
    assert raw.headers["X-Amz-Invocation-Type"] == "Event"
    assert raw.body == b"payload"
    assert (response.status_code, response.content) == (200, b"ok")
    assert response.headers["X-Test"] == "1"


def test_any_method_and_path_reach_the_dispatcher() -> None:
    seen, _ = exchange(lambda c: c.get("/anything/at/all"))
    assert (seen[0].method, seen[0].path) == ("GET", "/anything/at/all")


def test_big_bodies_are_bounded_not_refused() -> None:
    body = b"x" * (BODY_KEEP_BYTES + 1_000_000)
    seen, response = exchange(lambda c: c.post("/", content=body))
    assert len(seen[0].body) == BODY_KEEP_BYTES
    assert response.status_code == 200


def test_port_property_before_start_is_an_error() -> None:
    async def dispatch(raw: RawRequest) -> HttpResponse:
        return HttpResponse(200, ())

    with pytest.raises(RuntimeError, match="expected InvokeApiServer.start"):
        _ = InvokeApiServer(dispatch, "127.0.0.1", 0).port
