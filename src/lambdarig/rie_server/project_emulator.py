"""A project's functions behind one Invoke API: a ``FunctionHost`` per function (its own
environments, concurrency limit, artifacts and logs), the Invoke API across them (by name,
logical id or ARN, with ``$LATEST``, the published version or the alias as qualifier) and the
read-only control plane (``invoke.control``).

Lifecycle as ``Emulator``: ``start()`` starts every host (concurrently), then binds the Invoke API;
``stop()`` closes the listener, then stops every host. ``stop()`` is idempotent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from lambdarig import invoke_api as api
from lambdarig.rie_server import ids
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.environments.environment import InvokeOutcome
from lambdarig.rie_server.errors import EmulatorError
from lambdarig.rie_server.functions import FunctionHost, new_trace_id
from lambdarig.rie_server.http.streams import ReplyStream
from lambdarig.rie_server.invoke import control
from lambdarig.rie_server.invoke import protocol as proto
from lambdarig.rie_server.invoke.names import (
    FunctionIdentity,
    Resolved,
    is_stream_path,
    resolve_among,
)
from lambdarig.rie_server.invoke.server import InvokeApiServer


class UnknownFunction(EmulatorError):
    """The HTTP front named a function the project does not have."""


@dataclass(frozen=True)
class HostedFunction:
    """One function of the project: how to run it and what the control plane says of it.
    ``config.function`` is its identity (with its logical id and qualifiers)."""

    config: EmulatorConfig
    record: control.FunctionRecord
    logical_id: str


class ProjectEmulator:
    """Serves ``functions`` on ``host:port`` (0 = ephemeral). Output lines are prefixed by the
    function's name when there is more than one function."""

    def __init__(
        self,
        functions: Sequence[HostedFunction],
        host: str,
        port: int,
        *,
        output: TextIO | None = None,
    ) -> None:
        if not functions:
            raise ValueError("expected at least one function, got none")
        self.functions = tuple(functions)
        several = len(functions) > 1
        self.hosts = [
            FunctionHost(
                function.config,
                output=output,
                label=function.config.function.name if several else None,
            )
            for function in functions
        ]
        self._identities = tuple(function.config.function for function in functions)
        self._records = [function.record for function in functions]
        self._by_name: dict[str, FunctionHost] = {}
        for function, function_host in zip(functions, self.hosts):
            self._by_name.setdefault(function.logical_id, function_host)
            self._by_name.setdefault(function.config.function.name, function_host)
        self._host = host
        self._server = InvokeApiServer(self.dispatch, host, port)

    @property
    def invoke_url(self) -> str:
        return f"http://{self._host}:{self._server.port}"

    @property
    def identities(self) -> tuple[FunctionIdentity, ...]:
        return self._identities

    def host_for(self, name: str) -> FunctionHost:
        """The host of the function whose logical id or name is ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownFunction(f"expected a function of the project, got {name!r}") from None

    async def start(self) -> None:
        """Start every function, then listen. Raises as ``Emulator.start``; stops on failure."""
        try:
            await asyncio.gather(*(function_host.start() for function_host in self.hosts))
            await self._server.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self, grace_s: float = 2.0) -> None:
        for function_host in self.hosts:
            function_host.cancel_layouts()
        await self._server.stop()
        await asyncio.gather(*(function_host.stop(grace_s) for function_host in self.hosts))

    async def dispatch(self, raw: proto.RawRequest) -> proto.HttpResponse | ReplyStream:
        """Answer one Invoke API or control-plane request."""
        request_id = ids.uuid4()
        answer = control.answer(raw, self._records, request_id)
        if answer is not None:
            return answer
        qualifier = raw.query.get(api.QUERY_QUALIFIER)
        found = resolve_among(raw.method, raw.path, qualifier, self._identities)
        if not isinstance(found, Resolved):
            return proto.service_error(*found, request_id)
        function_host = self.hosts[found.index]
        identity = self._identities[found.index]
        call = proto.parse_invoke(
            raw, identity, proto.CompatMode.SERVICE, request_id, new_trace_id(), found.arn
        )
        if isinstance(call, proto.HttpResponse):
            return call
        return await function_host.run(call, streamed=is_stream_path(raw.path))

    async def invoke(self, function: str, payload: bytes) -> InvokeOutcome:
        """The HTTP front's invoker: one synchronous invocation of ``function`` (logical id or
        name). Raises ``Throttled``, ``UnknownFunction``, ``EmulatorError``/``OSError``."""
        return await self.host_for(function).invoke(payload)
