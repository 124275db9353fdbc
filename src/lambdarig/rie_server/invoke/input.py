"""What the Invoke API takes from a caller besides the function name: the X-Ray trace header, the
client context and the JSON payload, each checked before anything of it reaches a runtime. Sans-IO.

The rules (``invoke.protocol`` renders the refusals):

* a header with a control character: never gets here (the HTTP layer refuses it with 400);
* ``X-Amzn-Trace-Id``: forwarded when it is an X-Ray trace header; a malformed one is ignored, as
  X-Ray ignores a trace header it cannot parse, and the invoke gets a fresh trace id instead
  (none in RIE mode, which generates none);
* ``X-Amz-Client-Context``: at most 3,583 bytes of base64 of a JSON object, else refused; the
  line breaks such a JSON text may hold between tokens become spaces (same document, and a header
  value cannot carry them);
* the payload: JSON nested at most ``MAX_JSON_NESTING_DEPTH`` deep, else refused (the service's
  parser's limit); checked without recursing past the interpreter's stack.
"""

from __future__ import annotations

import binascii
import itertools
import json
import re
import sys

from lambdarig import invoke_api
from lambdarig.rie_server.untrusted import has_control_characters

# Patterns compiled by ``re`` on first use (and cached there): only some invokes need them.
_TRACE_RULES = {
    invoke_api.TRACE_KEY_ROOT: invoke_api.TRACE_ROOT_PATTERN,
    invoke_api.TRACE_KEY_PARENT: invoke_api.TRACE_PARENT_PATTERN,
    invoke_api.TRACE_KEY_SAMPLED: invoke_api.TRACE_SAMPLED_PATTERN,
}
_LINE_BREAKS = str.maketrans("\r\n", "  ")
# A JSON string (escapes included) and what is left once strings are gone: only the brackets.
_JSON_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_SHALLOW = 100  # levels json.loads takes on any stack the emulator runs on
_DEPTH_STEP = tuple(1 if byte in b"[{" else -1 if byte in b"]}" else 0 for byte in range(256))


def trace_header(value: str | None) -> str | None:
    """``value`` when it is a well-formed X-Ray trace header, else ``None``.

    Well formed: ``;``-separated ``Key=value`` fields (spaces around a field allowed), each key at
    most once, ``Root=1-<8 hex>-<24 hex>`` present, ``Parent`` 16 hex digits and ``Sampled`` one of
    ``0``, ``1``, ``?`` when present; other keys (``Lineage``, ``Self``...) may hold any visible
    ASCII but ``;``.
    """
    if not value:
        return None
    seen: set[str] = set()
    for field in value.split(";"):
        field = field.strip(" ")
        if not field:
            continue
        match = re.fullmatch(invoke_api.TRACE_FIELD_PATTERN, field)
        if match is None or match.group(1) in seen:
            return None
        key, text = match.groups()
        seen.add(key)
        rule = _TRACE_RULES.get(key)
        if rule is not None and not re.fullmatch(rule, text):
            return None
    return value if invoke_api.TRACE_KEY_ROOT in seen else None


def client_context(header: str | None, *, service: bool) -> str | None:
    """The decoded client context to give the runtime: ``""`` when none was sent, ``None`` when
    it is refused. ``service``: the service's rules (see the module docstring); otherwise
    aws-lambda-rie's (any base64 of UTF-8 text, line breaks turned into spaces as Go's HTTP server
    writes them), refusing only what cannot be decoded or carries other control characters."""
    if not header:
        return ""
    if service and len(header) > invoke_api.MAX_CLIENT_CONTEXT_SIZE:
        return None
    import base64  # only for a ClientContext: a plain invoke never loads it

    try:
        text = base64.b64decode(header, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if service:
        try:
            document = load_json(text.encode("utf-8"))
        except ValueError:
            return None
        if not isinstance(document, dict):
            return None
    text = text.translate(_LINE_BREAKS)  # only whitespace between tokens in valid JSON
    return None if has_control_characters(text) else text


def load_json(document: bytes) -> object:
    """``json.loads(document)``, refusing (``ValueError`` with the service's detail) a document
    nested deeper than ``MAX_JSON_NESTING_DEPTH``; never raises ``RecursionError``."""
    limit = invoke_api.MAX_JSON_NESTING_DEPTH
    openers = document.count(b"[") + document.count(b"{")  # the deepest it could nest
    if openers <= _SHALLOW:
        return json.loads(document)
    if openers > limit and too_deep(document, limit):
        raise ValueError(invoke_api.MESSAGE_JSON_TOO_DEEP.format(depth=limit + 1, limit=limit))
    # Before 3.12 the C decoder's levels count against the recursion limit together with the
    # caller's frames: lend it room for ``limit`` more levels (process-wide, restored at once).
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(previous + limit)
    try:
        return json.loads(document)
    except RecursionError:  # a C stack limit of its own (3.12+) smaller than ``limit`` + ours
        raise ValueError(
            invoke_api.MESSAGE_JSON_TOO_DEEP.format(depth=limit + 1, limit=limit)
        ) from None
    finally:
        sys.setrecursionlimit(previous)


def too_deep(document: bytes, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` in ``document`` (C speed, stops
    at the first level past ``limit``; a document that is not JSON may be misjudged, but
    ``json.loads`` refuses it anyway)."""
    brackets = re.sub(_JSON_STRING, b"", document, flags=re.DOTALL).translate(None, _NOT_BRACKETS)
    depths = itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets))
    return any(map(limit.__lt__, depths))
