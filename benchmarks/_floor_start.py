"""The start-up floor of an emulator written on asyncio: ``rie_server.py`` runs it as
``python -m _floor_start PORT`` from the function's directory, as lambdarig-rie is run, and times
spawn -> its first answer. It starts the way lambdarig-rie does, and does nothing else: it binds
the port with ``_socket`` before anything else is imported (``_floor_wire``, copied beside it,
imports nothing more; the kernel queues the caller's connection), pauses the garbage collector,
imports asyncio without ssl, and echoes each request's body. No emulator code and no runtime:
what ``python -m`` and asyncio cost alone.

Requests are framed by Content-Length only: the benchmark's own client sends nothing else."""

from __future__ import annotations

import _socket
import gc
import sys

from _floor_wire import bind, framed, ok

if __name__ == "__main__":  # not when _floor_relay.py imports Framed below
    gc.disable()  # as lambdarig-rie's start (cli.StartUpGc); the floor never turns it back on
    LISTENING = bind(int(sys.argv[1]))  # before asyncio is imported, as lambdarig-rie

if "asyncio" not in sys.modules:  # asyncio without TLS, as lambdarig-rie (fast_start)
    sys.modules["ssl"] = None  # type: ignore[assignment]
    import asyncio

    del sys.modules["ssl"]
import asyncio  # noqa: E402
import socket  # noqa: E402  (loaded by asyncio already)


class Framed(asyncio.Protocol):
    """A connection whose requests are framed by Content-Length and passed to ``request``."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (request := framed(self.buffer)) is not None:
            self.request(*request)

    def request(self, head: bytes, body: bytes) -> None:
        raise NotImplementedError


class Echo(Framed):
    """Answers each request with its own body."""

    def request(self, head: bytes, body: bytes) -> None:
        self.transport.write(ok(body))


async def serve(listening: _socket.socket) -> None:
    """Serve ``listening`` until killed."""
    sock = socket.socket(fileno=listening.detach())
    server = await asyncio.get_running_loop().create_server(Echo, sock=sock)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(LISTENING))
