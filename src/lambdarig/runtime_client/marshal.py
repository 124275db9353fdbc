"""Event decoding and result encoding, byte-compatible with awslambdaric's simplejson marshaller.

awslambdaric encodes with ``simplejson`` (``allow_nan=True``, default separators ``", "`` /
``": "``, ``Decimal`` emitted verbatim, ``namedtuple`` and other ``_asdict()`` objects as JSON
objects, nested ``bytes`` decoded as UTF-8 text) and decodes with ``simplejson.loads`` (UTF-8
only, a leading BOM skipped, ``NaN``/``Infinity`` rejected). This module reproduces that with the
standard library only (awslambdaric's lambda_runtime_marshaller.py):

* plain values (``dict``/``list``/``tuple``/``str``/``int``/``float``/``bool``/``None``) go through
  the C-accelerated stdlib encoder, whose output is identical for them;
* anything else sends the whole value through :func:`_encode_exotic`, a small pure-Python encoder
  with simplejson's type-dispatch order and error messages;
* decode errors are re-diagnosed by :func:`_diagnose`, which walks the text with simplejson's
  grammar to produce simplejson's exact message (the stdlib's wording differs between versions).

No I/O. ``json`` is not imported before the first ``/next`` is sent (it pulls in ``re``:
milliseconds of cold start): the runtime loop calls :func:`warm` while that ``/next`` waits for the
first event, and otherwise it is imported on first use. ``decimal`` never is (a ``Decimal`` exists
only if user code imported it).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, Callable

_PLAIN_LEAVES = frozenset((str, int, float, bool, type(None)))
_CONTAINERS = frozenset((dict, list, tuple))
_encoders: dict[bool, Callable[[Any], str]] = {}
_decoders: list[Callable[[str], Any]] = []
# simplejson's C encoder says this for any container nested too deeply.
_ENCODE_DEPTH_MESSAGE = "maximum recursion depth exceeded while encoding a JSON object"


class _NonFiniteConstant(Exception):
    """simplejson's ``loads`` rejects ``NaN``/``Infinity``; the stdlib needs telling."""


def _reject_constant(name: str) -> Any:
    raise _NonFiniteConstant(name)


def warm(ensure_ascii: bool) -> None:
    """Make the decoder and the ``ensure_ascii`` encoder now (importing ``json``), not on the
    first event and result."""
    _decoder()
    _encoder(ensure_ascii)


def _encoder(ensure_ascii: bool) -> Callable[[Any], str]:
    encode = _encoders.get(ensure_ascii)
    if encode is None:
        import json

        encoder = json.JSONEncoder(ensure_ascii=ensure_ascii, allow_nan=True)
        encode = _encoders[ensure_ascii] = encoder.encode
    return encode


def _decoder() -> Callable[[str], Any]:
    if not _decoders:
        import json

        _decoders.append(json.JSONDecoder(parse_constant=_reject_constant).decode)
    return _decoders[0]


def dumps(obj: Any, ensure_ascii: bool) -> str:
    """Encode ``obj`` exactly as awslambdaric's ``to_json`` would.

    Raises ``TypeError`` (``Object of type X is not JSON serializable``, ``keys must be ...``) or
    ``ValueError`` (``Circular reference detected``) with simplejson's messages.
    """
    try:
        if _is_plain(obj):
            encode = _encoders.get(ensure_ascii) or _encoder(ensure_ascii)
            return encode(obj)
        return "".join(_encode_exotic(obj, ensure_ascii))
    except RecursionError:
        raise RecursionError(_ENCODE_DEPTH_MESSAGE) from None


def loads(body: bytes) -> Any:
    """Decode an event body as ``simplejson.loads`` does.

    Raises ``ValueError`` whose text is simplejson's (``UnicodeDecodeError`` for non-UTF-8 input).
    """
    text = body.decode("utf-8")
    start = 1 if text[:1] == "\ufeff" else 0
    decode = _decoders[0] if _decoders else _decoder()
    try:
        return decode(text[start:] if start else text)
    except RecursionError as exc:  # simplejson's wording lacks the stdlib's "unicode"
        raise RecursionError(str(exc).replace(" a unicode string", " a string")) from None
    except (ValueError, _NonFiniteConstant):
        message = _diagnose(text, start)
        if message is None:
            raise
        raise ValueError(message) from None


def _is_plain(obj: Any) -> bool:
    """Whether ``obj`` holds only types the stdlib encodes exactly like simplejson.

    Iterative (no recursion limit of its own). A container met twice (a cycle, or merely shared)
    sends the value down the exotic path, which tells the two apart.
    """
    if type(obj) in _PLAIN_LEAVES:
        return True
    seen: set[int] = set()
    stack = [obj]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind not in _CONTAINERS or id(item) in seen:
            return False
        seen.add(id(item))
        if kind is dict:
            if not all(type(key) in _PLAIN_LEAVES for key in item):
                return False
            item = item.values()
        for value in item:
            if type(value) not in _PLAIN_LEAVES:
                stack.append(value)
    return True


# --- The exotic path: simplejson's dispatch order, in pure Python ---------------------------------


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == float("-inf"):
        return "-Infinity"
    return float.__repr__(value)


def _is_decimal(obj: Any) -> bool:
    decimal = sys.modules.get("decimal")
    return decimal is not None and isinstance(obj, decimal.Decimal)


def _as_dict(obj: Any) -> dict[Any, Any] | None:
    method = getattr(obj, "_asdict", None)
    if method is None or not callable(method):
        return None
    result = method()
    if not isinstance(result, dict):
        raise TypeError(f"_asdict() must return a dict, not {type(result).__name__}")
    return result


def _encode_exotic(obj: Any, ensure_ascii: bool) -> Iterator[str]:
    return _ExoticEncoder(ensure_ascii).encode(obj)


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return key.decode("utf-8")
    if isinstance(key, float):
        return _float_text(key)
    if key is True or key is False or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


class _ExoticEncoder:
    """One ``dumps`` call down the exotic path; tracks the containers being encoded (cycles)."""

    def __init__(self, ensure_ascii: bool) -> None:
        import json.encoder

        encoder = json.encoder
        self.string = encoder.encode_basestring_ascii if ensure_ascii else encoder.encode_basestring
        self.active: set[int] = set()

    def enter(self, container: Any) -> None:
        if id(container) in self.active:
            raise ValueError("Circular reference detected")
        self.active.add(id(container))

    def encode_dict(self, value: dict[Any, Any]) -> Iterator[str]:
        self.enter(value)
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield (", " if index else "") + self.string(_key_text(key)) + ": "
            yield from self.encode(item)
        yield "}"
        self.active.discard(id(value))

    def encode(self, value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield self.string(value)
        elif isinstance(value, bytes):
            yield self.string(value.decode("utf-8"))
        elif value is None or value is True or value is False:
            yield {None: "null", True: "true", False: "false"}[value]
        elif isinstance(value, int):
            yield int.__repr__(value)
        elif isinstance(value, float):
            yield _float_text(value)
        elif (as_dict := _as_dict(value)) is not None:
            yield from self.encode_dict(as_dict)
        elif isinstance(value, (list, tuple)):  # inline: one generator frame per level
            self.enter(value)
            yield "["
            for index, item in enumerate(value):
                if index:
                    yield ", "
                yield from self.encode(item)
            yield "]"
            self.active.discard(id(value))
        elif isinstance(value, dict):
            yield from self.encode_dict(value)
        elif _is_decimal(value):
            # awslambdaric: Decimal NaN becomes math.nan, any other Decimal is RawJSON(str(d)).
            yield "NaN" if value.is_nan() else str(value)
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# --- Decode diagnostics: simplejson's error wording -----------------------------------------------

_WS = " \t\n\r"
_ESCAPES = frozenset('"\\/bfnrt')
_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")


class _Fail(Exception):
    def __init__(self, msg: str, pos: int, end: int | None = None) -> None:
        super().__init__(msg)
        self.msg, self.pos, self.end = msg, pos, end


def _linecol(doc: str, pos: int) -> tuple[int, int]:
    line = doc.count("\n", 0, pos) + 1
    return line, (pos + 1 if line == 1 else pos - doc.rindex("\n", 0, pos))


def _format(fail: _Fail, doc: str) -> str:
    msg = fail.msg.replace("%r", repr(doc[fail.pos : fail.pos + 1]))
    line, col = _linecol(doc, fail.pos)
    if fail.end is None:
        return f"{msg}: line {line} column {col} (char {fail.pos})"
    end_line, end_col = _linecol(doc, fail.end)
    return (
        f"{msg}: line {line} column {col} - line {end_line} column {end_col} "
        f"(char {fail.pos} - {fail.end})"
    )


def _diagnose(doc: str, start: int) -> str | None:
    """simplejson's error message for ``doc``, or ``None`` if simplejson would accept it."""
    try:
        end = _skip_ws(doc, _scan_value(doc, _skip_ws(doc, start)))
        if end != len(doc):
            raise _Fail("Extra data", end, len(doc))
    except _Fail as fail:
        return _format(fail, doc)
    return None


def _skip_ws(doc: str, pos: int) -> int:
    while pos < len(doc) and doc[pos] in _WS:
        pos += 1
    return pos


def _digits(doc: str, pos: int) -> int:
    while pos < len(doc) and doc[pos] in _DIGITS:
        pos += 1
    return pos


def _scan_number(doc: str, pos: int) -> int:
    """End of the JSON number at ``pos`` (``-?(0|[1-9]d*)(.d+)?([eE][-+]?d+)?``), else ``pos``."""
    i = pos + 1 if doc[pos : pos + 1] == "-" else pos
    head = doc[i : i + 1]
    if head == "0":
        i += 1
    elif head and head in _DIGITS:
        i = _digits(doc, i + 1)
    else:
        return pos
    if doc[i : i + 1] == ".":
        j = _digits(doc, i + 1)
        i = j if j > i + 1 else i
    if doc[i : i + 1] in ("e", "E"):
        j = i + 2 if doc[i + 1 : i + 2] in ("+", "-") else i + 1
        k = _digits(doc, j)
        i = k if k > j else i
    return i


def _scan_value(doc: str, pos: int) -> int:
    char = doc[pos : pos + 1]
    if char == '"':
        return _scan_string(doc, pos + 1)
    if char == "{":
        return _scan_object(doc, pos + 1)
    if char == "[":
        return _scan_array(doc, pos + 1)
    for literal in ("null", "true", "false"):
        if doc.startswith(literal, pos):
            return pos + len(literal)
    end = _scan_number(doc, pos)
    if end > pos:
        return end
    raise _Fail("Expecting value", pos)


def _scan_string(doc: str, pos: int) -> int:
    begin = pos - 1
    while True:
        if pos >= len(doc):
            raise _Fail("Unterminated string starting at", begin)
        char = doc[pos]
        if char == '"':
            return pos + 1
        if char < " ":
            raise _Fail("Invalid control character %r at", pos)
        pos += 1
        if char != "\\":
            continue
        if pos >= len(doc):
            raise _Fail("Unterminated string starting at", begin)
        if doc[pos] == "u":
            if len(doc[pos + 1 : pos + 5]) != 4 or not set(doc[pos + 1 : pos + 5]) <= _HEX:
                raise _Fail("Invalid \\uXXXX escape sequence", pos - 1)
            pos += 5
        elif doc[pos] in _ESCAPES:
            pos += 1
        else:
            raise _Fail("Invalid \\X escape sequence %r", pos)


def _scan_object(doc: str, pos: int) -> int:
    pos = _skip_ws(doc, pos)
    if doc[pos : pos + 1] == "}":
        return pos + 1
    if doc[pos : pos + 1] != '"':
        raise _Fail("Expecting property name enclosed in double quotes or '}'", pos)
    while True:
        pos = _skip_ws(doc, _scan_string(doc, pos + 1))
        if doc[pos : pos + 1] != ":":
            raise _Fail("Expecting ':' delimiter", pos)
        pos = _skip_ws(doc, _scan_value(doc, _skip_ws(doc, pos + 1)))
        char = doc[pos : pos + 1]
        if char == "}":
            return pos + 1
        if char != ",":
            raise _Fail("Expecting ',' delimiter or '}'", pos)
        comma = pos
        pos = _skip_ws(doc, pos + 1)
        if doc[pos : pos + 1] != '"':
            if doc[pos : pos + 1] == "}":
                raise _Fail("Illegal trailing comma before end of object", comma)
            raise _Fail("Expecting property name enclosed in double quotes", pos)


def _scan_array(doc: str, pos: int) -> int:
    pos = _skip_ws(doc, pos)
    if doc[pos : pos + 1] == "]":
        return pos + 1
    if pos >= len(doc):
        raise _Fail("Expecting value or ']'", pos)
    while True:
        pos = _skip_ws(doc, _scan_value(doc, pos))
        char = doc[pos : pos + 1]
        if char == "]":
            return pos + 1
        if char != ",":
            raise _Fail("Expecting ',' delimiter or ']'", pos)
        comma = pos
        pos = _skip_ws(doc, pos + 1)
        if doc[pos : pos + 1] == "]":
            raise _Fail("Illegal trailing comma before end of array", comma)
