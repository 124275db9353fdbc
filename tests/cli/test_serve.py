"""``lambdarig serve``: examples/hello behind a local Invoke API."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lambdarig.cli import CommandError, build_parser
from lambdarig.cli.serve import (
    check_runtime_module,
    emulator_argv,
    function_environ,
    runtime_command,
)
from tests import peers
from tests.rie_server.emulator_process import HELLO, ROOT, emulator, run_without_docker_sdk

SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")


def run_serve(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SERVE, *argv], capture_output=True, text=True, check=False, timeout=30)


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


def test_defaults() -> None:
    args = parse("app.handler")
    assert (args.host, args.port, args.code) == ("127.0.0.1", 9000, ".")
    assert (args.timeout, args.memory, args.max_concurrency, args.provisioned) == (3.0, 128, 10, 0)
    argv = emulator_argv(args)
    assert argv[:2] == ["--runtime-interface-emulator-address", "127.0.0.1:9000"]
    assert argv[-4:] == [sys.executable, "-m", "lambdarig.runtime_client", "app.handler"]


def test_layers_and_image_pass_through() -> None:
    argv = emulator_argv(parse("app.handler", "--layer", "a.zip", "--layer", "b", "--image", "img"))
    assert argv[:6] == ["--layer", "a.zip", "--layer", "b", "--image", "img"]
    assert argv[-2:] == ["--", "app.handler"]


def test_runtime_command() -> None:
    assert runtime_command("a.b", None) == [sys.executable, "-m", "lambdarig.runtime_client", "a.b"]
    assert runtime_command("a.b", "/venv/bin/python -m awslambdaric") == [
        "/venv/bin/python",
        "-m",
        "awslambdaric",
        "a.b",
    ]


def test_function_environ_puts_code_first_on_pythonpath(tmp_path: Path) -> None:
    env = function_environ({"PYTHONPATH": "/x", "KEEP": "1"}, tmp_path, ["A=1", "B=x=y"])
    assert env["PYTHONPATH"] == os.pathsep.join([str(tmp_path), "/x"])
    assert (env["A"], env["B"], env["KEEP"]) == ("1", "x=y", "1")
    with pytest.raises(CommandError, match="expected --env KEY=VALUE, got 'novalue'"):
        function_environ({}, tmp_path, ["novalue"])


def test_help_shows_an_example() -> None:
    done = run_serve("--help")
    assert done.returncode == 0
    assert "lambdarig serve app.handler --code examples/hello" in done.stdout
    assert "curl" in done.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--memory", "1"], "expected --memory to be a whole number of MB in 128-10240, got '1'"),
        (["--timeout", "0"], "expected --timeout to be a number of seconds > 0, got '0.0'"),
        (["--port", "70000"], "expected --port in 0-65535, got 70000"),
        (
            ["--max-concurrency", "0"],
            "expected --max-concurrency to be a whole number >= 1, got '0'",
        ),
        (
            ["--max-concurrency", "1", "--provisioned", "2"],
            "expected --provisioned to be a whole number in 0-1 (at most --max-concurrency), "
            "got '2'",
        ),
        (["--env", "NOEQUALS"], "expected --env KEY=VALUE, got 'NOEQUALS'"),
    ],
)
def test_bad_values_are_one_line_errors(argv: list[str], message: str) -> None:
    done = run_serve("app.handler", "--code", str(HELLO), *argv)
    assert done.returncode == 2
    assert done.stderr == f"lambdarig: error: {message}\n"
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--memory", "lots"],
            "lambdarig serve: error: argument --memory: invalid int value: 'lots'",
        ),
        (["--no-such-flag"], "lambdarig: error: unrecognized arguments: --no-such-flag"),
    ],
)
def test_unparsable_flags_are_argparse_usage_errors(argv: list[str], message: str) -> None:
    done = run_serve("app.handler", "--code", str(HELLO), *argv)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: lambdarig")
    assert done.stderr.splitlines()[-1] == message


def test_a_missing_code_directory_is_a_one_line_error(tmp_path: Path) -> None:
    missing = run_serve("app.handler", "--code", str(tmp_path / "missing"))
    assert missing.returncode == 2
    assert missing.stderr == (
        f"lambdarig: error: expected --code to be a directory, got '{tmp_path / 'missing'}'\n"
    )


def test_serve_examples_hello(tmp_path: Path) -> None:
    argv = ["app.handler", "--code", "examples/hello", "--port", "0", "--env", "GREETING=hi"]
    with emulator(argv, tmp_path, cwd=ROOT, entry=SERVE) as running:
        assert running.url.startswith("http://127.0.0.1:")
        url = f"{running.url}/2015-03-31/functions/function/invocations"
        response = httpx.post(url, json={"name": "you"}, timeout=30)
        printed = running.stdout()
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Hello, you!"
    assert body["request_id"] == response.headers["x-amzn-RequestId"]
    assert "hello handler called for you" in printed
    assert "\tMemory Size: 128 MB\t" in printed


# A script that runs the command line up to the emulator's first step (``fast_start.prestart``:
# bind, spawn), in a fresh interpreter: whether that step would spawn the runtime, and the
# modules loaded by then.
_AT_PRESTART = """
import json, sys
from lambdarig.rie_server import fast_start

def prestart(config, early=None):
    spawns = fast_start._one_local_runtime_at_start(config)
    print(json.dumps({"spawns": spawns, "loaded": sorted(sys.modules)}), flush=True)
    raise SystemExit(0)

fast_start.prestart = prestart
from lambdarig.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("front", [[], ["--http", "http", "--http-port", "0"]])
def test_serve_spawns_the_runtime_before_loading_asyncio(front: list[str]) -> None:
    # As lambdarig-rie starts (issue 9): the runtime's own start-up overlaps the emulator's
    # imports instead of following them; behind an HTTP front too.
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    argv = ["serve", "app.handler", "--code", str(HELLO), "--port", "0", *front]
    done = subprocess.run(
        [sys.executable, "-c", _AT_PRESTART, *argv],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    seen = json.loads(done.stdout)
    assert seen["spawns"]
    loaded = set(seen["loaded"])
    later = {"asyncio", "lambdarig.rie_server.emulator", "lambdarig.rie_server.fronts.single"}
    assert later.isdisjoint(loaded)
    assert "lambdarig.cli.hosting" not in loaded


def test_building_the_command_line_loads_no_emulator() -> None:
    # ``lambdarig --help`` and every command's parsing: no asyncio, no emulator module.
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    script = "import json, sys, lambdarig.cli; lambdarig.cli.build_parser()\n"
    script += "print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert "asyncio" not in loaded
    assert not any(name.startswith("lambdarig.rie_server.") for name in loaded), sorted(loaded)


@pytest.mark.peers
def test_serve_with_another_runtime(tmp_path: Path) -> None:
    runtime = f"{peers.require_awslambdaric()} -m awslambdaric"
    argv = ["app.handler", "--code", "examples/hello", "--port", "0", "--runtime", runtime]
    with emulator(argv, tmp_path, cwd=ROOT, entry=SERVE) as running:
        commands = [
            Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in running.descendants()
        ]
        url = f"{running.url}/2015-03-31/functions/function/invocations"
        response = httpx.post(url, json={"name": "ric"}, timeout=30)
    assert response.status_code == 200
    assert response.json()["message"] == "Hello, ric!"
    assert [b"-m", b"awslambdaric", b"app.handler"] in [command[1:4] for command in commands]


def test_image_without_the_docker_sdk_is_a_one_line_error() -> None:
    done = run_without_docker_sdk(
        "lambdarig.cli",
        "serve", "app.handler", "--code", str(HELLO), "--image", "fn:latest", "--port", "0",
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "lambdarig: error: expected the docker SDK to run containers of 'fn:latest' "
        "(pip install 'lambdarig[docker]'), it is not installed\n"
    )


def test_a_port_in_use_names_the_port_and_the_flag(tmp_path: Path) -> None:
    with emulator(["app.handler", "--code", str(HELLO), "--port", "0"], tmp_path, entry=SERVE) as (
        running
    ):
        port = running.url.rsplit(":", 1)[1]
        done = run_serve("app.handler", "--code", str(HELLO), "--port", port)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"lambdarig: error: expected to listen on 127.0.0.1:{port}, got: address already in use "
        "(the Invoke API address; choose another with --port)"
    )
    assert "Traceback" not in done.stderr


def test_a_runtime_module_the_python_lacks_is_said_at_start() -> None:
    done = run_serve(
        "app.handler", "--code", str(HELLO), "--port", "0",
        "--runtime", f"{sys.executable} -m no_such_runtime_module",
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        f"lambdarig: error: expected {sys.executable} to have the module no_such_runtime_module "
        "(--runtime runs it with -m), it has not: install it into that python, or name a python "
        "that has it\n"
    )


def test_the_runtime_module_is_looked_up_with_the_code_on_the_path(tmp_path: Path) -> None:
    """A runtime module in --code itself is found (the probe runs with the function's
    PYTHONPATH), and a command that is not ``PYTHON -m MODULE`` is not probed."""
    (tmp_path / "my_runtime.py").write_text("")
    env = function_environ({"PATH": os.environ["PATH"]}, tmp_path, [])
    check_runtime_module([sys.executable, "-m", "my_runtime", "app.handler"], env, tmp_path)
    check_runtime_module(["./bootstrap", "-m", "x"], env, tmp_path)  # cannot run: left alone
    with pytest.raises(CommandError, match="to have the module other_runtime "):
        check_runtime_module([sys.executable, "-m", "other_runtime", "app.handler"], env, tmp_path)
