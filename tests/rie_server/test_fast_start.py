"""The command line's start-up: sockets bound and the first runtime started before asyncio is
imported, then served and adopted by the emulator; and what the emulator's import path loads."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from lambdarig.rie_server import fast_start
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from tests.rie_server.emulator_process import NEVER, OUR_RUNTIME, emulator

FAKE = str(Path(__file__).parent / "fixtures" / "fake_runtime.py")
SRC = str(Path(__file__).resolve().parents[2] / "src")
CONFIG = EmulatorConfig(
    command=(sys.executable, FAKE, "echo"),
    invoke_host="127.0.0.1",
    invoke_port=0,
    runtime_api_address="127.0.0.1:0",
    timeout_s=5.0,
    memory_mb=256,
)


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = dict(os.environ, PYTHONPATH=SRC)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_importing_the_package_loads_no_asyncio() -> None:
    loaded = loaded_after("import lambdarig.rie_server")
    assert "asyncio" not in loaded
    assert not any(name.startswith("lambdarig.rie_server.") for name in loaded)


def test_what_runs_before_the_bind_and_spawn_loads_no_asyncio() -> None:
    # cli.main: parse the configuration, then fast_start.prestart (bind, spawn).
    loaded = loaded_after("import lambdarig.rie_server.cli, lambdarig.rie_server.fast_start")
    assert {"asyncio", "ssl", "email", "http.client", "concurrent.futures"}.isdisjoint(loaded)


def test_reading_the_command_line_loads_no_protocol_module_nor_logging() -> None:
    # What runs before the Invoke API socket listens (spawn -> listening, issue 9): the protocol
    # and process modules are imported once it listens, logging with asyncio.
    loaded = loaded_after("import lambdarig.rie_server.cli, lambdarig.rie_server.fast_start")
    later = {
        "lambdarig.rie_server.invoke.protocol",
        "lambdarig.rie_server.invoke.names",
        "lambdarig.rie_server.environments.outcomes",
        "lambdarig.rie_server.environments.spawn",
        "lambdarig.rie_server.platform_logs",
        "logging",
        "subprocess",
        "urllib.parse",
        "datetime",
        "shutil",
    }
    assert later.isdisjoint(loaded)


_BUILT_AT_IMPORT = """
import dataclasses, json, re, sys
made, compiled = [], []
process_class, compile_pattern = dataclasses._process_class, re._compile
def recorded_class(cls, *args, **kwargs):
    made.append(cls.__qualname__)
    return process_class(cls, *args, **kwargs)
def recorded_pattern(pattern, flags=0):
    caller = sys._getframe(1)
    while caller.f_globals.get("__name__") == "re":  # re.compile, re.search...
        caller = caller.f_back
    compiled.append(caller.f_globals["__name__"])
    return compile_pattern(pattern, flags)
dataclasses._process_class, re._compile = recorded_class, recorded_pattern
from lambdarig.rie_server import fast_start
fast_start.import_asyncio_without_ssl()
import lambdarig.rie_server.cli, lambdarig.rie_server.emulator
ours = sorted({name for name in compiled if name.startswith("lambdarig")})
print(json.dumps([sorted(made), ours]))
"""


def test_the_start_path_makes_only_four_dataclasses_and_compiles_only_the_parsers_patterns() -> (
    None
):
    """Each ``@dataclass`` execs its generated methods at import (0.3-2 ms each) and each pattern
    compiled at import costs up to 0.8 ms, on every start: the small value classes are plain
    classes, and patterns most invokes never need are compiled by ``re`` on first use."""
    env = dict(os.environ, PYTHONPATH=SRC)
    out = subprocess.run(
        [sys.executable, "-c", _BUILT_AT_IMPORT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    made, compiled_by = json.loads(out.stdout.splitlines()[-1])
    assert made == ["EmulatorConfig", "EnvironmentSpec", "InvokeOutcome", "InvokeRequest"]
    assert compiled_by == ["lambdarig.rie_server.http.grammar"]


def test_the_emulator_process_loads_no_ssl_nor_email() -> None:
    loaded = loaded_after(
        "from lambdarig.rie_server import fast_start\n"
        "fast_start.import_asyncio_without_ssl()\n"
        "import lambdarig.rie_server.cli, lambdarig.rie_server.emulator\n"
        "import ssl  # still importable for whoever needs it later\n"
        "import sys; sys.modules.pop('ssl'); sys.modules.pop('_ssl')"
    )
    assert {"ssl", "_ssl", "email", "http.client"}.isdisjoint(loaded)
    assert "asyncio" in loaded


# What only an optional feature needs, never loaded by a plain start and invoke (issue 9: idle
# RSS and spawn -> listening): ``--watch``, ``--layer`` scratch space (tempfile, its shutil and
# random), a ClientContext (base64), the runtime command check (shutil.which: shutil, bz2, lzma),
# argparse's help width (shutil); InvokeWithResponseStream's event stream (its struct and zlib);
# ctypes (the runtime's parent-death signal is set through _ctypes alone).
OFF_THE_PLAIN_PATH = {
    "ctypes",
    "struct",
    "zlib",
    "lambdarig.rie_server.invoke.event_stream",
    "shutil",
    "tempfile",
    "random",
    "base64",
    "bz2",
    "lzma",
    "lambdarig.rie_server.watch",
    "lambdarig.rie_server.environments.scratch",
    "lambdarig.rie_server.environments.layers",
    # pathlib: --watch, --layer, a delegated memory cgroup; urllib.parse (and its ipaddress): a
    # query string, a percent-encoded function name; datetime: JSON platform lines, Event
    # invocations, the Telemetry API
    "pathlib",
    "urllib.parse",
    "ipaddress",
    "datetime",
}
# The Extensions API and the Telemetry/Logs APIs: made when an extension or a subscription
# needs them (``extensions.on_demand``, ``telemetry.on_demand``). Not ``lambdarig.extensions_api``:
# wire strings only, among them the shutdown reasons every environment ends its processes with.
EXTENSIONS_AND_TELEMETRY = {
    "lambdarig.rie_server.extensions.backend",
    "lambdarig.rie_server.extensions.host",
    "lambdarig.rie_server.extensions.phases",
    "lambdarig.rie_server.extensions.protocol",
    "lambdarig.rie_server.extensions.state",
    "lambdarig.rie_server.telemetry.dispatch",
    "lambdarig.rie_server.telemetry.events",
    "lambdarig.rie_server.telemetry.hub",
    "lambdarig.rie_server.telemetry.subscription",
}


def imports_with_importer(importtime_lines: list[str]) -> dict[str, set[str]]:
    """Each module in ``-X importtime`` lines -> the lambdarig modules whose own imports brought
    it in (the nearest one up the chain; ``""``: none, e.g. imported from a function). A module's
    line follows those of the modules it imported, which are one indentation level deeper."""
    rows: list[tuple[int, str]] = []
    for line in importtime_lines:
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            field = line.rsplit("|", 1)[1]
            rows.append((len(field) - len(field.lstrip()), field.strip()))
    parents: list[int | None] = []
    for index, (depth, _) in enumerate(rows):
        later = (up for up in range(index + 1, len(rows)) if rows[up][0] < depth)
        parents.append(next(later, None))
    importers: dict[str, set[str]] = {}
    for index, (_, name) in enumerate(rows):
        up = parents[index]
        while up is not None and not rows[up][1].startswith("lambdarig"):
            up = parents[up]
        importers.setdefault(name, set()).add("" if up is None else rows[up][1])
    return importers


def _imports_up_to_one_invoke(tmp_path: Path, *flags: str) -> dict[str, set[str]]:
    """A real emulator serving our runtime client, up to its first plain invoke answered: what it
    imported (``imports_with_importer``)."""
    argv = ["--runtime-interface-emulator-address", "127.0.0.1:0", *flags]
    argv += ["--runtime-api-address", "127.0.0.1:0", *OUR_RUNTIME, "app.handler"]
    entry = (sys.executable, "-X", "importtime", "-m", "lambdarig.rie_server")
    with emulator(argv, tmp_path, entry=entry) as running:
        url = f"{running.url}/2015-03-31/functions/function/invocations"
        assert httpx.post(url, content=b'{"a": 1}', timeout=30).status_code == 200
        # Every import before the answer is in the pipe already (importtime writes unbuffered).
        running.stderr.wait_for(NEVER, 0.5)
        importers = imports_with_importer(running.stderr_lines)
    assert "lambdarig.rie_server.functions" in importers  # the lines were read
    return importers


def test_a_plain_start_and_invoke_load_none_of_the_optional_modules(tmp_path: Path) -> None:
    importers = _imports_up_to_one_invoke(tmp_path)
    optional = set(OFF_THE_PLAIN_PATH)
    if not os.path.isdir("/opt/extensions"):  # else: served, as aws-lambda-rie serves them
        optional |= EXTENSIONS_AND_TELEMETRY
    loaded = optional & importers.keys()
    assert not loaded, {name: importers[name] for name in loaded}  # and who imported each


def test_the_extensions_api_is_loaded_once_an_extensions_directory_exists(
    tmp_path: Path,
) -> None:
    # The control of the test above: an empty extensions directory in a layer, and the
    # Extensions API is served (its host is made at spawn).
    layer = tmp_path / "layer"
    (layer / "extensions").mkdir(parents=True)
    importers = _imports_up_to_one_invoke(tmp_path, "--layer", str(layer))
    assert "lambdarig.rie_server.extensions.host" in importers


def invoke_twice(config: EmulatorConfig, prestarted: fast_start.Prestarted) -> list[int]:
    """Start an emulator on ``prestarted``, invoke it twice; the runtime pids seen."""

    async def main() -> list[int]:
        emulator = Emulator(config, prestarted=prestarted, output=io.StringIO())
        await emulator.start()
        try:
            pids = []
            async with httpx.AsyncClient(base_url=emulator.invoke_url) as client:
                for body in (b'{"n": 1}', b'{"n": 2}'):
                    url = "/2015-03-31/functions/function/invocations"
                    response = await client.post(url, content=body)
                    assert (response.status_code, response.content) == (200, body)
                    process = emulator.pool._slots[0].environment._process  # type: ignore[attr-defined]
                    pids.append(process.pid)
            return pids
        finally:
            await emulator.stop()

    return asyncio.run(main())


def test_the_emulator_serves_the_bound_sockets_and_adopts_the_started_runtime() -> None:
    prestarted = fast_start.prestart(CONFIG)
    assert prestarted.invoke_sock is not None and prestarted.runtime is not None
    early = prestarted.runtime.process
    assert early is not None
    api = f"127.0.0.1:{prestarted.runtime.sock.getsockname()[1]}"
    assert early.env["AWS_LAMBDA_RUNTIME_API"] == api
    assert early.env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    port = prestarted.invoke_sock.getsockname()[1]
    config = dataclasses.replace(CONFIG, invoke_port=port, runtime_api_address=api)
    assert invoke_twice(config, prestarted) == [early.popen.pid, early.popen.pid]
    assert early.popen.returncode is not None  # stopped and reaped with the emulator
    # The emulator took both: the caller's own cleanup (cli.serve's) finds nothing left.
    assert prestarted.invoke_sock is None and prestarted.runtime is None
    prestarted.discard()


def test_a_started_runtime_that_is_not_the_one_wanted_is_killed_and_replaced() -> None:
    prestarted = fast_start.prestart(CONFIG)
    assert prestarted.runtime is not None and prestarted.runtime.process is not None
    early = prestarted.runtime.process
    api = f"127.0.0.1:{prestarted.runtime.sock.getsockname()[1]}"
    port = prestarted.invoke_sock.getsockname()[1] if prestarted.invoke_sock else 0
    config = dataclasses.replace(
        CONFIG, invoke_port=port, runtime_api_address=api, runtime_env={"OTHER": "1"}
    )
    pids = invoke_twice(config, prestarted)
    assert pids[0] == pids[1] != early.popen.pid
    assert early.popen.returncode is not None  # killed and reaped at once, not left behind


@pytest.mark.parametrize(
    "change",
    [
        {"lazy_init": True},
        {"provisioned": 2},
        {"managed_concurrency": 4},
        {"snapstart": True},
        {"enable_init_caching": True},
    ],
)
def test_only_the_one_on_demand_environment_case_is_started_early(
    change: dict[str, object],
) -> None:
    prestarted = fast_start.prestart(dataclasses.replace(CONFIG, **change))  # type: ignore[arg-type]
    try:
        assert prestarted.runtime is None and prestarted.invoke_sock is not None
    finally:
        prestarted.discard()


def test_the_first_runtime_is_spawned_before_logging_and_the_environment_modules() -> None:
    # What is loaded when cli.main spawns the first runtime: the sooner it starts, the sooner its
    # own start-up (awslambdaric's is longer than the emulator's) is over.
    script = f"""
import sys
startup = sorted(sys.modules)  # what the interpreter loaded itself (a virtualenv's .pth...)
from lambdarig.rie_server.environments import spawn
start = spawn.start_process
seen = []
def start_process(*args, **kwargs):
    seen.append(sorted(sys.modules))
    raise spawn.ProcessStartError("not started: the test only looks")
spawn.start_process = start_process
from lambdarig.rie_server import cli, fast_start
config = cli._read_config([
    "--runtime-interface-emulator-address", "127.0.0.1:0",
    "--runtime-api-address", "127.0.0.1:0", {sys.executable!r}, {FAKE!r}, "echo",
])
fast_start.prestart(config).discard()
import json
print(json.dumps([seen, startup]))
"""
    env = dict(os.environ, PYTHONPATH=SRC)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    (at_spawn,), startup = json.loads(out.stdout.splitlines()[-1])  # spawned once
    loaded = set(at_spawn) - set(startup)
    later = {
        "asyncio",
        "logging",
        "lambdarig.rie_server.environments.outcomes",
        "lambdarig.rie_server.runtime.protocol",
        "lambdarig.rie_server.environments.supervisor",
    }
    assert later.isdisjoint(loaded), later & loaded
