"""http11_reply: the one rule for header fields on the way out (issue 8)."""

from __future__ import annotations

import pytest

from lambdarig.rie_server.http.grammar import LocalHttpError
from lambdarig.rie_server.http.reply import HttpReply, render


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
