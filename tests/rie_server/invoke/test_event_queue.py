"""``EventQueue``: Event invocations owned while they run, a failure logged in one line, all of
them cancelled at stop."""

from __future__ import annotations

import asyncio

from lambdarig.rie_server.environments.outcomes import InvokeRequest
from lambdarig.rie_server.invoke.async_invocations import EventResult
from lambdarig.rie_server.invoke.event_queue import EventQueue


def test_an_invocation_is_pending_until_it_ends() -> None:
    async def main() -> None:
        release = asyncio.Event()
        seen: list[str] = []

        async def attempt(request: InvokeRequest) -> EventResult:
            seen.append(request.request_id)
            await release.wait()
            return EventResult("Success", 1, None)

        queue = EventQueue(attempt, seen.append)
        queue.put(InvokeRequest(request_id="r1", payload=b"{}"))
        assert queue.pending == 1
        await asyncio.sleep(0)  # the attempt starts
        assert seen == ["r1"]
        release.set()
        while queue.pending:
            await asyncio.sleep(0)
        assert seen == ["r1"]  # nothing logged for an invocation that ended

    asyncio.run(main())


def test_a_failing_attempt_is_one_line_without_control_characters() -> None:
    async def main() -> list[str]:
        lines: list[str] = []

        async def attempt(request: InvokeRequest) -> EventResult:
            raise OSError("no environment\nforged line")

        queue = EventQueue(attempt, lines.append)
        queue.put(InvokeRequest(request_id="r1", payload=b"{}"))
        while queue.pending:
            await asyncio.sleep(0)
        return lines

    lines = asyncio.run(main())
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0].startswith("lambdarig-rie: Event invocation failed: no environment")


def test_cancel_drops_every_invocation_still_waiting() -> None:
    async def main() -> tuple[int, list[str]]:
        lines: list[str] = []

        async def attempt(request: InvokeRequest) -> EventResult:
            await asyncio.sleep(3600)  # a retry far away
            raise AssertionError("never reached")

        queue = EventQueue(attempt, lines.append)
        for n in range(3):
            queue.put(InvokeRequest(request_id=f"r{n}", payload=b"{}"))
        await asyncio.sleep(0)
        await queue.cancel()
        return queue.pending, lines

    assert asyncio.run(main()) == (0, [])  # cancelled, not failed: nothing logged
