"""What the floors (``_floor_start.py``, ``_floor_relay.py``, ``_floor_first.py``) say on the wire,
with nothing imported but ``_socket``: ``_floor_start`` binds with it before asyncio is loaded and
``_floor_first`` serves without asyncio. Requests are framed by Content-Length only: the
benchmark's own client and lambdarig's runtime client send nothing else."""

from __future__ import annotations

import _socket

# The Runtime API's /next answer: the headers the runtime clients read, with fixed values.
NEXT_HEAD = (
    "HTTP/1.1 200 OK\r\n"
    "Lambda-Runtime-Aws-Request-Id: {request_id}\r\n"
    "Lambda-Runtime-Deadline-Ms: 32503680000000\r\n"
    "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:012345678912:function:floor\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: {length}\r\n\r\n"
)
RESPONSE_SUFFIX = b"/response "  # POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1


def bind(port: int) -> _socket.socket:
    """A listening socket on 127.0.0.1:``port``, as lambdarig-rie's early bind opens it."""
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(100)
    return sock


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


ACCEPTED = ok(b'{"status":"OK"}\n', b"202 Accepted")
