"""EmulatorProcess/LambdaFunction lifecycle against our fake emulator (fixtures/)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdarig.testing import (
    EmulatorCrashed,
    FunctionSpec,
    HarnessSettings,
    LambdaFunction,
    LeakError,
    ProcessRegistry,
    UnsupportedEmulatorOption,
)
from tests.images.conftest import engine_client
from tests.testing.conftest import FIXTURES


def _function(mode: str, registry: ProcessRegistry, **spec: object) -> LambdaFunction:
    env = dict(os.environ, FAKE_EMULATOR_MODE=mode)
    settings = HarnessSettings(
        base_env=env, emulator=(sys.executable, str(FIXTURES / "fake_emulator.py"))
    )
    return LambdaFunction(
        FunctionSpec.build("app.handler", code=FIXTURES, **spec), settings, registry
    )  # type: ignore[arg-type]


@pytest.fixture
def registry() -> Iterator[ProcessRegistry]:
    registry = ProcessRegistry()
    yield registry
    registry.check()


def test_start_probes_readiness_and_stop_reaps(registry: ProcessRegistry) -> None:
    fn = _function("ok", registry).start()
    try:
        assert fn.url.endswith("/2015-03-31/functions/function/invocations")
        assert fn.invoke({}).payload == {}
        pid = fn.pid
    finally:
        fn.stop()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_emulator_crash_is_raised_in_the_invoking_test(registry: ProcessRegistry) -> None:
    with _function("crash", registry) as fn:
        with pytest.raises(EmulatorCrashed, match="exited with status 3"):
            fn.invoke({})
        fn.reset()  # the next test gets a restarted emulator
        assert fn.pid is not None and os.getpgid(fn.pid) == fn.pid


def test_emulator_internal_error_line_is_raised_by_check(registry: ProcessRegistry) -> None:
    with _function("internal-error", registry) as fn:
        with pytest.raises(EmulatorCrashed, match="reported an internal error: Traceback"):
            fn.invoke({})
            fn.check()


def test_rejected_flag_is_a_clear_error(registry: ProcessRegistry) -> None:
    fn = _function("reject-flags", registry, layers=[FIXTURES])
    with pytest.raises(UnsupportedEmulatorOption, match="rejected a command-line flag") as info:
        fn.start()
    assert "unrecognized arguments: --layer x" in str(info.value)


def test_registry_reports_a_leaked_port(tmp_path: Path) -> None:
    registry = ProcessRegistry()
    pidfile = tmp_path / "leaked.pid"
    fn = _function("leak", registry, env={"FAKE_EMULATOR_PIDFILE": str(pidfile)})
    fn.start()
    fn.stop()
    leaked = int(pidfile.read_text())
    try:
        with pytest.raises(LeakError, match=r"port 127\.0\.0\.1:\d+ still accepts connections"):
            registry.check()
    finally:
        os.kill(leaked, signal.SIGKILL)
    assert _wait_gone(leaked)
    registry.check()


def _wait_gone(pid: int) -> bool:
    probe = subprocess.run(["sh", "-c", f"while kill -0 {pid} 2>/dev/null; do :; done"], timeout=10)
    return probe.returncode == 0


def test_registry_reports_a_live_process_group() -> None:
    registry = ProcessRegistry()
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
    )
    registry.processes.append(child)
    try:
        with pytest.raises(LeakError, match=f"process group {child.pid}"):
            registry.check()
    finally:
        child.kill()
        child.wait()
    registry.check()


def test_registry_reads_a_process_named_in_bytes_that_are_not_utf8() -> None:
    # Every process on the machine is scanned for the group's members, and a process chooses
    # its own name (``/proc/self/comm``): one that is not UTF-8 must not break the check.
    registry = ProcessRegistry()
    naming = "import sys; open('/proc/self/comm', 'wb').write(b'\\xff) (\\xfe'); sys.stdin.read()"
    child = subprocess.Popen(
        [sys.executable, "-c", naming], stdin=subprocess.PIPE, start_new_session=True
    )
    registry.processes.append(child)
    assert child.stdin is not None
    try:
        deadline = time.monotonic() + 30
        while Path(f"/proc/{child.pid}/comm").read_bytes() != b"\xff) (\xfe\n":
            assert time.monotonic() < deadline, "the child did not name itself"
            time.sleep(0.01)  # probing the child's name
        with pytest.raises(LeakError, match=f"process group {child.pid}"):
            registry.check()
    finally:
        child.kill()
        child.wait()
        child.stdin.close()
    registry.check()


@pytest.mark.docker
def test_registry_reports_a_leftover_container() -> None:
    from lambdarig.rie_server.environments.containers import OWNER_LABEL

    client = engine_client()
    images = [tag for image in client.images.list() for tag in image.tags]
    base = next((tag for tag in images if tag.startswith("lambdarig-base:")), None)
    if base is None:
        pytest.skip("no lambdarig-base image (images/base/build-base.sh builds it)")
    owner = os.getpid()
    registry = ProcessRegistry(container_owners=[owner])
    container = client.containers.create(base, ["true"], labels={OWNER_LABEL: str(owner)})
    try:
        with pytest.raises(
            LeakError, match=f"container {container.short_id} .emulator pid {owner}"
        ):
            registry.check()
    finally:
        container.remove(force=True)
        client.close()
    registry.check()
