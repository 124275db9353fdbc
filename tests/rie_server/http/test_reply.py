"""http11_reply: the one rule for header fields on the way out (issue 8)."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from lambdarig.rie_server.http.grammar import LocalHttpError
from lambdarig.rie_server.http.reply import REASONS, HttpReply, render, render_stream_head


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Error", "a\r\nSet-Cookie: stolen=1"),
        ("X-Error", "a\nb"),
        ("X-Error", "a\rb"),
        ("X-Error", "a\x00b"),
        ("X-Error", "a\x1bb"),
        ("X\r\nY", "v"),
    ],
)
def test_render_refuses_a_control_character_in_a_header(name: str, value: str) -> None:
    with pytest.raises(LocalHttpError) as caught:
        render(HttpReply(200, b"", ((name, value),)))
    assert caught.value.status == 500 and "expected no control character" in str(caught.value)


def test_render_writes_tabs_and_non_ascii_values() -> None:
    head = render(HttpReply(200, b"", (("X-A", "a\tb"), ("X-B", "caf\u00e9 \u00a0"))), True)
    assert b"X-A: a\tb\r\nX-B: caf\xc3\xa9 \xc2\xa0\r\n" in head


def test_the_reason_table_is_the_standard_phrases() -> None:
    assert REASONS == {status: HTTPStatus(status).phrase for status in REASONS}


@pytest.mark.parametrize("status", list(HTTPStatus))
def test_every_status_is_written_with_its_standard_phrase(status: HTTPStatus) -> None:
    line = f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode()
    assert render(HttpReply(status.value)).startswith(line)
    assert render_stream_head(status.value, ()).startswith(line)


def test_a_status_without_a_phrase_is_written_as_unknown() -> None:
    assert render(HttpReply(599)).startswith(b"HTTP/1.1 599 Unknown\r\n")
