"""What an HTTP/1.1 request head may contain (RFC 9112, RFC 9110), as compiled regexes: sans-IO.

``http.parser`` frames bytes into lines and blocks; this module says whether they are
acceptable and what they mean. The rules are h11's (its ``_abnf.py`` and ``_headers.py``),
checked against it by ``tests/rie_server/http/test_parser_against_h11.py``, which also lists each
place where we deliberately answer differently and why.

One rule for field values, in both directions (RFC 9110 §5.5): visible characters and obs-text
separated by SP/HTAB; no other control character, so never CR, LF or NUL. A request breaking it
gets 400; a reply breaking it is refused by ``http.reply.render`` (``LocalHttpError``: our bug).
"""

from __future__ import annotations

import re

MAX_LINE = 8190  # request line and each header line, as aiohttp's limits
MAX_HEADER_BYTES = 64 * 1024
CHUNK_LINE_MAX = 1024  # a chunk-size line, extensions included
CHUNK_SIZE_DIGITS = 16  # 2**64 - 1, as Go's net/http (aws-lambda-rie) allows
CONTENT_LENGTH_DIGITS = 20  # significant digits, as h11; leading zeros are free (1*DIGIT)


class HttpProtocolError(Exception):
    """Base: a message broke HTTP/1.1; ``status`` is the answer it deserves."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class BadRequest(HttpProtocolError):
    """The peer's bytes are not an acceptable HTTP/1.1 request (answered, then closed)."""


class LocalHttpError(HttpProtocolError):
    """We were about to write bytes that break HTTP/1.1 (our bug): refused, never written."""


_TCHAR = r"[-!#$%&'*+.^_`|~0-9A-Za-z]"
# Every control character but HTAB (RFC 9110 §5.5): the one rule, on reading and on writing.
FORBIDDEN_IN_FIELD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NOT_CTL = r"[^\x00-\x08\x0a-\x1f\x7f]"
_FIELD_LINE = re.compile(rf"{_TCHAR}+:{_NOT_CTL}*")
_FIELD_BLOCK = re.compile(rf"(?:{_TCHAR}+:{_NOT_CTL}*\r\n)*{_TCHAR}+:{_NOT_CTL}*")
_REQUEST_LINE = re.compile(rf"({_TCHAR}+) ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])".encode("ascii"))
_CHUNK_LINE = rb"([0-9A-Fa-f]{1,%d})(?:;.*)?[ \t]*" % CHUNK_SIZE_DIGITS  # re compiles on first use


def request_line(line: bytes) -> tuple[str, str, str]:
    """``(method, target, version)``; an absolute-form target is reduced to its path and query."""
    if len(line) > MAX_LINE:
        raise BadRequest(f"expected a request line of at most {MAX_LINE} bytes", 414)
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        raise BadRequest(f"expected a request line like 'GET /path HTTP/1.1', got {line[:80]!r}")
    method, raw_target, major = match.group(1, 2, 3)
    version = line[-8:].decode("ascii")
    if major != b"1":
        raise BadRequest(f"expected HTTP/1.x, got {version}", 505)
    target = raw_target.decode("ascii")
    if not target.startswith("/") and "://" in target:
        target = "/" + target.partition("://")[2].partition("/")[2]
    return method.decode("ascii"), target, version


def header_items(block: bytes) -> dict[str, tuple[str, str]]:
    """``{lower-case name: (name as first received, value)}`` of a header block (lines joined by
    CRLF, no final CRLF); repeated fields are joined by ``", "``, obs-fold unfolded to one SP.

    One regex checks the whole block (token names, a colon, values free of control characters);
    then one ``partition`` per line: this runs for every request of every invoke."""
    items: dict[str, tuple[str, str]] = {}
    if not block:
        return items
    if len(block) > MAX_LINE and max(map(len, block.split(b"\r\n"))) > MAX_LINE:
        raise BadRequest(f"expected header lines of at most {MAX_LINE} bytes")
    text = block.decode("utf-8", "surrogateescape")
    if _FIELD_BLOCK.fullmatch(text) is None:
        text = _unfolded(text)
    for line in text.split("\r\n"):
        name, _, value = line.partition(":")
        value = value.strip(" \t")
        key = name.lower()
        found = items.get(key)
        if found is None:
            items[key] = (name, value)
        elif key == "host":
            raise BadRequest("expected one Host header, got several")
        else:
            items[key] = (found[0], f"{found[1]}, {value}")
    return items


def _unfolded(text: str) -> str:
    """The block with each obs-fold (CRLF then SP/HTAB) replaced by one SP (RFC 9112 §5.2, as h11
    does), every line checked; raises ``BadRequest`` naming the first bad line."""
    lines: list[str] = []
    for line in text.split("\r\n"):
        if line[:1] in (" ", "\t"):
            if not lines:
                raise BadRequest("expected a header line, got a continuation line first")
            lines[-1] += " " + line.lstrip(" \t")
        else:
            lines.append(line)
    for line in lines:
        if _FIELD_LINE.fullmatch(line) is None:
            raise BadRequest(_bad_field_line(line))
    return "\r\n".join(lines)


def _bad_field_line(line: str) -> str:
    raw = line.encode("utf-8", "surrogateescape")
    if "\n" in line or "\r" in line:
        problem = "a bare CR or LF inside the line (lines end with CRLF)"
    elif FORBIDDEN_IN_FIELD.search(line):
        problem = "a control character"
    else:
        problem = "a name that is not a token, or no colon right after it"
    return f"expected a 'Name: value' header line, got {problem}: {raw[:80]!r}"


def body_length(items: dict[str, tuple[str, str]], version: str) -> int | None:
    """The declared body length (``None``: chunked). Refuses what h11 refuses, and a request
    carrying both Content-Length and Transfer-Encoding (RFC 9112 §6.3: a smuggling sign)."""
    if version == "HTTP/1.1" and "host" not in items:
        raise BadRequest("expected a Host header in an HTTP/1.1 request, got none")
    encoding = items.get("transfer-encoding")
    length = items.get("content-length")
    if encoding is None:
        if length is None:
            return 0
        value = length[1]
        if value.isdigit() and value.isascii() and len(value) <= CONTENT_LENGTH_DIGITS:
            return int(value)  # the usual case, at once
        return _content_length(items, length)
    if length is not None:
        raise BadRequest("expected Content-Length or Transfer-Encoding, got both")
    _transfer_encoding(items, encoding)
    return None


def check_trailers(block: bytes) -> dict[str, tuple[str, str]]:
    """A chunked body's trailer section: header lines, checked as h11 checks them; returned as
    ``header_items`` returns a head's fields (kept only for a streamed body)."""
    items = header_items(block)
    if "content-length" in items:
        _content_length(items, items["content-length"])
    if "transfer-encoding" in items:
        _transfer_encoding(items, items["transfer-encoding"])
    return items


def _content_length(items: dict[str, tuple[str, str]], field: tuple[str, str]) -> int:
    """Repeats of one value are one value (RFC 9110 §8.6); stored back as that value."""
    name, value = field
    values = {part.strip(" \t") for part in value.split(",")}
    digits = values.pop()
    if values or not (digits.isascii() and digits.isdigit()):
        raise BadRequest(f"expected one decimal Content-Length, got {value[:80]!r}")
    significant = digits.lstrip("0")
    if len(significant) > CONTENT_LENGTH_DIGITS:
        raise BadRequest(
            f"expected a Content-Length of at most {CONTENT_LENGTH_DIGITS} digits, "
            f"got {len(significant)}"
        )
    items["content-length"] = (name, digits)
    return int(significant or "0")


def _transfer_encoding(items: dict[str, tuple[str, str]], field: tuple[str, str]) -> None:
    name, value = field
    if value.lower() != "chunked":
        raise BadRequest(f"expected Transfer-Encoding: chunked, got {value[:80]!r}", 501)
    items["transfer-encoding"] = (name, "chunked")


def chunk_size(line: bytes) -> int:
    """The size on a chunk-size line (CRLF removed): 1 to 16 hex digits, extensions ignored."""
    match = re.fullmatch(_CHUNK_LINE, line)
    if match is None:
        raise BadRequest(
            f"expected a chunk size of 1 to {CHUNK_SIZE_DIGITS} hex digits, got {line[:40]!r}"
        )
    return int(match.group(1), 16)


def check_reply_field(name: str, value: str) -> None:
    """Refuse (``LocalHttpError``) to write a header that breaks the one rule. For the callers'
    slow path: they call it only when ``isprintable`` (false for every control character and
    for some harmless non-ASCII ones) said no."""
    if FORBIDDEN_IN_FIELD.search(name) or FORBIDDEN_IN_FIELD.search(value):
        raise LocalHttpError(
            f"refused to write header {name[:40]!r}: expected no control character "
            f"(CR, LF, NUL, ...), got {value[:80]!r}",
            500,
        )
