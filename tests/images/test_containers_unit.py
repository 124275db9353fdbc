"""Pure parts of rie_server.containers (no engine needed)."""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Iterator

from lambdarig.rie_server.environments.container_labels import _owner_alive
from lambdarig.rie_server.environments.container_process import ContainerProcess, _returncode


def test_container_exit_status_maps_to_subprocess_return_codes() -> None:
    assert _returncode(0) == 0
    assert _returncode(3) == 3
    assert _returncode(137) == -9  # SIGKILL (timeouts, OOM kills)
    assert _returncode(143) == -15  # SIGTERM
    assert _returncode(255) == 255


def test_owner_liveness() -> None:
    assert _owner_alive(str(os.getpid()))
    assert not _owner_alive("999999999")
    assert not _owner_alive("not-a-pid")


class _FakeContainer:
    """The docker SDK container surface ContainerProcess uses: ``id``, a log stream fed by the
    test, ``wait`` blocking until the test lets the container exit, ``reload``/``attrs``,
    ``remove``."""

    id = "fake-container"
    attrs = {"State": {"OOMKilled": False}}

    def __init__(self) -> None:
        self.output: queue.Queue[bytes | None] = queue.Queue()
        self.exited = threading.Event()

    def logs(self, stream: bool, follow: bool) -> Iterator[bytes]:
        while (chunk := self.output.get()) is not None:
            yield chunk

    def wait(self) -> dict[str, int]:
        self.exited.wait()
        return {"StatusCode": 0}

    def reload(self) -> None:
        pass  # attrs are fixed

    def remove(self, force: bool) -> None:
        self.finish()

    def finish(self) -> None:
        self.output.put(None)
        self.exited.set()


def test_output_settled_waits_for_a_line_still_on_its_way() -> None:
    """The runtime printed, then answered; the line reaches us through the engine 30 ms later:
    output_settled returns only after it was delivered (and then a quiet period)."""
    container = _FakeContainer()
    lines: list[str] = []

    async def go() -> float:
        process = ContainerProcess(container, lines.append, lambda: None)
        loop = asyncio.get_running_loop()
        loop.call_later(0.03, container.output.put, b"printed before the answer\n")
        started = loop.time()
        await process.output_settled(quiet_s=0.05, limit_s=5.0)
        elapsed = loop.time() - started
        container.finish()
        await process.wait()
        return elapsed

    elapsed = asyncio.run(go())
    assert lines == ["printed before the answer"]
    assert 0.08 <= elapsed < 5.0


def test_output_settled_gives_up_on_endless_output() -> None:
    container = _FakeContainer()

    async def go() -> float:
        process = ContainerProcess(container, lambda _line: None, lambda: None)
        loop = asyncio.get_running_loop()
        chatter = loop.call_soon(lambda: None)

        def chat() -> None:
            nonlocal chatter
            container.output.put(b"tick\n")
            chatter = loop.call_later(0.01, chat)

        chat()
        started = loop.time()
        await process.output_settled(quiet_s=0.05, limit_s=0.3)
        elapsed = loop.time() - started
        chatter.cancel()
        container.finish()
        await process.wait()
        return elapsed

    assert 0.3 <= asyncio.run(go()) < 2.0


def test_flush_output_delivers_the_partial_last_line_in_order() -> None:
    """What a container printed without a final newline is delivered as a line of its own once
    the invocation ends (before its END), after the whole lines that came before it."""
    container = _FakeContainer()
    lines: list[str] = []

    async def go() -> list[str]:
        process = ContainerProcess(container, lines.append, lambda: None)
        container.output.put(b"whole\ntraceback without newline")
        deadline = asyncio.get_running_loop().time() + 5.0
        while not lines and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)  # probe: the pump thread has read the chunk
        await process.flush_output()
        flushed = list(lines)
        container.output.put(b"next\n")
        container.finish()
        await process.wait()
        return flushed

    assert asyncio.run(go()) == ["whole", "traceback without newline"]
    assert lines == ["whole", "traceback without newline", "next"]
