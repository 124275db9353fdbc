"""``lambdarig-rie`` / ``python -m lambdarig.rie_server`` as a real process."""

from __future__ import annotations

import gc
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.rie_server.emulator_process import (
    HELLO,
    OUR_RUNTIME,
    emulator,
    run_without_docker_sdk,
)

LOCAL = [
    "--runtime-interface-emulator-address",
    "127.0.0.1:0",
    "--runtime-api-address",
    "127.0.0.1:0",
]
HELLO_RUNTIME = [*OUR_RUNTIME, "app.handler"]
ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "src" / "lambdarig" / "build" / "image_files" / "lambda-entrypoint.sh"


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdarig.rie_server", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=HELLO,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--no-such-flag", "x"], "lambdarig-rie: error: unrecognized arguments: --no-such-flag"),
        (
            ["--timeout", "soon", "python"],
            "lambdarig-rie: error: expected --timeout to be a number of seconds > 0, got 'soon'",
        ),
        (
            ["--memory", "-128", "python"],
            "lambdarig-rie: error: expected --memory to be a whole number of MB in 128-10240, "
            "got '-128'",
        ),
        (
            ["--max-concurrency", "many", "python"],
            "lambdarig-rie: error: expected --max-concurrency to be a whole number >= 1, "
            "got 'many'",
        ),
        (
            ["--max-concurrency", "1", "--provisioned", "2", "python"],
            "lambdarig-rie: error: expected --provisioned to be a whole number in 0-1 "
            "(at most --max-concurrency), got '2'",
        ),
        (
            ["--runtime-interface-emulator-address", "nowhere", "python"],
            "lambdarig-rie: error: expected --runtime-interface-emulator-address as HOST:PORT "
            "with PORT in 0-65535, got 'nowhere'",
        ),
        (
            ["/no/such/bootstrap"],
            "lambdarig-rie: error: expected an executable runtime command, "
            "got '/no/such/bootstrap' (not found or not executable)",
        ),
    ],
)
def test_bad_flags_and_values_are_one_line_errors_with_exit_2(
    argv: list[str], message: str
) -> None:
    done = run_cli(*argv)
    assert done.returncode == 2
    assert done.stderr == message + "\n"
    assert done.stdout == ""


def test_help_shows_aws_flags_ours_and_an_example() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    for flag in (
        "--runtime-interface-emulator-address",
        "--runtime-api-address",
        "--log-level",
        "--enable-init-caching",
        "--max-concurrency",
        "--provisioned",
        "--lazy-init",
        "--compat",
        "--memory",
        "--timeout",
    ):
        assert flag in done.stdout
    assert "example: lambdarig-rie" in done.stdout


def test_python_m_from_a_function_directory_keeps_the_emulators_own_modules(
    tmp_path: Path,
) -> None:
    # A function directory may hold modules named like the standard library's: ``python -m``
    # puts the current directory first on the import path, the emulator must not import them.
    (tmp_path / "argparse.py").write_text("raise SystemExit('the function directory argparse')\n")
    (tmp_path / "json.py").write_text("raise SystemExit('the function directory json')\n")
    done = subprocess.run(
        [sys.executable, "-m", "lambdarig.rie_server", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: lambdarig-rie ")


def test_console_script_is_installed() -> None:
    assert shutil.which("lambdarig-rie", path=str(Path(sys.executable).parent)) is not None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serves_then_exits_0_on_signal_leaving_nothing_behind(
    tmp_path: Path, signum: signal.Signals
) -> None:
    with emulator([*LOCAL, "--timeout", "3", *HELLO_RUNTIME], tmp_path) as running:
        url = f"{running.url}/2015-03-31/functions/function/invocations"
        response = httpx.post(url, content=b'{"name": "cli"}', timeout=30)
        assert response.status_code == 200
        assert response.json()["message"] == "Hello, cli!"
        assert running.descendants(), "expected the runtime to run below the emulator"
        running.process.send_signal(signum)
        assert running.process.wait(timeout=15) == 0
    printed = running.stdout()
    assert "hello handler called for cli" in printed
    assert "REPORT RequestId: " in printed


# Runs the ``main`` of the module named first (``lambdarig-rie``'s or ``lambdarig``'s) with the
# first runtime spawned, then waits on stdin before asyncio loads: the test signals it there.
# Once ``main`` returns it says whether that runtime is still a process (a zombie included): a
# child the emulator stopped and reaped is not.
_SIGNALLED_WHILE_LOADING = """
import importlib, os, sys
from lambdarig.rie_server import fast_start

real_prestart = fast_start.prestart
spawned = []

def prestart(config, early=None):
    prestarted = real_prestart(config, early)
    runtime = prestarted.runtime.process if prestarted.runtime is not None else None
    spawned.append(runtime.popen.pid if runtime is not None else None)
    print(spawned[0], flush=True)
    sys.stdin.readline()
    return prestarted

fast_start.prestart = prestart
status = importlib.import_module(sys.argv[1]).main(sys.argv[2:])
try:
    os.kill(spawned[0], 0)
    print("runtime left", flush=True)
except ProcessLookupError:
    print("runtime reaped", flush=True)
sys.exit(status)
"""
_SERVE_BEHIND_A_FRONT = ["lambdarig.cli", "serve", "app.handler", "--code", str(HELLO)]
_SERVE_BEHIND_A_FRONT += ["--port", "0", "--http", "http", "--http-port", "0"]


@pytest.mark.parametrize(
    "argv",
    [["lambdarig.rie_server.cli", *LOCAL, *HELLO_RUNTIME], _SERVE_BEHIND_A_FRONT],
    ids=["lambdarig-rie", "lambdarig-serve-http"],
)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_loading_after_the_spawn_stops_cleanly_with_exit_0(
    signum: signal.Signals, argv: list[str]
) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), LAMBDA_TASK_ROOT=str(HELLO))
    with subprocess.Popen(
        [sys.executable, "-c", _SIGNALLED_WHILE_LOADING, *argv],
        cwd=HELLO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            if not select.select([process.stdout], [], [], 30)[0]:
                pytest.fail("the first runtime was not spawned within 30 s")
            spawned = process.stdout.readline().strip()
            assert spawned.isdigit(), f"expected a runtime spawned early, got {spawned!r}"
            process.send_signal(signum)
            process.stdin.write("go on\n")
            process.stdin.flush()
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "listening on" not in stderr  # the start was cancelled: never said ready
    assert stdout.splitlines()[-1] == "runtime reaped"


def test_a_start_that_fails_leaves_the_callers_signal_handlers() -> None:
    # In-process (lambdarig.cli.main from a script or a test): the handlers that record a
    # signal while loading are put back when serve returns without running the loop.
    from lambdarig.rie_server import cli

    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        address = ["--runtime-interface-emulator-address", f"127.0.0.1:{port}"]
        assert cli.main([*address, "--runtime-api-address", "127.0.0.1:0", "true"]) == 2
    assert {signum: signal.getsignal(signum) for signum in before} == before


# Runs ``lambdarig-rie``'s main: says whether the cyclic GC ran at the runtime's spawn, then,
# once an invoke was answered, whether it runs again with no more objects frozen than before
# (CPython 3.12 freezes some as it starts).
_GC_AROUND_THE_START = """
import gc, os, signal, sys, threading, time, urllib.request
frozen_at_start = gc.get_freeze_count()
from lambdarig.rie_server import cli, fast_start

real_prestart = fast_start.prestart

def prestart(config, early=None):
    print("at the spawn:", gc.isenabled(), flush=True)
    return real_prestart(config, early)

def invoke_then_stop():
    url = f"http://{sys.argv[2]}/2015-03-31/functions/function/invocations"
    while True:
        try:
            urllib.request.urlopen(url, b"{}", timeout=30).read()
            break
        except OSError:
            time.sleep(0.01)
    more = gc.get_freeze_count() - frozen_at_start
    print("serving:", gc.isenabled(), "more frozen:", more, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

fast_start.prestart = prestart
threading.Thread(target=invoke_then_stop, daemon=True).start()
sys.exit(cli.main(sys.argv[1:]))
"""


def test_the_start_runs_without_the_cyclic_gc_which_is_back_once_serving() -> None:
    # ~45 collections over the modules being imported took ~8 ms of a start (StartUpGc).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = ["--runtime-interface-emulator-address", f"127.0.0.1:{port}"]
    argv = [*address, "--runtime-api-address", "127.0.0.1:0", *HELLO_RUNTIME]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), LAMBDA_TASK_ROOT=str(HELLO))
    done = subprocess.run(
        [sys.executable, "-c", _GC_AROUND_THE_START, *argv],
        cwd=HELLO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stdout.splitlines() if line.startswith(("at the", "serving"))]
    assert said == ["at the spawn: False", "serving: True more frozen: 0"]


def test_a_command_line_refused_leaves_the_cyclic_gc_as_it_was() -> None:
    from lambdarig.rie_server import cli

    argv = ["--runtime-interface-emulator-address", "127.0.0.1:0", "--timeout", "soon", "true"]
    assert gc.isenabled()
    frozen = gc.get_freeze_count()  # CPython 3.12 freezes some objects as it starts
    assert cli.main(argv) == 2
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    gc.disable()  # a caller that runs without it keeps it off
    try:
        assert cli.main(argv) == 2
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_address_in_use_is_one_line_naming_the_flag_with_exit_2(tmp_path: Path) -> None:
    with emulator([*LOCAL, *HELLO_RUNTIME], tmp_path) as running:
        port = running.url.rsplit(":", 1)[1]
        done = run_cli(
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{port}",
            "--runtime-api-address",
            "127.0.0.1:0",
            "--lazy-init",
            *HELLO_RUNTIME,
        )
    assert done.returncode == 2
    assert done.stderr == (
        f"lambdarig-rie: error: expected to listen on 127.0.0.1:{port}, got: address already in "
        "use (the Invoke API address; choose another with --runtime-interface-emulator-address "
        "HOST:PORT)\n"
    )


def test_a_runtime_api_address_in_use_names_its_flag(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli(*LOCAL[:2], "--runtime-api-address", f"127.0.0.1:{port}", *HELLO_RUNTIME)
    assert done.returncode == 2
    assert done.stderr == (
        f"lambdarig-rie: error: expected to listen on 127.0.0.1:{port}, got: address already in "
        "use (the Runtime API address; choose another with --runtime-api-address HOST:PORT)\n"
    )


def test_image_without_the_docker_sdk_is_a_one_line_error() -> None:
    done = run_without_docker_sdk(
        "lambdarig.rie_server.cli", *LOCAL, "--image", "fn:latest", "app.handler"
    )
    assert done.returncode == 2
    assert done.stderr == (
        "lambdarig-rie: error: expected the docker SDK to run containers of 'fn:latest' "
        "(pip install 'lambdarig[docker]'), it is not installed\n"
    )


def test_runtime_dies_with_the_emulator_even_on_sigkill(tmp_path: Path) -> None:
    with emulator([*LOCAL, *HELLO_RUNTIME], tmp_path) as running:
        children = running.descendants()
        assert children
        running.process.kill()
        assert running.process.wait(timeout=10) == -signal.SIGKILL
    # emulator() asserts on exit that none of ``children`` outlived the emulator.


FAKE_RUNTIME = Path(__file__).resolve().parent / "fixtures" / "fake_runtime.py"


def test_the_console_script_runs() -> None:
    script = Path(sys.executable).parent / "lambdarig-rie"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("usage: lambdarig-rie ")


def test_a_runtime_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    argv = [*LOCAL, sys.executable, str(FAKE_RUNTIME), "ignore_term"]
    with emulator(argv, tmp_path) as running:
        url = f"{running.url}/2015-03-31/functions/function/invocations"
        assert httpx.post(url, content=b'{"k": 1}', timeout=30).content == b'{"k": 1}'
        assert running.descendants()
        started = time.monotonic()
        running.process.send_signal(signal.SIGTERM)
        assert running.process.wait(timeout=15) == 0
        assert 1.5 < time.monotonic() - started < 10  # SIGTERM ignored; SIGKILL after ~2 s
    # emulator() asserts that no process outlived the emulator.


def test_the_first_environment_listens_on_runtime_api_address(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a free port for the Runtime API (closed before use)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [
        "--runtime-interface-emulator-address",
        "127.0.0.1:0",
        "--runtime-api-address",
        f"127.0.0.1:{port}",
        *OUR_RUNTIME,
        "app.handler",
    ]
    handlers = Path(__file__).resolve().parents[1] / "integration" / "handlers"
    with emulator(argv, tmp_path, cwd=handlers) as running:
        url = f"{running.url}/2015-03-31/functions/function/invocations"
        seen = httpx.post(url, json={"action": "context"}, timeout=30).json()
    assert seen["env"]["AWS_LAMBDA_RUNTIME_API"] == f"127.0.0.1:{port}"


def test_aws_lambda_rie_is_a_console_script_alias() -> None:
    """Scripts and entrypoints written for AWS's emulator run ours under its name."""
    from importlib.metadata import distribution

    scripts = {ep.name: ep.value for ep in distribution("lambdarig").entry_points}
    assert scripts["aws-lambda-rie"] == scripts["lambdarig-rie"] == "lambdarig.rie_server.cli:main"
    script = Path(sys.executable).parent / "aws-lambda-rie"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "--runtime-interface-emulator-address" in done.stdout


def test_flags_after_the_entrypoint_as_aws_end_to_end_tests_pass_them(tmp_path: Path) -> None:
    """AWS's own tests run ``aws-lambda-rie /lambda-entrypoint.sh HANDLER
    --runtime-interface-emulator-address 0.0.0.0:PORT``: the flags are the emulator's, and the
    entrypoint (which accepts exactly one argument, else exits 142) gets the handler alone."""
    argv = [str(ENTRYPOINT), "app.handler", *LOCAL[:2], f"{LOCAL[2]}={LOCAL[3]}"]
    env = {"LAMBDARIG_PYTHON": sys.executable}
    with emulator(argv, tmp_path, env=env) as running:
        assert not running.url.endswith(":8080")  # the ephemeral port asked for, after the command
        url = f"{running.url}/2015-03-31/functions/function/invocations"
        response = httpx.post(url, content=b'{"name": "aws"}', timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Hello, aws!"
    assert "X-Amz-Function-Error" not in response.headers
