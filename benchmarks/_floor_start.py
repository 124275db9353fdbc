"""The start-up floor of an emulator written on asyncio: ``rie_server.py`` runs it as
``python -m _floor_start PORT`` from the function's directory, as lambdarig-rie is run, and times
spawn -> its first answer. It starts the way lambdarig-rie does, and does nothing else: it binds
the port with ``_socket`` before anything else is imported (the kernel queues the caller's
connection), pauses the garbage collector, imports asyncio without ssl, and echoes each request's
body. No emulator code and no runtime: what ``python -m`` and asyncio cost alone.

Requests are framed by Content-Length only: the benchmark's own client sends nothing else."""

from __future__ import annotations

import _socket
import gc
import sys


def bind(port: int) -> _socket.socket:
    """A listening socket on 127.0.0.1:``port``, as lambdarig-rie's early bind opens it."""
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(100)
    return sock


if __name__ == "__main__":  # not when _floor_relay.py imports the framing below
    gc.disable()  # as lambdarig-rie's start (cli.StartUpGc); the floor never turns it back on
    LISTENING = bind(int(sys.argv[1]))  # before asyncio is imported, as lambdarig-rie

if "asyncio" not in sys.modules:  # asyncio without TLS, as lambdarig-rie (fast_start)
    sys.modules["ssl"] = None  # type: ignore[assignment]
    import asyncio

    del sys.modules["ssl"]
import asyncio  # noqa: E402
import socket  # noqa: E402  (loaded by asyncio already)


def framed(buffer: bytearray) -> tuple[bytes, bytes] | None:
    """The first complete request in ``buffer`` as (head, body), removed from it; else None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if len(buffer) < end + 4 + length:
        return None
    body = bytes(buffer[end + 4 : end + 4 + length])
    del buffer[: end + 4 + length]
    return head, body


def ok(body: bytes, status: bytes = b"200 OK") -> bytes:
    """A keep-alive answer with ``body``."""
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body)


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
