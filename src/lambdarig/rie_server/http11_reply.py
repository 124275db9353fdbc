"""HTTP/1.1 replies for ``http11``: the ``HttpReply`` value and the bytes ``render`` makes of it.

``render`` holds the writing side of the one rule for field values (``http11_grammar``): a header
carrying a control character (CR, LF, NUL, ...) is refused with ``LocalHttpError``, never written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

from lambdarig.rie_server.http11_grammar import check_reply_field

__all__ = ["CONTINUE", "HttpReply", "render"]


@dataclass(frozen=True)
class HttpReply:
    """A complete answer; ``Content-Length`` and ``Date`` are added when written."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS_LINES = {
    status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n" for status in HTTPStatus
}
_date_cache: tuple[int, str] = (0, "")


def _date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def render(reply: HttpReply, head_only: bool = False, close: bool = False) -> bytes:
    """The reply's bytes: status line, its headers, ``Content-Length``, ``Date``, body (one
    string built with one join: this runs for every exchange). Raises ``LocalHttpError`` rather
    than write a header carrying a control character (RFC 9110 §5.5)."""
    status = reply.status
    headers = reply.headers
    parts = [_STATUS_LINES.get(status) or f"HTTP/1.1 {int(status)} Unknown\r\n"]
    for name, value in headers:
        parts += (name, ": ", value, "\r\n")
        if not (value.isprintable() and name.isprintable()):
            check_reply_field(name, value)
    parts += ("Content-Length: ", str(len(reply.body)), "\r\nDate: ", _date())
    parts.append("\r\nConnection: close\r\n\r\n" if close else "\r\n\r\n")
    head = "".join(parts).encode("utf-8", "surrogateescape")
    return head if head_only else head + reply.body
