"""``testing.ports``: a port is blamed on the harness only while the socket its emulator listened
on is still open; not when another program took the port since, nor when nothing listens."""

from __future__ import annotations

import socket

from lambdarig.testing.ports import listening_inodes, still_listening


def test_the_noted_socket_still_listening_is_a_leak() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
        noted = listening_inodes(port)
        assert noted is not None and len(noted) == 1
        assert still_listening(port, noted)


def test_another_socket_on_the_port_since_is_not_a_leak() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
        noted = listening_inodes(port)
    assert noted is not None and not still_listening(port, noted)  # closed: nothing listens
    with socket.create_server(("127.0.0.1", port)) as newcomer:  # the port taken again
        assert newcomer.getsockname()[1] == port
        assert listening_inodes(port) not in (None, set(), noted)
        assert not still_listening(port, noted)  # someone else's socket: not the harness's
        assert still_listening(port, None)  # without a note, any listener counts


def test_an_ipv6_listener_is_noted_too() -> None:
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as sock:
        noted = listening_inodes(sock.getsockname()[1])
        assert noted is not None and len(noted) == 1
