"""Pagination of the control plane's lists (``ListFunctions``, ``ListAliases``,
``ListVersionsByFunction``): ``Marker`` and ``MaxItems`` in, one page and its ``NextMarker`` out.

Sans-IO. As the service (https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html,
API_ListAliases.html, API_ListVersionsByFunction.html):

* ``MaxItems`` is an integer in 1-10000; ``ListFunctions`` and ``ListVersionsByFunction`` return at
  most 50 items per response whatever it says (observed: boto/boto3#1364, aws/aws-sdk-js#1118),
  and 50 is also the page size without it.
* ``NextMarker`` is present only when more items follow; passed back as ``Marker`` it resumes the
  list there. Our marker is opaque to callers: the URL-safe base64 of the next item's key.
* A ``MaxItems`` out of range is refused as the service's request validation refuses a constraint
  violation: 400 ``ValidationException``, ``1 validation error detected: Value '0' at 'maxItems'
  failed to satisfy constraint: Member must have value greater than or equal to 1``. A value that
  is not an integer gets the same error type [inf: the text is ours].
* A ``Marker`` we did not issue (or for an item no longer listed) is 400
  ``InvalidParameterValueException`` [inf: the service's text for a forged marker is not
  documented]; nothing from it is echoed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from lambdarig import invoke_api

QUERY_MARKER = "Marker"
QUERY_MAX_ITEMS = "MaxItems"
MAX_ITEMS_RANGE = (1, 10000)
PAGE_SIZE = 50  # the default page, and the cap of ListFunctions / ListVersionsByFunction
MAX_MARKER_LENGTH = 1024  # longer than any marker we issue (item keys are at most 170 chars)
_MARKER_PREFIX = "lambdarig:"

ERROR_VALIDATION = "ValidationException"
MESSAGE_MAX_ITEMS_LOW = (
    "1 validation error detected: Value '{value}' at 'maxItems' failed to satisfy constraint: "
    "Member must have value greater than or equal to {low}"
)
MESSAGE_MAX_ITEMS_HIGH = (
    "1 validation error detected: Value '{value}' at 'maxItems' failed to satisfy constraint: "
    "Member must have value less than or equal to {high}"
)
MESSAGE_MAX_ITEMS_NOT_INTEGER = (  # [inf]
    "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: "
    "Member must be an integer between {low} and {high}"
)
MESSAGE_BAD_MARKER = "Invalid Marker: expected a NextMarker from a previous response"  # [inf]

T = TypeVar("T")
Refusal = tuple[int, str, str]  # (status, error type, message)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the marker of the next one (None on the last page)."""

    items: Sequence[T]
    next_marker: str | None


def paginate(
    items: Sequence[T], keys: Sequence[str], query: Mapping[str, str], cap: int | None = None
) -> Page[T] | Refusal:
    """The page of ``items`` (each known by the matching ``keys`` entry, unique) that ``query``'s
    ``Marker`` and ``MaxItems`` ask for, at most ``cap`` items (None: only ``MaxItems`` bounds
    it); or the service's refusal."""
    size = _max_items(query.get(QUERY_MAX_ITEMS))
    if not isinstance(size, int):
        return size
    if cap is not None:
        size = min(size, cap)
    start = 0
    marker = query.get(QUERY_MARKER)
    if marker:  # an empty Marker is no marker, as boto3 never sends one
        key = _decode(marker)
        if key is None or key not in keys:
            return 400, invoke_api.ERROR_INVALID_PARAMETER_VALUE, MESSAGE_BAD_MARKER
        start = list(keys).index(key)
    end = start + size
    next_marker = encode_marker(keys[end]) if end < len(items) else None
    return Page(items[start:end], next_marker)


def encode_marker(key: str) -> str:
    """The ``NextMarker`` that resumes a list at the item known by ``key``."""
    raw = (_MARKER_PREFIX + key).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode(marker: str) -> str | None:
    if len(marker) > MAX_MARKER_LENGTH or not marker.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(marker.encode("ascii")).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError included
        return None
    if not raw.startswith(_MARKER_PREFIX):
        return None
    return raw[len(_MARKER_PREFIX) :]


def _max_items(value: str | None) -> int | Refusal:
    low, high = MAX_ITEMS_RANGE
    if value is None:
        return PAGE_SIZE
    text = value.strip()
    digits = text[1:] if text[:1] == "-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 10:
        message = MESSAGE_MAX_ITEMS_NOT_INTEGER.format(low=low, high=high)
        return 400, ERROR_VALIDATION, message
    number = int(text)
    if number < low:
        return 400, ERROR_VALIDATION, MESSAGE_MAX_ITEMS_LOW.format(value=number, low=low)
    if number > high:
        return 400, ERROR_VALIDATION, MESSAGE_MAX_ITEMS_HIGH.format(value=number, high=high)
    return number
