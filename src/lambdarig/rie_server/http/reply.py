"""HTTP/1.1 replies for ``http.server``: the ``HttpReply`` value and the bytes ``render`` makes of
it.

``render`` holds the writing side of the one rule for field values (``http.grammar``): a header
carrying a control character (CR, LF, NUL, ...) is refused with ``LocalHttpError``, never written.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import NamedTuple

from lambdarig.rie_server.http.grammar import check_reply_field

__all__ = ["CONTINUE", "HttpReply", "http_date", "render", "render_stream_head"]


class HttpReply(NamedTuple):
    """A complete answer; ``Content-Length`` and ``Date`` are added when written."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# The reason phrases (RFC 9110 §15) of the statuses the emulator's own APIs answer with; others
# (an HTTP front relays a function's statusCode) come from ``http.HTTPStatus``, imported on first
# need: importing it costs more than the rest of this module at start-up. 413 and 414 are left to
# ``HTTPStatus`` too: their phrases changed in Python 3.13 (RFC 9110's), and the emulator keeps
# writing what the running Python's ``HTTPStatus`` says.
REASONS = {
    200: "OK",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    410: "Gone",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
}
_date_cache: tuple[int, str] = (0, "")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=128)
def _status_line(status: int) -> str:
    """``HTTP/1.1 <status> <reason phrase>`` and its CRLF; ``Unknown`` for a status that has
    no registered phrase."""
    reason = REASONS.get(status)
    if reason is None:
        from http import HTTPStatus

        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
    return f"HTTP/1.1 {status} {reason}\r\n"


def http_date(epoch_s: int) -> str:
    """RFC 9110's IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``), locale-independent: what
    ``email.utils.formatdate(usegmt=True)`` writes, without importing the ``email`` package."""
    t = time.gmtime(epoch_s)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def _date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, http_date(now))
    return _date_cache[1]


def render(reply: HttpReply, head_only: bool = False, close: bool = False) -> bytes:
    """The reply's bytes: status line, its headers, ``Content-Length``, ``Date``, body (one
    string built with one join: this runs for every exchange). Raises ``LocalHttpError`` rather
    than write a header carrying a control character (RFC 9110 §5.5)."""
    status = reply.status
    headers = reply.headers
    parts = [_status_line(int(status))]
    for name, value in headers:
        parts += (name, ": ", value, "\r\n")
        if not (value.isprintable() and name.isprintable()):
            check_reply_field(name, value)
    parts += ("Content-Length: ", str(len(reply.body)), "\r\nDate: ", _date())
    parts.append("\r\nConnection: close\r\n\r\n" if close else "\r\n\r\n")
    head = "".join(parts).encode("utf-8", "surrogateescape")
    return head if head_only else head + reply.body


def render_stream_head(
    status: int, headers: tuple[tuple[str, str], ...], close: bool = False
) -> bytes:
    """The head of a streamed reply: as ``render``'s, with ``Transfer-Encoding: chunked`` in
    place of ``Content-Length``. Raises ``LocalHttpError`` for a header with a control
    character."""
    parts = [_status_line(int(status))]
    for name, value in headers:
        check_reply_field(name, value)
        parts += (name, ": ", value, "\r\n")
    parts += ("Transfer-Encoding: chunked\r\nDate: ", _date())
    parts.append("\r\nConnection: close\r\n\r\n" if close else "\r\n\r\n")
    return "".join(parts).encode("utf-8", "surrogateescape")
