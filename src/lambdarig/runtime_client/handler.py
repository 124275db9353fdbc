"""Resolve a Lambda handler string (``"pkg/mod.func"``) to the callable it names.

Semantics and messages follow awslambdaric's ``_get_handler`` (awslambdaric/bootstrap.py): split on
the last ``.``, ``/`` in the module part becomes ``.``, a first component naming a built-in module
is refused, and each failure maps to one :class:`~lambdarig.runtime_client.errors.HandlerLoadError`
subclass. Any other exception raised while importing user code propagates unchanged; the caller
reports it by class name (awslambdaric does the same).
"""

from __future__ import annotations

import importlib
import sys

from lambdarig.runtime_client.errors import (
    BuiltInModuleConflict,
    HandlerModuleNotFound,
    HandlerNotFound,
    HandlerSyntaxError,
    MalformedHandlerName,
)

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from typing import Any, Callable


def load_handler(handler: str) -> Callable[..., Any]:
    """Import the module named by ``handler`` and return its attribute (callability unchecked).

    Blocks while user code imports. Raises :class:`MalformedHandlerName`,
    :class:`BuiltInModuleConflict`, :class:`HandlerModuleNotFound`, :class:`HandlerSyntaxError` or
    :class:`HandlerNotFound`; anything else user code raises at import time propagates as is.
    """
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise MalformedHandlerName(f"Bad handler '{handler}': {exc}") from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise BuiltInModuleConflict(f"Cannot use built-in module {modname} as a handler module")
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise HandlerModuleNotFound(f"Unable to import module '{modname}': {exc}") from exc
    except SyntaxError as exc:
        trace = f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}'
        raise HandlerSyntaxError(
            f"Syntax error in module '{modname}': {exc}", stack_trace=[trace]
        ) from exc
    try:
        return getattr(module, fname)  # type: ignore[no-any-return]
    except AttributeError:
        raise HandlerNotFound(f"Handler '{fname}' missing on module '{modname}'") from None
