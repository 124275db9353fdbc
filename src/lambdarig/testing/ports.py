"""Whether a harness's listening socket outlived its test, from ``/proc/net`` (Linux): the leak
check blames a port on the harness only while the very socket the emulator listened on is still
open (in a process that escaped its group, say), never because something else took the port.

A port the harness once used can be taken a moment later by anything on the machine (ephemeral
ports are reused; CI runs several test sessions at once), and a probe that connects to a closed
port in the ephemeral range can even connect to itself. So the harness notes the inodes of the
sockets listening on an emulator's port once it is ready, and the check looks for those inodes in
the kernel's table of listening sockets. Where that table cannot be read, it probes the port.
"""

from __future__ import annotations

import socket

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's "st" column
_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def listening_inodes(port: int) -> set[int] | None:
    """The inodes of the sockets listening on ``port`` (any local address); ``None`` where the
    kernel's tables cannot be read (not Linux)."""
    inodes: set[int] = set()
    read_any = False
    for table in _TABLES:
        try:
            with open(table, encoding="ascii", errors="replace") as lines:
                next(lines, None)  # the header
                read_any = True
                for line in lines:
                    fields = line.split()
                    if len(fields) > 9 and fields[3] == _LISTEN:
                        if int(fields[1].rpartition(":")[2], 16) == port:
                            inodes.add(int(fields[9]))
        except OSError:
            continue
    return inodes if read_any else None


def still_listening(port: int, inodes: set[int] | None) -> bool:
    """Whether one of ``inodes`` (noted by ``listening_inodes`` while the emulator ran) still
    listens on ``port``; without them, whether anything accepts a connection on it."""
    if inodes is None:
        return _accepts(port)
    now = listening_inodes(port)
    if now is None:
        return _accepts(port)
    return bool(now & inodes)


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
