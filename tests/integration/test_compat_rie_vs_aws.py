"""``--compat rie`` answers byte for byte like AWS's aws-lambda-rie (both serving awslambdaric)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import rie_race
from tests.integration.conftest import HANDLERS, LOCAL, runtime_argv
from tests.rie_server.emulator_process import emulator

pytestmark = pytest.mark.peers

UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PATH = "/2015-03-31/functions/{}/invocations"
CASES = [
    ("function", b'{"action": "echo", "n": 1}'),
    ("function", b'{"action": "error"}'),
    ("function", b'{"action": "sleep", "seconds": 3}'),
    ("function", b'{"action": "crash", "code": 2}'),
    ("function", b'{"action": "big", "size": 7340032}'),
    ("other-name", b"{}"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def aws_rie(binary: Path, runtime: list[str], handler: str) -> Iterator[str]:
    """AWS's emulator on a free port; yields its base URL once it answers HTTP."""
    port, api_port = free_port(), free_port()
    argv = [
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{port}",
        "--runtime-api-address",
        f"127.0.0.1:{api_port}",
        *runtime,
        handler,
    ]
    with aws_rie_argv(binary, argv, port) as url:
        yield url


@contextlib.contextmanager
def aws_rie_argv(binary: Path, args: list[str], port: int) -> Iterator[str]:
    """AWS's emulator run with ``args``, which make it listen on ``port``; yields its base URL
    once it answers HTTP."""
    argv = [str(binary), *args]
    env = {**os.environ, "AWS_LAMBDA_FUNCTION_TIMEOUT": "1"}
    process = subprocess.Popen(
        argv,
        cwd=HANDLERS,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "aws-lambda-rie exited at start"
                assert time.monotonic() < deadline, "aws-lambda-rie never answered"
                time.sleep(0.02)  # between probes
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def answers(
    url: str, cases: list[tuple[str, bytes]], aws: bool = False
) -> list[tuple[int, str | None, bytes]]:
    """Each case's status, content type and body (ids masked). With ``aws``, an invoke that
    aws-lambda-rie lost to its own reset race (:mod:`tests.rie_race`) is sent again."""
    got = []
    for name, body in cases:

        def post(name: str = name, body: bytes = body) -> httpx.Response:
            return httpx.post(url + PATH.format(name), content=body, timeout=30)

        response = (
            rie_race.send(post, lambda sent: (sent.status_code, sent.content)) if aws else post()
        )
        normalised = UUID.sub(b"<id>", response.content)
        got.append((response.status_code, response.headers.get("Content-Type"), normalised))
    return got


def test_invoke_answers_match_aws_lambda_rie(rie_binary: Path, tmp_path: Path) -> None:
    runtime = runtime_argv("awslambdaric")
    with aws_rie(rie_binary, runtime, "app.handler") as url:
        theirs = answers(url, CASES, aws=True)
    argv = [*LOCAL, "--compat", "rie", "--timeout", "1", *runtime, "app.handler"]
    with emulator(argv, tmp_path, cwd=HANDLERS) as running:
        ours = answers(running.url, CASES)
    assert ours == theirs


def test_init_error_answer_matches_aws_lambda_rie(rie_binary: Path, tmp_path: Path) -> None:
    runtime = runtime_argv("awslambdaric")
    case = [("function", b"{}")]
    with aws_rie(rie_binary, runtime, "nosuchmodule.handler") as url:
        theirs = answers(url, case, aws=True)
    argv = [*LOCAL, "--compat", "rie", *runtime, "nosuchmodule.handler"]
    with emulator(argv, tmp_path, cwd=HANDLERS) as running:
        ours = answers(running.url, case)
    assert ours == theirs


def test_flags_anywhere_in_argv_are_split_off_as_aws_lambda_rie_does(
    rie_binary: Path, tmp_path: Path
) -> None:
    """aws-lambda-rie's flags between and after the command's words (both forms) are the
    emulator's; every other word reaches the runtime, in order (the handler sees its argv)."""

    def argv(address: str, api_address: str) -> list[str]:
        return [
            *runtime_argv("awslambdaric"),
            "app.handler",
            "--runtime-interface-emulator-address",
            address,
            "--keep=1",
            "-x",
            f"--runtime-api-address={api_address}",
            "--log-level",
            "error",
            "last",
        ]

    port = free_port()
    with aws_rie_argv(
        rie_binary, argv(f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}"), port
    ) as url:
        theirs = httpx.post(url + PATH.format("function"), json={"action": "argv"}, timeout=30)
    with emulator(argv("127.0.0.1:0", "127.0.0.1:0"), tmp_path, cwd=HANDLERS) as running:
        ours = httpx.post(
            running.url + PATH.format("function"), json={"action": "argv"}, timeout=30
        )
    assert theirs.json() == ["app.handler", "--keep=1", "-x", "last"]
    assert ours.json() == theirs.json()
