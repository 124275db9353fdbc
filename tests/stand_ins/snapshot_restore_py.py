"""A stand-in for ``snapshot_restore_py`` (AWS's package, the same API): the hooks a function
registers, in order, with their arguments."""

from __future__ import annotations

from typing import Any, Callable

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

_before: list[Hook] = []
_after: list[Hook] = []


def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    _before.append((func, args, kwargs))
    return func


def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    _after.append((func, args, kwargs))
    return func


def get_before_snapshot() -> list[Hook]:
    return _before


def get_after_restore() -> list[Hook]:
    return _after
