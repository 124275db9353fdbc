"""The runtime as a real subprocess (``python -m lambdarig.runtime_client``) vs the fake API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from lambdarig import runtime_api as wire
from tests.runtime_client.conftest import Spawn, runtime_env
from tests.runtime_client.fake_runtime_api import FakeRuntimeAPI
from tests.test_boundaries import STDLIB

TIMEOUT = 20
INV = wire.Invocation("req-1", 4102444800000, "arn:aws:lambda:::function:f", b'{"n": 1}')

APP = """
import atexit, os, sys

MARKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "atexit-ran")
atexit.register(lambda: open(MARKER, "w").write("yes"))

def handler(event, context):
    return {
        "event": event,
        "telemetry_fd": os.environ.get("_LAMBDA_TELEMETRY_LOG_FD"),
        "path0": sys.path[0],
    }
"""


def write_app(directory: Path, source: str = APP, name: str = "app.py") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(textwrap.dedent(source))
    return directory


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(
    "args, env, message",
    [
        (
            ["app.handler"],
            {},
            "lambdarig-runtime: error: AWS_LAMBDA_RUNTIME_API is not set: expected the Runtime "
            "API's host:port (for example 127.0.0.1:9001)\n",
        ),
        (
            [],
            {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"},
            "lambdarig-runtime: error: no handler given: expected it as the first argument "
            "(for example app.handler) or in _HANDLER\n",
        ),
        (
            ["app.handler"],
            {"AWS_LAMBDA_RUNTIME_API": "nohost"},
            "lambdarig-runtime: error: AWS_LAMBDA_RUNTIME_API: expected a Runtime API address "
            "like 127.0.0.1:9001, got 'nohost'\n",
        ),
        (
            ["app.handler"],
            {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9", "AWS_LAMBDA_MAX_CONCURRENCY": "many"},
            "lambdarig-runtime: error: AWS_LAMBDA_MAX_CONCURRENCY must be an integer, got 'many'\n",
        ),
        (
            ["app.handler"],
            {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9", "AWS_LAMBDA_MAX_CONCURRENCY": "0"},
            "lambdarig-runtime: error: AWS_LAMBDA_MAX_CONCURRENCY must be a positive integer, "
            "got 0\n",
        ),
    ],
)
def test_config_errors_exit_2_with_one_line(
    spawn: Spawn, args: list[str], env: dict[str, str], message: str
) -> None:
    clean = {k: v for k, v in runtime_env("unused").items() if k != "AWS_LAMBDA_RUNTIME_API"}
    proc = spawn(*args, env={**clean, **env})
    status, out, err = finish(proc)
    assert (status, out, err) == (2, "", message)


def test_init_error_posts_init_error_and_exits_1(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    proc = spawn("missing.handler", env=runtime_env(fake_api.address))
    status, out, err = finish(proc)
    assert status == 1, err
    (post,) = fake_api.requests
    assert post.path == "/2018-06-01/runtime/init/error"
    assert post.headers["lambda-runtime-function-error-type"] == "Runtime.ImportModuleError"
    assert json.loads(post.body)["errorMessage"] == (
        "Unable to import module 'missing': No module named 'missing'"
    )
    assert "[ERROR] Runtime.ImportModuleError: Unable to import module 'missing'" in out


@pytest.mark.parametrize("disabled", [False, True])
def test_preview_runtime_warning_is_logged_before_the_handler_loads(
    spawn: Spawn, fake_api: FakeRuntimeAPI, disabled: bool
) -> None:
    extra = {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.15"}
    if disabled:
        extra["LAMBDA_DISABLE_PREVIEW_WARN"] = "1"
    proc = spawn("missing.handler", env=runtime_env(fake_api.address, extra))
    status, out, err = finish(proc)
    assert status == 1, err
    warned = "LAMBDA_WARNING: This is a preview runtime version" in out
    assert warned is not disabled
    if warned:
        assert out.index("LAMBDA_WARNING: This is a preview") < out.index("[ERROR]")


def test_serves_then_sigterm_runs_atexit(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    write_app(tmp_path)
    r, w = os.pipe()
    env = runtime_env(fake_api.address, {"_LAMBDA_TELEMETRY_LOG_FD": str(w)})
    fake_api.queue_invocation(INV)
    proc = spawn("app.handler", env=env, pass_fds=(w,))
    os.close(w)
    try:
        (post,) = fake_api.wait_for_posts(1)
        fake_api.wait_for(lambda f: f.waiting_next == 1, "the second /next")
        proc.send_signal(signal.SIGTERM)
        status, out, err = finish(proc)
    finally:
        os.close(r)
    assert json.loads(post.body) == {
        "event": {"n": 1},
        "telemetry_fd": None,
        "path0": str(tmp_path),
    }
    assert status == 128 + signal.SIGTERM, err
    assert (tmp_path / "atexit-ran").read_text() == "yes"


# A SIGTERM whose handler runs inside a weakref callback (as inside the import system's
# module-lock callback, while a module is imported): Python prints the SystemExit it raises there
# and goes on. The runtime must still end, not block on its next /next for good.
SWALLOWED_SIGTERM_APP = """
import os, signal, weakref

class Thing:
    pass

def callback(ref):
    os.kill(os.getpid(), signal.SIGTERM)
    sum(range(10))  # the handler runs here, inside the callback, and its SystemExit is swallowed

thing = Thing()
ref = weakref.ref(thing, callback)
del thing

def handler(event, context):
    return "ok"
"""


def test_a_sigterm_swallowed_by_a_weakref_callback_still_ends_the_runtime(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    write_app(tmp_path, SWALLOWED_SIGTERM_APP)
    proc = spawn("app.handler", env=runtime_env(fake_api.address))
    status, _, err = finish(proc)
    assert "Exception ignored in" in err  # Python did swallow it
    assert status == 128 + signal.SIGTERM, err
    assert fake_api.requests == []  # ended before asking for an event


def test_console_script_imports_handlers_from_the_task_root(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    task_root = write_app(tmp_path / "task")
    script = Path(sys.executable).with_name("lambdarig-runtime")
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    fake_api.queue_invocation(INV)
    env = runtime_env(fake_api.address, {"LAMBDA_TASK_ROOT": str(task_root)})
    proc = spawn(str(script), "app.handler", env=env, cwd=tmp_path, module=False)
    (post,) = fake_api.wait_for_posts(1)
    proc.terminate()
    finish(proc)
    assert post.path.endswith("/response")
    assert json.loads(post.body)["path0"] == str(tmp_path)


# Modules that must not be imported before the first GET /next (each costs milliseconds of cold
# start; see the brief). logs.setup_logging defers the logging setup until user code imports
# logging, so even logging (and threading/traceback with it) stays out of a plain cold start.
HEAVY_MODULES = {
    "typing",
    "logging",
    "threading",
    "traceback",
    "dataclasses",
    "http",
    "http.client",
    "email",
    "asyncio",
    "inspect",
    "socket",
    "selectors",
    "ssl",
    "subprocess",
    "multiprocessing",
    "concurrent.futures",
    "decimal",
    "ctypes",
    "uuid",
    "encodings.idna",
    "stringprep",
}
ALSO_NOT_ON_PACKAGE_IMPORT = {"enum", "re", "json"}

PROBE = """
import sys
BASELINE = set(sys.modules)  # what the interpreter's own start-up (site, .pth files) loaded
import os
from lambdarig.runtime_client import transport

original = transport.SocketTransport.request

def request(self, method, path, headers, body=b"", while_waiting=None):
    if path.endswith("/invocation/next"):
        sending = sorted(set(sys.modules) - BASELINE)
        if while_waiting is not None:
            while_waiting()
        waiting = sorted(set(sys.modules) - BASELINE)
        import json
        with open(os.environ["PROBE_OUT"], "w") as out:
            json.dump({"sending": sending, "waiting": waiting}, out)
        os._exit(0)
    return original(self, method, path, headers, body, while_waiting)

transport.SocketTransport.request = request
sys.argv[0] = "lambdarig-runtime"
from lambdarig.runtime_client.cli import main
sys.exit(main())
"""


def _modules_at_the_first_next(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> dict[str, set[str]]:
    """The modules a runtime had loaded when it sent its first ``GET /next``, and once the work
    it does while that request waits was done."""
    write_app(tmp_path, "def handler(event, context):\n    return None\n")
    out_file = tmp_path / "modules.json"
    env = runtime_env(fake_api.address, {"PROBE_OUT": str(out_file)})
    proc = spawn(sys.executable, "-c", PROBE, "app.handler", env=env, module=False)
    status, out, err = finish(proc)
    assert status == 0, err
    return {when: set(names) for when, names in json.loads(out_file.read_text()).items()}


def test_nothing_heavy_is_imported_before_the_first_next(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    modules = _modules_at_the_first_next(spawn, fake_api, tmp_path)["sending"]
    assert "lambdarig.runtime_client.loop" in modules
    assert not modules & HEAVY_MODULES, sorted(modules & HEAVY_MODULES)
    assert "json" not in modules
    # Only the standard library and lambdarig itself are loaded.
    # importlib's frozen bootstrap is in every process (3.9's stdlib list rebuilt from the
    # stdlib directory does not name it).
    frozen = {"_frozen_importlib", "_frozen_importlib_external"}
    allowed = set(STDLIB) | frozen | {"__main__", "_distutils_hack", "lambdarig", "app"}
    foreign = {m for m in modules if m.split(".")[0] not in allowed}
    assert not foreign, sorted(foreign)


def test_json_is_imported_while_the_first_next_waits(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    """The marshaller is readied after the first ``/next`` is sent, in time the runtime would
    otherwise spend waiting for the first event, so that event is not slowed by it."""
    waiting = _modules_at_the_first_next(spawn, fake_api, tmp_path)["waiting"]
    assert {"json", "json.decoder", "json.encoder"} <= waiting
    assert not waiting & HEAVY_MODULES, sorted(waiting & HEAVY_MODULES)


def test_importing_the_package_imports_only_the_stdlib(tmp_path: Path) -> None:
    code = (
        "import sys, json; before = set(sys.modules); import lambdarig.runtime_client; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, cwd=tmp_path
    ).stdout
    added = set(json.loads(out))
    roots = {m.split(".")[0] for m in added}
    assert roots <= set(STDLIB) | {"lambdarig"}, sorted(roots)
    # Of lambdarig itself, only the runtime client and the wire constants (never rie_server).
    ours = {m for m in added if m.startswith("lambdarig.")}
    assert all(m.startswith(("lambdarig.runtime_client", "lambdarig.runtime_api")) for m in ours)
    assert not added & (HEAVY_MODULES | ALSO_NOT_ON_PACKAGE_IMPORT), sorted(
        added & (HEAVY_MODULES | ALSO_NOT_ON_PACKAGE_IMPORT)
    )


PEER_APP = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("boom")
    if event.get("raw"):
        return b"raw bytes"
    return {"echo": event}
"""
COMPARED_HEADERS = (
    "content-type",
    "lambda-runtime-function-error-type",
    "lambda-runtime-invocation-id",
)


def record_posts(cmd: list[str], tmp_path: Path, handler: str, events: list[bytes]) -> list[Any]:
    """Run ``cmd handler`` against a fresh fake, feed ``events``, return what it posted."""
    with FakeRuntimeAPI() as fake:
        for i, body in enumerate(events):
            fake.queue_invocation(
                wire.Invocation(f"r{i}", 4102444800000, "arn", body, invocation_id=f"n{i}")
            )
        proc = subprocess.Popen(
            [*cmd, handler],
            env=runtime_env(fake.address),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if handler == "missing.handler":
                proc.wait(TIMEOUT)
            else:
                fake.wait_for(
                    lambda f: f.waiting_next == 1 and len(f.posts()) == len(events), "posts"
                )
        finally:
            proc.kill()
            proc.wait()
        fake.check()
        return fake.posts()


@pytest.mark.peers
@pytest.mark.parametrize("handler", ["app.handler", "missing.handler"])
def test_posts_match_awslambdaric(awslambdaric_python: Path, tmp_path: Path, handler: str) -> None:
    write_app(tmp_path, PEER_APP)
    events = [b'{"a": 1}', b'{"fail": true}', b'{"raw": true}']
    ours = record_posts(
        [sys.executable, "-m", "lambdarig.runtime_client"], tmp_path, handler, events
    )
    theirs = record_posts(
        [str(awslambdaric_python), "-m", "awslambdaric"], tmp_path, handler, events
    )
    assert [p.path for p in ours] == [p.path for p in theirs]
    for mine, ref in zip(ours, theirs):
        assert json_or_bytes(mine.body) == json_or_bytes(ref.body), mine.path
        for name in COMPARED_HEADERS:
            assert mine.headers.get(name) == ref.headers.get(name), (mine.path, name)
        assert ("lambda-runtime-function-xray-error-cause" in mine.headers) == (
            "lambda-runtime-function-xray-error-cause" in ref.headers
        )


def json_or_bytes(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


DEPTH_APP = """
import sys

def handler(event, context):
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth
"""


@pytest.mark.peers
def test_handler_runs_at_awslambdaric_stack_depth(
    awslambdaric_python: Path, tmp_path: Path
) -> None:
    # A RecursionError's stackTrace lists (recursion limit - depth) frames: equal depth, equal body.
    write_app(tmp_path, DEPTH_APP)
    ours = record_posts(
        [sys.executable, "-m", "lambdarig.runtime_client"], tmp_path, "app.handler", [b"{}"]
    )
    theirs = record_posts(
        [str(awslambdaric_python), "-m", "awslambdaric"], tmp_path, "app.handler", [b"{}"]
    )
    assert ours[0].body == theirs[0].body == b"7"
