"""The Invoke API's socket, bound first: before the command line is read in full.

Spawn -> listening is what every pytest fixture, ``--watch`` reload and CI job waits for, and
reading the command line in full needs argparse, dataclasses (with inspect and ast) and typing:
tens of milliseconds. So ``listen_early`` finds the Invoke API address in argv by the same rules
as the full parse and binds it with ``_socket``, the C module under ``socket`` (``import socket``
alone, with ``selectors``, ``enum`` and ``collections``, costs more than the rest of the early
start); the kernel queues a caller's connection until the emulator serves it, and whoever takes
the socket gets a ``socket.socket`` of the same file descriptor.

The full parse decides. ``fast_start.prestart`` serves this socket only if the configuration
names exactly the address it was bound to; otherwise it is closed before anything else binds.
There is no early bind when ``-h``/``--help`` appears before a ``--`` (even as a runtime's own
word), for a value that is not ``HOST:PORT`` with a numeric host, or when the bind fails (the
full parse then binds again and reports the failure, as before). A command line that turns out
to be wrong has held the port for the time it took to read it, and answered nobody.

Pure apart from the bind: argv comes in as a list (``cli`` reads it).
"""

from __future__ import annotations

import _socket

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (nor socket) here
if TYPE_CHECKING:
    import socket

INVOKE_ADDRESS_FLAG = "--runtime-interface-emulator-address"
DEFAULT_INVOKE_ADDRESS = "0.0.0.0:8080"
END_OF_OPTIONS = "--"
HELP_FLAGS = ("-h", "--help")
BACKLOG = 100  # as asyncio's create_server


class EarlySocket:
    """A listening socket bound to ``host:port`` as given on the command line (``port`` 0: an
    ephemeral one). Whoever serves it takes it with ``take``; ``close`` closes it otherwise."""

    def __init__(self, host: str, port: int, sock: _socket.socket) -> None:
        self.host = host
        self.port = port
        self._sock: _socket.socket | None = sock

    def take(self, host: str, port: int) -> socket.socket | None:
        """The socket, if it was bound to exactly ``host:port``; else it is closed: ``None``."""
        sock, self._sock = self._sock, None
        if sock is None:
            return None
        if (host, port) != (self.host, self.port):
            sock.close()
            return None
        return _adopt(sock)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


def split_address(value: str) -> tuple[str, int] | None:
    """``HOST:PORT`` -> (host without IPv6 brackets, port); ``None`` when it is not that, with
    PORT in 0-65535 (``config.parse_address`` reports it then)."""
    host, sep, port_text = value.rpartition(":")
    digits = port_text.isascii() and port_text.isdigit()  # not "²": int() refuses it
    if not sep or not host or not digits or int(port_text) > 65535:
        return None
    return host.strip("[]"), int(port_text)


def invoke_address(argv: list[str]) -> str | None:
    """The Invoke API address the full parse will find in ``argv`` (``arguments.parse_args``):
    the last ``--runtime-interface-emulator-address`` value, as ``--flag VALUE`` or ``--flag=VALUE``
    (aws-lambda-rie's flags are read before and after the runtime's command), up to the first
    ``--``; the default without one. ``None`` when there is no answer worth binding for: help
    asked for (or a ``-h``/``--help`` among the runtime's own words: no early bind then, which
    costs only speed), or the flag without a value."""
    words = argv[: argv.index(END_OF_OPTIONS)] if END_OF_OPTIONS in argv else argv
    if any(word in HELP_FLAGS for word in words):
        return None
    found = DEFAULT_INVOKE_ADDRESS
    index = 0
    while index < len(words):
        name, has_value, value = words[index].partition("=")
        index += 1
        if name != INVOKE_ADDRESS_FLAG:
            continue
        if not has_value:
            if index == len(words):
                return None
            value = words[index]
            index += 1
        found = value
    return found


def bind_listening(host: str, port: int) -> _socket.socket | None:
    """A listening, non-blocking socket on ``host:port`` as asyncio's ``create_server`` opens it
    (``SO_REUSEADDR``, IPv6 only for an IPv6 address); ``None`` for a host name, which asyncio
    resolves itself (maybe to several addresses). Raises ``OSError`` as asyncio words it."""
    family = _socket.AF_INET6 if ":" in host else _socket.AF_INET
    try:
        _socket.inet_pton(family, host)
    except OSError:
        return None
    sock = _socket.socket(family, _socket.SOCK_STREAM)
    try:
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        if family == _socket.AF_INET6:
            sock.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            message = f"error while attempting to bind on address {(host, port)!r}: "
            raise OSError(exc.errno, message + str(exc.strerror).lower()) from None
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def listen(host: str, port: int) -> socket.socket | None:
    """``bind_listening`` as a ``socket.socket`` (imports ``socket``)."""
    sock = bind_listening(host, port)
    return _adopt(sock) if sock is not None else None


def _adopt(sock: _socket.socket) -> socket.socket:
    """The ``socket.socket`` of ``sock``'s file descriptor (``sock`` lets go of it)."""
    import socket

    adopted = socket.socket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    adopted.setblocking(False)  # as it was: the new object would take the fd for blocking
    return adopted


def listen_early(argv: list[str]) -> EarlySocket | None:
    """Bind the Invoke API address ``argv`` names (``invoke_address``), or ``None``: see the
    module's docstring for when it does not."""
    value = invoke_address(argv)
    address = split_address(value) if value is not None else None
    if address is None:
        return None
    host, port = address
    try:
        sock = bind_listening(host, port)
    except OSError:
        return None  # the full parse binds again and reports it
    return EarlySocket(host, port, sock) if sock is not None else None
