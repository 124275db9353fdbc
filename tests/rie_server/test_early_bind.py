"""The Invoke API socket bound before the command line is read in full: the address it finds is
the full parse's, nothing heavy is imported before it, and it never outlives a bad command line."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lambdarig.rie_server import cli, early_bind, fast_start
from lambdarig.rie_server.arguments import parse_args
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.errors import ConfigError
from lambdarig.testing.process import free_port
from tests.rie_server.test_fast_start import CONFIG

SRC = str(Path(__file__).resolve().parents[2] / "src")
FLAG = "--runtime-interface-emulator-address"
CMD = ["python", "-m", "awslambdaric", "app.handler"]


@pytest.mark.parametrize(
    "argv",
    [
        [],
        CMD,
        [FLAG, "127.0.0.1:9000", *CMD],
        [f"{FLAG}=127.0.0.1:9000", *CMD],
        [*CMD, FLAG, "0.0.0.0:9000"],  # aws-lambda-rie's flags also follow the command
        [*CMD, f"{FLAG}=0.0.0.0:9000"],
        [FLAG, "127.0.0.1:1", *CMD, FLAG, "127.0.0.1:2"],  # the later one wins
        [FLAG, "127.0.0.1:1", FLAG, "127.0.0.1:2", *CMD],
        ["--log-level", "debug", FLAG, "[::1]:0", "--max-concurrency", "3", *CMD],
        ["--timeout", "3", *CMD, "--timeout", "9"],
        ["--", *CMD, FLAG, "127.0.0.1:1"],  # after '--': the command's own words
        [*CMD, "--", FLAG, "127.0.0.1:1"],
        [FLAG, "localhost:9000", *CMD],
        # Where a scan and argparse could part: '-h' as a runtime's word, '--' as a value, an
        # empty '--flag=', a value that looks like an option.
        [*CMD, "-h", FLAG, "127.0.0.1:5"],
        ["--layer", "--", FLAG, "127.0.0.1:6", *CMD],
        [f"{FLAG}=", *CMD],
        [FLAG, "-1:2", *CMD],
        [f"{FLAG}=-1:2", *CMD],
        ["--timeout", "-3", FLAG, "127.0.0.1:7", *CMD],
    ],
)
def test_the_address_found_early_is_the_one_the_full_parse_finds(argv: list[str]) -> None:
    found = early_bind.invoke_address(argv)
    try:
        wanted = parse_args(argv).runtime_interface_emulator_address
    except ConfigError:
        return  # refused: whatever was bound early is closed (test_a_bad_command_line_...)
    assert found == wanted or (found is None and "-h" in argv)


def test_the_address_found_early_agrees_with_the_full_parse_on_mixed_command_lines() -> None:
    # Seeded: command lines made of our flags, aws-lambda-rie's, the address flag in both forms,
    # '--' and the runtime's words, in any order. Wherever the full parse accepts one, the early
    # answer is its address, or none: always when help is asked for, and it may also give none
    # where a runtime's own word is '--help' (no early bind then: slower, never wrong).
    rng = random.Random(9)
    words = [
        [FLAG, "127.0.0.1:1"],
        [f"{FLAG}=127.0.0.1:2"],
        [FLAG, "[::1]:3"],
        ["--runtime-api-address", "127.0.0.1:4"],
        ["--log-level", "debug"],
        ["--enable-init-caching"],
        ["--timeout", "3"],
        ["--layer", "/tmp/layer"],
        ["--lazy-init"],
        ["--"],
        ["python"],
        ["app.handler"],
        ["-m"],
        ["--help"],
    ]
    checked = 0
    for _ in range(600):
        argv = [word for _ in range(rng.randint(0, 7)) for word in rng.choice(words)]
        try:
            wanted: str | None = parse_args(argv).runtime_interface_emulator_address
        except ConfigError:
            continue  # refused: an early socket is closed
        except SystemExit:
            wanted = None  # --help: printed, nothing bound
        found = early_bind.invoke_address(argv)
        assert found == wanted or (found is None and "--help" in argv), argv
        checked += found is not None
    assert checked > 200


@pytest.mark.parametrize("argv", [["--help"], ["-h", *CMD], [*CMD, FLAG], [FLAG, "--help"]])
def test_nothing_is_found_for_help_or_a_flag_without_a_value(argv: list[str]) -> None:
    assert early_bind.invoke_address(argv) is None


@pytest.mark.parametrize(
    "value", ["localhost:0", "nonsense", "127.0.0.1:70000", "127.0.0.1:", "127.0.0.1:\u00b2"]
)
def test_names_and_bad_values_are_left_to_the_full_parse(value: str) -> None:
    assert early_bind.listen_early([FLAG, value, *CMD]) is None


def test_a_taken_address_is_left_to_the_full_parse_to_report() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert early_bind.listen_early([FLAG, f"127.0.0.1:{port}"]) is None
        with pytest.raises(OSError, match="error while attempting to bind on address"):
            early_bind.listen("127.0.0.1", port)  # asyncio's words, as the full parse reports
    assert early_bind.listen("localhost", 0) is None  # names are left to asyncio


def test_the_early_socket_is_handed_over_only_for_its_own_address() -> None:
    early = early_bind.listen_early([FLAG, "127.0.0.1:0"])
    assert early is not None and early._sock is not None
    fd = early._sock.fileno()
    sock = early.take("127.0.0.1", 0)
    assert isinstance(sock, socket.socket) and sock.fileno() == fd  # the same, as socket.socket
    assert sock.getsockname()[0] == "127.0.0.1" and sock.getblocking() is False
    assert early.take("127.0.0.1", 0) is None  # taken once
    sock.close()
    other = early_bind.listen_early([FLAG, "127.0.0.1:0"])
    assert other is not None and other._sock is not None
    held = other._sock
    assert other.take("0.0.0.0", 0) is None
    assert held.fileno() == -1  # closed, not left listening


def _config(port: int) -> EmulatorConfig:
    # lazy_init: no runtime started, only the Invoke API socket matters here
    return dataclasses.replace(CONFIG, invoke_port=port, lazy_init=True)


def test_prestart_serves_the_early_socket_when_the_configuration_names_its_address() -> None:
    early = early_bind.listen_early([FLAG, "127.0.0.1:0"])
    assert early is not None and early._sock is not None
    fd = early._sock.fileno()
    prestarted = fast_start.prestart(_config(0), early)
    try:
        assert prestarted.invoke_sock is not None and prestarted.invoke_sock.fileno() == fd
    finally:
        prestarted.discard()


def test_prestart_closes_an_early_socket_for_another_address_and_binds_its_own() -> None:
    early = early_bind.listen_early([FLAG, "127.0.0.1:0"])
    assert early is not None and early._sock is not None
    held = early._sock
    port = free_port()
    prestarted = fast_start.prestart(_config(port), early)
    try:
        assert held.fileno() == -1
        assert prestarted.invoke_sock is not None
        assert prestarted.invoke_sock.getsockname()[1] == port
    finally:
        prestarted.discard()


def test_a_bad_command_line_leaves_nothing_listening(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert cli.main([FLAG, f"127.0.0.1:{port}", "--no-such-flag", *CMD]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("lambdarig-rie: error: ")
    socket.create_server(("127.0.0.1", port)).close()  # free again: nobody holds it


def test_help_binds_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    with pytest.raises(SystemExit) as exited:
        cli.main([FLAG, f"127.0.0.1:{port}", "--help"])
    assert exited.value.code == 0
    assert "usage: lambdarig-rie" in capsys.readouterr().out
    socket.create_server(("127.0.0.1", port)).close()


def test_the_socket_listens_before_the_command_line_is_read_in_full() -> None:
    # In a fresh interpreter, as ``lambdarig-rie`` starts: what is loaded when the bind happens.
    script = """
import sys
startup = sorted(sys.modules)  # what the interpreter loaded itself (a virtualenv's .pth...)
from lambdarig.rie_server import early_bind
bind = early_bind.bind_listening
seen = []
def bind_listening(host, port):
    seen.append(sorted(sys.modules))
    return bind(host, port)
early_bind.bind_listening = bind_listening
from lambdarig.rie_server import cli
status = cli.main(["--runtime-interface-emulator-address", "127.0.0.1:0", "--no-such-flag"])
import json
print(json.dumps([status, seen[0] if seen else None, startup]))
"""
    env = dict(os.environ, PYTHONPATH=SRC)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    status, at_bind, startup = json.loads(out.stdout.splitlines()[-1])
    assert status == 2 and at_bind is not None  # bound, then refused the flag
    loaded = set(at_bind) - set(startup)  # what lambdarig's own imports loaded before the bind
    heavy = {"argparse", "dataclasses", "typing", "inspect", "ast", "asyncio", "subprocess"}
    heavy |= {"socket", "selectors", "enum"}  # _socket binds: socket's imports cost more
    assert heavy.isdisjoint(loaded), heavy & loaded
    assert "lambdarig.rie_server.config" not in loaded
