"""API Gateway's authorizer cache (sans-IO): an authorizer's answer kept per identity for its
``ReauthorizeEvery`` seconds.

The key is the authorizer and its identity source values (a TOKEN authorizer: the token), so one
answer serves every route of the API that uses the authorizer; a cached IAM policy is applied to
each later request's own ARN (a policy naming one resource then denies the others)
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html,
"Caching authorizer responses"). The caller passes ``now`` (a monotonic clock) so tests need no
sleep. The number of entries is bounded: callers choose identities, so the oldest entry goes
when the cache is full.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

#: Entries kept at most (each distinct token a caller sends is one entry).
MAX_ENTRIES = 10_000

T = TypeVar("T")


class AuthorizerCache(Generic[T]):
    """``get(key, now)`` -> the answer stored less than its TTL ago, or None."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._max = max_entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, now: float) -> T | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if now >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: Hashable, value: T, ttl_s: float, now: float) -> None:
        """Keep ``value`` for ``ttl_s`` seconds (0 or less: not kept)."""
        if ttl_s <= 0:
            return
        self._entries.pop(key, None)
        self._entries[key] = (now + ttl_s, value)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
