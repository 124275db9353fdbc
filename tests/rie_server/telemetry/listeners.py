"""Listeners we own for delivery tests: an asyncio HTTP server that records every POSTed batch
(and can refuse with a status), and a TCP server that records NDJSON lines."""

from __future__ import annotations

import asyncio
import json
from typing import Any


class HttpListener:
    """Records ``(method, path, headers, batch)`` per request; answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.attempts = 0  # requests answered, whatever the status
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for *_, batch in self.requests for event in batch]

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            lines = head.decode().split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = dict(line.split(": ", 1) for line in lines[1:] if line)
            body = await asyncio.wait_for(reader.readexactly(int(headers["Content-Length"])), 5)
            self.attempts += 1
            if self.status == 200:
                self.requests.append((method, path, headers, json.loads(body)))
            writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()


class TcpListener:
    """Records each received line (parsed JSON) and the number of connections."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.connections = 0
        self._server: asyncio.AbstractServer | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._writers:
                writer.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        while True:
            line = await reader.readline()
            if not line:
                break
            self.lines.append(json.loads(line))
        writer.close()
