"""The per-invoke floor of an emulator written on asyncio: ``rie_server.py`` runs it as
``python _floor_relay.py INVOKE_PORT RUNTIME_API_PORT RUNTIME...`` and times sequential invokes
through it. It starts one runtime and relays each invoke to it and back over keep-alive
connections, with the reads, writes and loop wake-ups of an emulator (per invoke: three of
each), and nothing else: requests framed by Content-Length only, no validation, no Lambda logic,
no logs, no clock. Its CPU per invoke is what Python, asyncio and the kernel cost alone; an
emulator's own work is what it takes above that.

Only the happy path is served: a runtime that reports an error, or exits, ends the relay (exit
status 1, one line on stderr), so the benchmark's caller fails at once instead of timing out."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys

sys.modules["ssl"] = None  # type: ignore[assignment]  # asyncio without TLS, as lambdarig-rie
import asyncio  # noqa: E402

del sys.modules["ssl"]

from _floor_start import Framed  # noqa: E402
from _floor_wire import ACCEPTED, NEXT_HEAD, RESPONSE_SUFFIX, ok  # noqa: E402


class Relay:
    """Invokes waiting for the runtime, the runtime's parked ``/next``, the invoke it runs."""

    def __init__(self, failed: asyncio.Future[str]) -> None:
        self.queued: collections.deque[tuple[asyncio.Transport, bytes]] = collections.deque()
        self.runtime: asyncio.Transport | None = None  # parked on GET /next
        self.caller: asyncio.Transport | None = None  # whose invoke the runtime runs
        self.count = 0
        self.failed = failed  # set with the reason the relay stops

    def hand_over(self) -> None:
        """Give the next queued invoke to the runtime, if it is parked on ``/next``."""
        if self.runtime is None or not self.queued:
            return
        self.caller, event = self.queued.popleft()
        self.count += 1
        head = NEXT_HEAD.format(request_id=f"floor-{self.count}", length=len(event))
        self.runtime.write(head.encode("ascii") + event)
        self.runtime = None

    def answered(self, body: bytes) -> None:
        """The runtime's response: to the caller of the invoke it ran."""
        caller, self.caller = self.caller, None
        if caller is not None:
            caller.write(ok(body))

    def fail(self, reason: str) -> None:
        if not self.failed.done():
            self.failed.set_result(reason)


class RelaySide(Framed):
    """One of the relay's connections (``Framed``: requests passed to ``request``)."""

    def __init__(self, relay: Relay) -> None:
        super().__init__()
        self.relay = relay


class InvokeSide(RelaySide):
    """The caller's connection: each request is an invoke, its body the event."""

    def request(self, head: bytes, body: bytes) -> None:
        self.relay.queued.append((self.transport, body))
        self.relay.hand_over()


class RuntimeSide(RelaySide):
    """The runtime's connection: ``GET /next`` parks it; a ``POST .../response`` is answered
    202 and relayed; anything else (an error report) ends the relay."""

    def request(self, head: bytes, body: bytes) -> None:
        line = head.partition(b"\r\n")[0]
        if line.startswith(b"GET "):
            self.relay.runtime = self.transport
            self.relay.hand_over()
        elif RESPONSE_SUFFIX in line:
            self.transport.write(ACCEPTED)
            self.relay.answered(body)
        else:
            self.relay.fail(f"the runtime sent {line.decode('ascii', 'replace')}: {body[:200]!r}")


async def serve(invoke_port: int, runtime_port: int, command: list[str]) -> str:
    """Relay until SIGTERM (returns "") or a failure (returns its reason)."""
    loop = asyncio.get_running_loop()
    failed: asyncio.Future[str] = loop.create_future()
    relay = Relay(failed)
    loop.add_signal_handler(signal.SIGTERM, relay.fail, "")
    runtime_api = await loop.create_server(lambda: RuntimeSide(relay), "127.0.0.1", runtime_port)
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{runtime_port}")
    runtime = subprocess.Popen(command, env=env)
    exited = loop.run_in_executor(None, runtime.wait)
    exited.add_done_callback(lambda done: relay.fail(f"the runtime exited {done.result()}"))
    invoke_api = await loop.create_server(lambda: InvokeSide(relay), "127.0.0.1", invoke_port)
    try:
        return await failed
    finally:
        invoke_api.close()
        runtime_api.close()
        if runtime.poll() is None:
            runtime.kill()
        await exited


if __name__ == "__main__":
    reason = asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]))
    if reason:
        print(f"_floor_relay.py: {reason}", file=sys.stderr)
    sys.exit(1 if reason else 0)
