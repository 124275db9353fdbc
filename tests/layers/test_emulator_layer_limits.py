"""The emulator with layers too large, large but legal, or being laid out when it is stopped:
one line and exit 2; invokes answered during a ``--watch`` re-layout; a signal while laying out
at start-up ends it at once; a killed emulator's directory swept at the next start."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from lambdarig.rie_server.emulator import Emulator
from tests.layers.zipbombs import many_files_zip, zeros_zip
from tests.rie_server.emulator_process import HELLO, OUR_RUNTIME, emulator
from tests.rie_server.environments.test_scratch import dead_pid
from tests.rie_server.fake_environment import FakeEnvironment, FakeFactory
from tests.rie_server.test_emulator import CONFIG, URL, serve

LOCAL = ["--runtime-interface-emulator-address", "127.0.0.1:0",
         "--runtime-api-address", "127.0.0.1:0"]  # fmt: skip
RUNTIME = [*OUR_RUNTIME, "app.handler"]
MANY = 20_000  # entries: laying them out takes about a second, far longer than an invoke


def scratch_dirs(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("lambdarig-opt-*"))


def test_a_layer_over_the_limit_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bomb = zeros_zip(tmp_path / "bomb.zip", 262_144_001)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "lambdarig.rie_server", "--layer", str(bomb), *LOCAL, *RUNTIME],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=HELLO,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"lambdarig-rie: error: layer {bomb}: expected at most 262,144,000 bytes (250.0 MB) "
        "unzipped for a function and all its layers (Lambda's limit), it declares 262,144,001 "
        "bytes (250.0 MB)\n"
    )
    assert scratch_dirs(tmp) == []


def test_a_signal_while_laying_out_at_start_ends_the_emulator_at_once(tmp_path: Path) -> None:
    layer = many_files_zip(tmp_path / "many.zip", MANY)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdarig.rie_server", "--layer", str(layer), *LOCAL, *RUNTIME],
        cwd=HELLO,
        env={**os.environ, "TMPDIR": str(tmp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not list(tmp.glob(f"lambdarig-opt-{process.pid}-*/opt/python/many/f0.py")):
            assert process.poll() is None and time.monotonic() < deadline, "no layout started"
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stderr is not None
        printed = process.stderr.read().decode()
        assert "listening on" not in printed, "expected the start cancelled, not completed"
        assert scratch_dirs(tmp) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


def _killed_and_alive_scratch(tmp: Path) -> tuple[Path, Path]:
    """A scratch directory of a killed emulator, and one of a live process (this test's)."""
    stale = tmp / f"lambdarig-opt-{dead_pid()}-k1ll3d"
    (stale / "opt" / "python").mkdir(parents=True)
    alive = tmp / f"lambdarig-opt-{os.getpid()}-l1ve"
    alive.mkdir()
    return stale, alive


def test_a_killed_emulators_directory_is_swept_at_the_next_start_with_layers(
    tmp_path: Path,
) -> None:
    tmp = tmp_path / "tmp"
    stale, alive = _killed_and_alive_scratch(tmp)
    layer = many_files_zip(tmp_path / "layer.zip", 2)
    flags = [*LOCAL, "--layer", str(layer), *RUNTIME]
    with emulator(flags, tmp_path, env={"TMPDIR": str(tmp)}):
        assert not stale.exists()  # swept before this emulator laid out its own
        assert alive.is_dir()
    assert alive.is_dir()


def test_a_killed_emulators_directory_is_swept_when_the_next_one_without_layers_stops(
    tmp_path: Path,
) -> None:
    # Without layers the start does not load the scratch code (tempfile, shutil): the sweep
    # runs at the stop instead.
    tmp = tmp_path / "tmp"
    stale, alive = _killed_and_alive_scratch(tmp)
    with emulator([*LOCAL, *RUNTIME], tmp_path, env={"TMPDIR": str(tmp)}) as running:
        assert stale.is_dir()
    assert running.process.returncode == 0
    assert not stale.exists()
    assert alive.is_dir()


def _python_dir(env: FakeEnvironment) -> Path:
    return Path(env.spec.env["PYTHONPATH"].split(os.pathsep)[-1])


async def _until(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"expected {what}"
        await asyncio.sleep(0.01)


def _watched_layer(tmp_path: Path) -> tuple[Path, Path]:
    """A small watched layer, and a large legal one to swap in for it."""
    layer = many_files_zip(tmp_path / "layer.zip", 2)
    big = many_files_zip(tmp_path / "big.zip", MANY)
    return layer, big


def test_invokes_are_answered_while_a_changed_layer_is_laid_out(tmp_path: Path) -> None:
    layer, big = _watched_layer(tmp_path)
    config = dataclasses.replace(CONFIG, layers=(str(layer),), watch_paths=(str(layer),))

    async def scenario(client: httpx.AsyncClient, _: Emulator, factory: FakeFactory) -> None:
        new_opt = _python_dir(factory.created[0]).parents[1] / "opt-2" / "python" / "many"
        os.replace(big, layer)
        await _until(lambda: (new_opt / "f0.py").exists(), "the re-layout to start")
        response = await client.post(URL.format("function"), content=b"{}", timeout=10)
        assert response.status_code == 200
        assert not (new_opt / f"f{MANY - 1}.py").exists(), "expected the layout still running"
        await _until(lambda: len(factory.created) == 2, "an environment on the new layer")
        assert (_python_dir(factory.created[1]) / "many" / f"f{MANY - 1}.py").exists()

    serve(scenario, config)


def test_stop_cancels_a_layout_in_progress(tmp_path: Path) -> None:
    layer, big = _watched_layer(tmp_path)
    config = dataclasses.replace(CONFIG, layers=(str(layer),), watch_paths=(str(layer),))

    async def scenario(_: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        scratch = _python_dir(factory.created[0]).parents[1]
        os.replace(big, layer)
        await _until(lambda: (scratch / "opt-2" / "python" / "many" / "f0.py").exists(), "a layout")
        await emulator.stop()
        # Not waited for: no environment was made from the half-laid-out layer, nothing is left.
        assert len(factory.created) == 1
        assert not scratch.exists()

    serve(scenario, config)
