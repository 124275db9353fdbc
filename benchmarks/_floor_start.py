"""The start-up floor of an emulator written on asyncio (``rie_server.py`` runs it as
``python -m _floor_start PORT`` from the function's directory, as lambdarig-rie is run): import
asyncio without ssl, as lambdarig-rie does, and echo each request's body on 127.0.0.1:PORT. No
emulator code and no runtime: spawn -> its first answer is what Python and asyncio cost alone.
Requests are framed by Content-Length only (the benchmark's own client sends nothing else)."""

from __future__ import annotations

import sys

sys.modules["ssl"] = None  # type: ignore[assignment]  # asyncio without TLS, as lambdarig-rie
import asyncio  # noqa: E402

del sys.modules["ssl"]


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


def ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


class Echo(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (request := framed(self.buffer)) is not None:
            self.transport.write(ok(request[1]))


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", port)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
