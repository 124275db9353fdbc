"""``delivery._Deadlines``: one lazily re-armed timer ends each wait at its deadline."""

from __future__ import annotations

import asyncio

from lambdarig.rie_server.environments.delivery import _Deadlines
from lambdarig.rie_server.environments.outcomes import Finish, Posted


def test_each_wait_ends_at_its_own_deadline_earliest_first() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        deadlines = _Deadlines()
        late: asyncio.Future[Posted | None] = loop.create_future()
        early: asyncio.Future[Posted | None] = loop.create_future()
        deadlines.add(late, loop.time() + 0.3)
        deadlines.add(early, loop.time() + 0.05)  # earlier than the armed timer: re-armed
        assert await asyncio.wait_for(early, 5) is None
        assert not late.done()  # its deadline is still ahead
        assert await asyncio.wait_for(late, 5) is None

    asyncio.run(scenario())


def test_a_wait_that_ended_is_not_touched_and_later_ones_still_end() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        deadlines = _Deadlines()
        answered: asyncio.Future[Posted | None] = loop.create_future()
        following: asyncio.Future[Posted | None] = loop.create_future()
        deadlines.add(answered, loop.time() + 0.05)
        posted = Posted(Finish.RESPONSE, b"{}")
        answered.set_result(posted)
        deadlines.discard(answered)
        deadlines.add(following, loop.time() + 0.1)  # later: shares the armed timer
        assert await asyncio.wait_for(following, 5) is None
        assert answered.result() is posted

    asyncio.run(scenario())
