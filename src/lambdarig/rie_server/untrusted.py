"""Text that came from outside (a caller's header or path, a runtime's post): the one definition of
what may not travel in a header we write and of how such text is printed. Sans-IO.

* ``has_control_characters``: a value holding a control character HTTP forbids in a field (RFC
  9110 §5.5: C0 controls other than HTAB, and DEL). A request carrying one in a header is refused
  by the HTTP layer (``http.grammar``); this is for values we decode ourselves (a client context).
* ``printable``: every value from a request that the emulator prints (its diagnostics, the platform
  lines) goes through it, so a value stays one piece of one line: line breaks, tabs (the REPORT
  line's separator), terminal escapes, C1 controls, Unicode line separators and undecodable bytes
  are spelled out as ``\\n``, ``\\x1b``, ``\\u2028``, ``\\xff``. A runtime's own output is not
  escaped (it is passed through as the service passes it).
"""

from __future__ import annotations

import re

from lambdarig.rie_server.http.grammar import FORBIDDEN_IN_FIELD

# Not compiled at import: ``re`` compiles it on first use and caches it (most starts never
# need it, and it costs ~0.8 ms to compile).
# \udc80-\udcff: bytes that were not UTF-8, kept by the HTTP parser's "surrogateescape" decoding.
_UNPRINTABLE = "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a character forbidden in an HTTP field (C0 but HTAB, DEL)."""
    return FORBIDDEN_IN_FIELD.search(text) is not None


def printable(text: str) -> str:
    """``text`` with every character that could break a log line or restyle a terminal escaped
    (idempotent: the escapes are printable themselves)."""
    if re.search(_UNPRINTABLE, text) is None:
        return text
    return re.sub(_UNPRINTABLE, _escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
