"""Raw HTTP/1.1 exchanges with a front, for what a client library hides (bytes after a head)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit


def raw_exchange(url: str, request: bytes) -> bytes:
    """``request`` on a new connection; everything the front sends until it closes (bounded by
    the socket's timeout)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    received = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk


def dechunked(body: bytes) -> bytes:
    """A complete chunked body's data (its last chunk required)."""
    data = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert body == b"\r\n", body
            return data
        data, body = data + body[:size], body[size + 2 :]
