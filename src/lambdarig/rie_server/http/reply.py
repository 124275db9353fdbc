"""HTTP/1.1 replies for ``http.server``: the ``HttpReply`` value and the bytes ``render`` makes of
it.

``render`` holds the writing side of the one rule for field values (``http.grammar``): a header
carrying a control character (CR, LF, NUL, ...) is refused with ``LocalHttpError``, never written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from http import HTTPStatus

from lambdarig.rie_server.http.grammar import check_reply_field

__all__ = ["CONTINUE", "HttpReply", "http_date", "render", "render_stream_head"]


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
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
    parts = [_STATUS_LINES.get(status) or f"HTTP/1.1 {int(status)} Unknown\r\n"]
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
    parts = [_STATUS_LINES.get(status) or f"HTTP/1.1 {int(status)} Unknown\r\n"]
    for name, value in headers:
        check_reply_field(name, value)
        parts += (name, ": ", value, "\r\n")
    parts += ("Transfer-Encoding: chunked\r\nDate: ", _date())
    parts.append("\r\nConnection: close\r\n\r\n" if close else "\r\n\r\n")
    return "".join(parts).encode("utf-8", "surrogateescape")
