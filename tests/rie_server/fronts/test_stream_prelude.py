"""fronts.stream_prelude: the head of a streamed Function URL answer, from hostile bytes."""

from __future__ import annotations

import pytest

from lambdarig.rie_server.fronts.responses import Reply
from lambdarig.rie_server.fronts.routing import Route, RouteError
from lambdarig.rie_server.fronts.stream_prelude import (
    MAX_PRELUDE_BYTES,
    Malformed,
    PreludeReader,
    has_prelude,
    plain_head,
)

NULS = b"\x00" * 8


def test_the_prelude_gives_status_headers_and_cookies_byte_by_byte() -> None:
    data = b'{"statusCode":201,"headers":{"X-A":"1","N":2},"cookies":["a=1","b=2"]}' + NULS
    reader = PreludeReader()
    for byte in data[:-1]:
        assert reader.feed(bytes([byte])) is None
    head, rest = reader.feed(data[-1:] + b"\x00body") or (None, b"")
    assert head == Reply(
        201, [("X-A", "1"), ("N", "2"), ("set-cookie", "a=1"), ("set-cookie", "b=2")]
    )
    assert rest == b"\x00body"  # only 8 NULs are the delimiter


def test_a_prelude_without_a_status_is_200() -> None:
    head, rest = PreludeReader().feed(b"{}" + NULS) or (None, b"")
    assert head == Reply(200, []) and rest == b""


@pytest.mark.parametrize(
    "prelude",
    [
        b'{"headers": {"X-Bad": "a\\r\\nInjected: 1"}}',
        b'{"headers": {"X\\u0001Bad": "v"}}',
        b'{"headers": {"X Bad": "v"}}',
        b'{"headers": {"X-Bad": "\\u0000"}}',
        b'{"cookies": ["a=1\\n"]}',
        b'{"cookies": "a=1"}',
        b'{"headers": ["X-A", "1"]}',
        b'{"statusCode": 99}',
        b'{"statusCode": true}',
        b"[]",
        b"not json",
        b"\xff\xfe",
    ],
)
def test_a_hostile_prelude_is_malformed(prelude: bytes) -> None:
    with pytest.raises(Malformed):
        PreludeReader().feed(prelude + NULS)


def test_a_prelude_is_bounded_with_or_without_its_delimiter() -> None:
    reader = PreludeReader()
    with pytest.raises(Malformed, match="at most 65536 bytes"):
        for _ in range(MAX_PRELUDE_BYTES // 1024 + 2):
            reader.feed(b" " * 1024)
    with pytest.raises(Malformed):
        PreludeReader().feed(b" " * (MAX_PRELUDE_BYTES + 1) + b"{}" + NULS)
    head, _ = PreludeReader().feed(b" " * (MAX_PRELUDE_BYTES - 2) + b"{}" + NULS) or (None, b"")
    assert head == Reply(200, [])


def test_a_stream_that_ends_inside_its_prelude_is_malformed() -> None:
    reader = PreludeReader()
    assert reader.feed(b'{"statusCode": 200}' + b"\x00" * 7) is None
    with pytest.raises(Malformed, match="8 NUL bytes"):
        reader.finish()


def test_only_the_integration_content_type_has_a_prelude() -> None:
    assert has_prelude("application/vnd.awslambda.http-integration-response")
    assert has_prelude("Application/Vnd.AwsLambda.Http-Integration-Response; charset=x")
    assert not has_prelude("application/octet-stream")
    assert plain_head("text/html") == Reply(200, [("Content-Type", "text/html")])


def test_only_function_urls_stream() -> None:
    assert Route("url", "ANY", None, "f", invoke_mode="RESPONSE_STREAM").invoke_mode
    with pytest.raises(RouteError, match="RESPONSE_STREAM on a Function URL, got http"):
        Route("http", "ANY", None, "f", invoke_mode="RESPONSE_STREAM")
    with pytest.raises(RouteError, match="invoke mode"):
        Route("url", "ANY", None, "f", invoke_mode="STREAMING")
