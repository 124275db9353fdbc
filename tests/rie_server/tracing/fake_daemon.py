"""A fake X-Ray daemon for tests: a UDP socket on an ephemeral loopback port that collects the
segment documents sent to it (checking each datagram's header line)."""

from __future__ import annotations

import json
import select
import socket
import time
from types import TracebackType
from typing import Any

HEADER = {"format": "json", "version": 1}


class FakeDaemon:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.documents: list[dict[str, Any]] = []

    def receive(self, count: int, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        """Wait until ``count`` documents arrived in all (fail at the deadline); all of them."""
        deadline = time.monotonic() + timeout_s
        while len(self.documents) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"expected {count} segments, got {self.documents!r}"
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                data = self.sock.recv(65536)
                header, newline, body = data.partition(b"\n")
                assert newline and json.loads(header) == HEADER, data[:200]
                self.documents.append(json.loads(body))
        return self.documents

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> FakeDaemon:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def by_origin(documents: list[dict[str, Any]], trace_id: str) -> dict[str, dict[str, Any]]:
    """The documents of trace ``trace_id`` keyed by origin (one of each expected)."""
    found = {doc["origin"]: doc for doc in documents if doc["trace_id"] == trace_id}
    assert len(found) == len([doc for doc in documents if doc["trace_id"] == trace_id])
    return found
