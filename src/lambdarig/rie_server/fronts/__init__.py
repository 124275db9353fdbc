"""The HTTP front: API Gateway (REST and HTTP APIs), Function URLs and ALB in front of the emulator.

``HttpFront(RouteTable([Route(...)]), invoke)`` listens and turns each request into the event the
service would send, invokes the route's function through ``invoke(function_name, event_bytes)``
and answers as the service maps the result. The sans-IO parts: ``routing`` (routes, API
Gateway's match precedence), ``events`` (request -> event, on ``lambdarig.events``'s builders),
``responses`` (result or failure -> status, headers, body), ``cors`` (SAM ``Cors`` /
``CorsConfiguration``). ``single.serve`` runs one function behind one front
(``lambdarig serve HANDLER --http KIND``). Importing this package is cheap: modules load on first
use.

``authorizers`` and ``authorizer_cache`` (sans-IO) run a route's Lambda authorizer
(``Route.lambda_authorizer``) through the same invoker before its function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambdarig.rie_server.fronts.cors import CorsConfig
    from lambdarig.rie_server.fronts.routing import Route, RouteTable
    from lambdarig.rie_server.fronts.server import HttpFront, Invoker

__all__ = ["CorsConfig", "HttpFront", "Invoker", "Route", "RouteTable"]

_HOMES = {
    "CorsConfig": "lambdarig.rie_server.fronts.cors",
    "Route": "lambdarig.rie_server.fronts.routing",
    "RouteTable": "lambdarig.rie_server.fronts.routing",
    "HttpFront": "lambdarig.rie_server.fronts.server",
    "Invoker": "lambdarig.rie_server.fronts.server",
}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'lambdarig.rie_server.fronts' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
