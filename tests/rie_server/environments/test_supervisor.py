"""The local process seam: process groups, output lines, signals, and death with the emulator."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from lambdarig.rie_server.environments.supervisor import spawn_local
from lambdarig.rie_server.errors import ProcessStartError
from tests.probes import eventually, process_gone, wait_until

ENV = {"PATH": os.environ.get("PATH", "")}


def _gone(pid: int, within_s: float = 10.0) -> bool:
    try:
        wait_until(lambda: process_gone(pid), f"process {pid} to end", within_s)
    except AssertionError:
        return False
    return True


def test_lines_exit_code_and_group() -> None:
    lines: list[str] = []
    code = (
        "import os,sys; print('a'); print('b', file=sys.stderr); print(os.getpgid(0)); sys.exit(4)"
    )

    async def main() -> tuple[int, int | None]:
        process = await spawn_local([sys.executable, "-c", code], None, ENV, lines.append, 512)
        return await process.wait(), process.pid

    returncode, pid = asyncio.run(main())
    assert returncode == 4
    assert sorted(lines) == sorted(["a", "b", str(pid)])  # the runtime leads its own group


def test_long_and_unterminated_lines() -> None:
    lines: list[str] = []
    code = "import sys; sys.stdout.write('x' * 300000 + '\\nlast'); sys.stdout.flush()"

    async def main() -> None:
        process = await spawn_local([sys.executable, "-c", code], None, ENV, lines.append, 512)
        await process.wait()

    asyncio.run(main())
    assert "".join(lines[:-1]) == "x" * 300000 and len(lines) == 3
    assert lines[-1] == "last"


def test_terminate_and_kill_reach_the_whole_group() -> None:
    code = textwrap.dedent(
        """
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(child.pid, flush=True)
        time.sleep(60)
        """
    )
    lines: list[str] = []

    async def main() -> int:
        process = await spawn_local([sys.executable, "-c", code], None, ENV, lines.append, 512)
        await eventually(lambda: bool(lines), "the child's pid line")
        process.terminate()
        returncode = await process.wait()
        process.kill()  # harmless once gone
        return returncode

    assert asyncio.run(main()) == -signal.SIGTERM
    assert _gone(int(lines[0]))


def test_missing_executable_raises_process_start_error() -> None:
    async def main() -> None:
        await spawn_local(["/no/such/bootstrap"], None, ENV, print, 512)

    with pytest.raises(ProcessStartError, match="expected an executable bootstrap"):
        asyncio.run(main())


def test_memory_is_measured() -> None:
    code = (
        "import time; b = bytearray(80 * 1024 * 1024); print('ready', flush=True); time.sleep(30)"
    )
    lines: list[str] = []

    async def main() -> tuple[int, int]:
        process = await spawn_local([sys.executable, "-c", code], None, ENV, lines.append, 1024)
        try:
            await eventually(lambda: bool(lines), "the child's 'ready' line")
            return process.memory_used_mb(), process.peak_memory_mb()
        finally:
            process.kill()
            await process.wait()

    current, peak = asyncio.run(main())
    assert 80 <= current < 150 and peak >= current


def test_children_die_when_the_emulator_is_sigkilled() -> None:
    emulator = textwrap.dedent(
        """
        import asyncio, os, sys
        from lambdarig.rie_server.environments.supervisor import spawn_local

        async def main():
            process = await spawn_local(
                [sys.executable, "-c", "import time; time.sleep(60)"], None,
                {"PATH": os.environ.get("PATH", "")}, print, 512)
            print(process.pid, flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", emulator], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        runtime_pid = int(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
        assert _gone(runtime_pid), "the runtime outlived its SIGKILLed emulator"
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_failing_output_consumer_does_not_block_the_runtime(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []

    def consumer(line: str) -> None:
        seen.append(line)
        raise ValueError("consumer bug")

    # far more than a pipe buffer: a dead pump would leave the child blocked on write
    code = "for i in range(3000): print('line', i, '.' * 100)\n"

    async def main() -> int:
        process = await spawn_local([sys.executable, "-c", code], None, ENV, consumer, 512)
        return await asyncio.wait_for(process.wait(), timeout=20)

    assert asyncio.run(main()) == 0
    assert len(seen) == 3000 and seen[-1].startswith("line 2999 ")
    assert caplog.text.count("output consumer failed") == 1
