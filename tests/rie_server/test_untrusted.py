"""Request text: no control characters in headers, escaped in every printed line."""

from __future__ import annotations

import io
import logging

import pytest

from lambdarig.rie_server.cli import configure_logging
from lambdarig.rie_server.untrusted import (
    has_control_characters,
    printable,
)


@pytest.mark.parametrize("char", ["\x00", "\r", "\n", "\x1b", "\x7f", "\x08", "\x1f"])
def test_control_characters_are_forbidden_in_headers(char: str) -> None:
    assert has_control_characters(f"a{char}b")


@pytest.mark.parametrize("text", ["plain", "tab\tseparated", "caf\u00e9", "\u2028", "\udcff"])
def test_htab_and_non_ascii_are_allowed_in_headers(text: str) -> None:
    assert not has_control_characters(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Runtime.X\nlambdarig-rie: WARNING: forged", "Runtime.X\\nlambdarig-rie: WARNING: forged"),
        ("a\r\nb", "a\\r\\nb"),
        ("field\tfield", "field\\tfield"),
        ("nul\x00", "nul\\x00"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("del\x7f c1\x85 \x9b", "del\\x7f c1\\x85 \\x9b"),
        ("line\u2028sep\u2029", "line\\u2028sep\\u2029"),
        ("byte \udcff", "byte \\xff"),
        ("lone \ud800", "lone \\ud800"),
        ("caf\u00e9 \u2603 ok", "caf\u00e9 \u2603 ok"),
    ],
)
def test_printable_escapes_what_could_break_a_line(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert printable(shown) == shown  # idempotent
    assert "\n" not in shown and "\r" not in shown


def test_the_emulators_diagnostics_are_one_line_each() -> None:
    logger = logging.getLogger("lambdarig.rie_server")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    stream = io.StringIO()
    try:
        configure_logging("info", stream)
        logging.getLogger("lambdarig.rie_server.x").warning(
            "failed for %s", "/path\nlambdarig-rie: WARNING: forged"
        )
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    assert stream.getvalue() == (
        "lambdarig-rie: WARNING: failed for /path\\nlambdarig-rie: WARNING: forged\n"
    )
