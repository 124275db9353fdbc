"""The first-invoke floor of an emulator that answers its first invoke before it imports asyncio:
``rie_server.py`` runs it as ``python -m _floor_first PORT HANDLER [--configured]`` from the
function's directory (where it copies this file and ``_floor_wire.py``, as lambdarig-rie is run
with ``-m``: from cached bytecode) and times spawn -> first invoke answered, taking turns with the
stacks' start-ups.

It binds the port as lambdarig-rie's early bind does, spawns lambdarig's runtime client with
lambdarig-rie's own spawn (``environments.spawn.start_process``, the on-demand initialization type
set), and relays the first invoke to it with blocking sockets and ``select``: no asyncio, no
validation, no Lambda logic, no logs. With ``--configured`` it reads lambdarig-rie's
configuration from the equivalent command line before the spawn, as lambdarig-rie does (and
spawns with its memory size); without, it spawns as soon as the port listens.

Only the first invoke, and only its happy path: a runtime that exits, or posts anything but a
response, ends it at once (exit status 1, one line on stderr), and so does a wait over 30 s. Once
the invoke is answered it idles until SIGTERM, which ends its runtime (and removes its cgroup)."""

from __future__ import annotations

import os
import select
import sys

from _floor_wire import ACCEPTED, NEXT_HEAD, RESPONSE_SUFFIX, bind, framed, ok

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (as lambdarig-rie's cli)
if TYPE_CHECKING:
    import _socket

    from lambdarig.rie_server.environments.spawn import StartedProcess

WAIT_S = 30.0
DEFAULT_MEMORY_MB = 3008  # lambdarig-rie's, without --memory (not imported: the config would load)


def runtime_env(
    port: int, handler: str, runtime_api: str, configured: bool
) -> tuple[dict[str, str], int]:
    """The runtime's environment and memory size: lambdarig-rie's, read from its command line,
    or the minimum lambdarig's runtime client needs (and lambdarig-rie's default size)."""
    from lambdarig.runtime_api import ENV_INITIALIZATION_TYPE, ENV_RUNTIME_API, INIT_ON_DEMAND

    if not configured:
        env = dict(os.environ, _HANDLER=handler)
        memory_mb = DEFAULT_MEMORY_MB
    else:
        from lambdarig.rie_server.config import EmulatorConfig

        argv = ["--runtime-interface-emulator-address", f"127.0.0.1:{port}"]
        argv += [sys.executable, "-m", "lambdarig.runtime_client", handler]
        config = EmulatorConfig.from_environ_and_args(os.environ, argv)
        env, memory_mb = dict(config.runtime_env), config.memory_mb
    env[ENV_RUNTIME_API] = runtime_api
    env[ENV_INITIALIZATION_TYPE] = INIT_ON_DEMAND  # as fast_start's first runtime
    return env, memory_mb


def main(port: int, handler: str, configured: bool) -> str:
    """Serve the first invoke; the reason it failed, or "" once answered."""
    invoke_api = bind(port)
    runtime_api = bind(0)
    address = f"127.0.0.1:{runtime_api.getsockname()[1]}"
    env, memory_mb = runtime_env(port, handler, address, configured)
    from lambdarig.rie_server.environments.spawn import start_process

    command = [sys.executable, "-m", "lambdarig.runtime_client", handler]
    process = start_process(command, os.getcwd(), env, memory_mb)
    import signal  # loaded by the spawn already

    def stop(*_: object) -> None:
        process.discard()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    reason = relay(process, invoke_api, runtime_api)
    if reason:
        process.discard()
    return reason


def relay(process: StartedProcess, invoke_api: _socket.socket, runtime_api: _socket.socket) -> str:
    """Relay the first invoke to ``process``; the reason it failed, or "" once answered."""
    outputs = (process.stdout_fd, process.stderr_fd)
    listeners = {invoke_api.fileno(): invoke_api, runtime_api.fileno(): runtime_api}
    buffers: dict[int, bytearray] = {}  # accepted connections, by descriptor
    invoke: tuple[int, bytes] | None = None  # (caller, event)
    parked: int | None = None  # the runtime's connection, on GET /next
    while True:
        ready, _, _ = select.select([*listeners, *buffers, *outputs], [], [], WAIT_S)
        if not ready:
            return f"nothing arrived in {WAIT_S:.0f} s"
        for fd in ready:
            if fd in listeners:
                buffers[listeners[fd]._accept()[0]] = bytearray()  # type: ignore[attr-defined]
                continue
            data = os.read(fd, 65536)
            if fd in outputs:
                if not data:  # its output closed: it exited (or is about to)
                    return f"the runtime exited ({process.popen.poll()})"
                continue  # the function's output: read, not shown
            if not data:  # a probe that only connected (or a client that left): dropped
                if fd == parked or (invoke is not None and fd == invoke[0]):
                    return "a connection closed before the invoke was answered"
                os.close(fd)
                del buffers[fd]
                continue
            buffers[fd] += data
            request = framed(buffers[fd])
            if request is None:
                continue
            head, body = request
            line = head.partition(b"\r\n")[0]
            if fd == parked and invoke is not None and RESPONSE_SUFFIX in line:
                send_all(fd, ACCEPTED)
                send_all(invoke[0], ok(body))
                return ""
            if parked is None and line.startswith(b"GET "):
                parked = fd
            elif invoke is None and line.startswith(b"POST "):
                invoke = (fd, body)
            else:
                return f"unexpected request {line.decode('ascii', 'replace')}: {body[:200]!r}"
            if parked is not None and invoke is not None:  # the first invoke, to the runtime
                next_head = NEXT_HEAD.format(request_id="floor-1", length=len(invoke[1]))
                send_all(parked, next_head.encode("ascii") + invoke[1])


def send_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


if __name__ == "__main__":
    reason = main(int(sys.argv[1]), sys.argv[2], "--configured" in sys.argv[3:])
    if reason:
        print(f"_floor_first.py: {reason}", file=sys.stderr)
        sys.exit(1)
    while True:  # answered: idle until stopped
        select.select([], [], [])
