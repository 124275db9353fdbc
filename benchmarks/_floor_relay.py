"""The per-invoke floor of an emulator written on asyncio (``rie_server.py`` runs it as
``python _floor_relay.py INVOKE_PORT RUNTIME_API_PORT RUNTIME...``): one runtime, started here,
and each invoke relayed to it and back over keep-alive connections, with the same reads, writes
and loop wake-ups as an emulator, but nothing else: requests framed by Content-Length only, no
validation, no Lambda logic, no logs, no clock. Its CPU per invoke is what Python, asyncio and
the kernel cost alone; an emulator's own work is what it takes above that."""

from __future__ import annotations

import os
import subprocess
import sys

sys.modules["ssl"] = None  # type: ignore[assignment]  # asyncio without TLS, as lambdarig-rie
import asyncio  # noqa: E402

del sys.modules["ssl"]

from _floor_start import framed, ok  # noqa: E402

# The Runtime API's /next answer: the headers every runtime client requires, fixed values.
NEXT_HEAD = (
    "HTTP/1.1 200 OK\r\n"
    "Lambda-Runtime-Aws-Request-Id: {request_id}\r\n"
    "Lambda-Runtime-Deadline-Ms: 32503680000000\r\n"
    "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:012345678912:function:floor\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: {length}\r\n\r\n"
)
ACCEPTED = ok(b'{"status":"OK"}\n').replace(b"200 OK", b"202 Accepted", 1)


class Relay:
    """Invokes waiting for the runtime, the runtime's parked ``/next``, the invoke it runs."""

    def __init__(self) -> None:
        self.queued: list[tuple[asyncio.Transport, bytes]] = []
        self.runtime: asyncio.Transport | None = None  # parked on GET /next
        self.caller: asyncio.Transport | None = None  # whose invoke the runtime runs
        self.count = 0

    def hand_over(self) -> None:
        if self.runtime is None or not self.queued:
            return
        self.caller, event = self.queued.pop(0)
        self.count += 1
        head = NEXT_HEAD.format(request_id=f"floor-{self.count}", length=len(event))
        self.runtime.write(head.encode("ascii") + event)
        self.runtime = None

    def answered(self, body: bytes) -> None:
        caller, self.caller = self.caller, None
        if caller is not None:
            caller.write(ok(body))


RELAY = Relay()


class Framed(asyncio.Protocol):
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


class InvokeSide(Framed):
    def request(self, head: bytes, body: bytes) -> None:
        RELAY.queued.append((self.transport, body))
        RELAY.hand_over()


class RuntimeSide(Framed):
    def request(self, head: bytes, body: bytes) -> None:
        if head.startswith(b"GET "):
            RELAY.runtime = self.transport
            RELAY.hand_over()
        else:  # POST .../response
            self.transport.write(ACCEPTED)
            RELAY.answered(body)


async def serve(invoke_port: int, runtime_port: int, command: list[str]) -> None:
    loop = asyncio.get_running_loop()
    await loop.create_server(RuntimeSide, "127.0.0.1", runtime_port)
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{runtime_port}")
    runtime = subprocess.Popen(command, env=env)
    try:
        server = await loop.create_server(InvokeSide, "127.0.0.1", invoke_port)
        await server.serve_forever()
    finally:
        runtime.kill()
        runtime.wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]))
