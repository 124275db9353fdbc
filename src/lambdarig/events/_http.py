"""Header and query-string handling shared by the HTTP sources (API Gateway, Function URL, ALB)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Union
from urllib.parse import parse_qsl, quote, urlencode

from lambdarig.events._common import Ids

#: A header or query mapping: one value, or several for repeated names.
MultiMap = Mapping[str, Union[str, Sequence[str]]]

Pairs = list[tuple[str, list[str]]]

#: The ``User-Agent`` the HTTP sources send unless the caller gives one.
USER_AGENT = "lambdarig-events/1.0"


def trace_header(ids: Ids, now: datetime) -> str:
    """An ``X-Amzn-Trace-Id`` value as the load balancer / API front end adds it."""
    return f"Root=1-{int(now.timestamp()):08x}-{ids.hex(24)}"


def multi(mapping: MultiMap | None) -> Pairs:
    """``[(name, [values...]), ...]`` in insertion order; a ``str`` value is one value."""
    if not mapping:
        return []
    pairs: Pairs = []
    for name, value in mapping.items():
        values = [value] if isinstance(value, str) else [str(item) for item in value]
        pairs.append((str(name), values))
    return pairs


def split_path(path: str, query: MultiMap | None) -> tuple[str, Pairs]:
    """Split ``/p?a=1`` into ``('/p', [('a', ['1'])])`` and append ``query`` after it."""
    raw_path, _, raw_query = path.partition("?")
    pairs: Pairs = []
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        _append(pairs, name, value)
    for name, values in multi(query):
        for value in values:
            _append(pairs, name, value)
    if not raw_path.startswith("/"):
        raw_path = "/" + raw_path
    return raw_path, pairs


def _append(pairs: Pairs, name: str, value: str) -> None:
    for existing, values in pairs:
        if existing == name:
            values.append(value)
            return
    pairs.append((name, [value]))


def with_defaults(pairs: Pairs, defaults: Mapping[str, str]) -> Pairs:
    """``pairs`` plus each default header whose name (case-insensitively) is not already there."""
    present = {name.lower() for name, _ in pairs}
    extra = [(name, [value]) for name, value in defaults.items() if name.lower() not in present]
    return extra + pairs


def last_values(pairs: Pairs) -> dict[str, str] | None:
    """API Gateway v1 ``headers``/``queryStringParameters``: last value wins; None if empty."""
    return {name: values[-1] for name, values in pairs} or None


def all_values(pairs: Pairs) -> dict[str, list[str]] | None:
    """The ``multiValue…`` variant: every value in order; None if empty."""
    return {name: list(values) for name, values in pairs} or None


def comma_joined(pairs: Pairs, *, lower: bool = False) -> dict[str, str]:
    """HTTP API v2 / Function URL: repeated values joined with ``,``; names lower-cased if asked."""
    return {(name.lower() if lower else name): ",".join(values) for name, values in pairs}


def raw_query(pairs: Pairs) -> str:
    """``a=1&a=2&b=x%20y`` as the client sent it (percent-encoded, ``%20`` for spaces)."""
    flat = [(name, value) for name, values in pairs for value in values]
    return urlencode(flat, quote_via=quote)


def percent_encoded(pairs: Pairs) -> Pairs:
    """ALB passes query names and values through still percent-encoded."""
    return [(quote(name, safe=""), [quote(v, safe="") for v in values]) for name, values in pairs]


def pop_cookies(pairs: Pairs) -> tuple[Pairs, list[str]]:
    """Remove ``Cookie`` headers; return the rest and the cookies split on ``;``."""
    kept: Pairs = []
    cookies: list[str] = []
    for name, values in pairs:
        if name.lower() == "cookie":
            for value in values:
                cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            kept.append((name, values))
    return kept, cookies
