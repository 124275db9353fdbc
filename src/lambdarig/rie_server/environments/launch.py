"""What starting and ending one generation of an execution environment takes: the runtime's
variables, the runtime process (spawned, or the one the command line started
before the event loop, adopted), and the end of them all (terminate then kill, or with extensions
the shutdown phase). Functions of what they are given: the ``Environment`` keeps what they return.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

from lambdarig.rie_server import ids
from lambdarig.rie_server.environments.outcomes import EnvironmentSpec
from lambdarig.rie_server.environments.spawn import StartedProcess
from lambdarig.rie_server.environments.supervisor import RuntimeProcess, adopt, spawn_local
from lambdarig.rie_server.runtime.server import RuntimeApiServer
from lambdarig.runtime_api import ENV_INITIALIZATION_TYPE, ENV_RUNTIME_API, INIT_SNAPSTART

if TYPE_CHECKING:
    from lambdarig.rie_server.extensions.host import ExtensionHost, Sandbox
    from lambdarig.rie_server.runtime.credentials import Credentials

_KILL_WAIT_S = 5.0  # how long to wait for a SIGKILLed group to be reaped


def runtime_variables(spec: EnvironmentSpec, server: RuntimeApiServer) -> dict[str, str]:
    """The environment of a new runtime process: the function's, the Runtime API address, and
    the credentials variables (``--enable-init-caching``) or the SnapStart init type."""
    env = dict(spec.env)
    env[ENV_RUNTIME_API] = server.address
    if spec.init_caching:
        env.update(_credentials(spec, server).variables(server.address))
    if spec.snapstart:
        env[ENV_INITIALIZATION_TYPE] = INIT_SNAPSTART
    return env


def _credentials(spec: EnvironmentSpec, server: RuntimeApiServer) -> Credentials:
    """--enable-init-caching: this environment's token, served on its socket."""
    from lambdarig.rie_server.runtime.credentials import Credentials

    if server.credentials is None:
        token = ids.uuid4()
        server.credentials = Credentials.from_environment(token, spec.env)
    return server.credentials


async def start_runtime(
    spec: EnvironmentSpec,
    env: dict[str, str],
    early: StartedProcess | None,
    sandbox: Sandbox | None,
    on_line: Callable[[str], None],
) -> tuple[RuntimeProcess, float | None]:
    """Spawn the runtime, or adopt ``early`` when it is exactly that process (started by the
    command line before the event loop ran: its init then counts from its own start, returned
    with it)."""
    if early is not None:
        if spec.process_factory is None and early.matches(
            spec.command, spec.cwd, env, spec.memory_mb
        ):
            return await adopt(early, on_line), early.started
        early.discard()
    factory = spec.process_factory or spawn_local
    if sandbox is not None:  # the container its extensions run in
        factory = sandbox.spawn_runtime
    return await factory(spec.command, spec.cwd, env, on_line, spec.memory_mb), None


async def end_processes(
    process: RuntimeProcess | None,
    exited: asyncio.Future[int] | None,
    host: ExtensionHost | None,
    grace_s: float,
    reason: str | None,
) -> None:
    """Terminate (then kill) ``process``'s group and its extensions, and wait until it is
    reaped. With registered extensions and a shutdown ``reason``, the shutdown phase replaces
    ``grace_s`` (``extensions.phases.shutdown_phase``)."""
    budget = host.shutdown_budget() if host is not None and reason is not None else None
    if host is not None and (process is None or exited is None):
        await host.kill()
    if process is None or exited is None:
        return
    if host is not None and budget is not None and reason is not None:
        # Only a host with registered extensions gets here: only then is the phase loaded.
        from lambdarig.rie_server.extensions.phases import shutdown_phase

        await shutdown_phase(host, process, exited, reason)
    elif not exited.done() and grace_s > 0:
        process.terminate()
        await asyncio.wait({exited}, timeout=grace_s)
    process.kill()  # also reaches group members that outlived the leader
    await asyncio.wait({exited}, timeout=_KILL_WAIT_S)
    if host is not None:
        await host.kill()
