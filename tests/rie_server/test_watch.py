from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.environments.environment import (
    InvokeOutcome,
    InvokeRequest,
    OutcomeKind,
)
from lambdarig.rie_server.environments.pool import (
    EnvironmentPool,
    WarmPlan,
    warm_plan,
)
from lambdarig.rie_server.watch import (
    CodeWatcher,
    change_notice,
    changed_paths,
    ignored_dir,
    ignored_file,
    reinitialise,
    snapshot,
)
from lambdarig.runtime_api import INIT_MANAGED, INIT_ON_DEMAND, INIT_PROVISIONED
from tests.rie_server.environments.test_pool import SPEC, Recorder, until
from tests.rie_server.fake_environment import FakeFactory

T = TypeVar("T")
FAST = {"interval_s": 0.02, "debounce_s": 0.02}
DEADLINE_S = 10.0


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(scenario())


class Changes:
    """An ``on_change`` that records each batch; ``next()`` waits for one with a deadline."""

    def __init__(self) -> None:
        self.batches: asyncio.Queue[list[Path]] = asyncio.Queue()
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.finished: list[list[Path]] = []

    async def __call__(self, changed: list[Path]) -> None:
        self.batches.put_nowait(changed)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        self.finished.append(changed)

    async def next(self) -> list[Path]:
        return await asyncio.wait_for(self.batches.get(), DEADLINE_S)


@pytest.fixture
def code(tmp_path: Path) -> Path:
    root = tmp_path / "code"
    (root / "pkg").mkdir(parents=True)
    (root / "app.py").write_text("v = 1\n")
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    return root


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        ("app.py", False),
        ("requirements.txt", False),
        ("app.cpython-312.pyc", True),
        ("app.pyo", True),
        (".app.py.swp", True),
        (".#app.py", True),
        ("#app.py#", True),
        ("app.py~", True),
        ("4913", True),
        ("app.py___jb_tmp___", True),
        (".env", True),
    ],
)
def test_ignored_files(name: str, ignored: bool) -> None:
    assert ignored_file(name) is ignored


@pytest.mark.parametrize(
    ("name", "ignored"),
    [("pkg", False), ("__pycache__", True), (".git", True), (".venv", True)],
)
def test_ignored_dirs(name: str, ignored: bool) -> None:
    assert ignored_dir(name) is ignored


def test_snapshot_lists_code_files_and_skips_caches_and_temporaries(code: Path) -> None:
    (code / "__pycache__").mkdir()
    (code / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"\0")
    (code / ".git").mkdir()
    (code / ".git" / "HEAD").write_text("ref\n")
    (code / ".app.py.swp").write_text("swap")
    (code / "dangling").symlink_to(code / "nowhere")
    layer = code.parent / "layer.zip"
    layer.write_bytes(b"PK")
    found = snapshot([code, layer, code.parent / "missing"])
    assert sorted(found) == [code / "app.py", code / "pkg" / "mod.py", layer]
    info = (code / "app.py").stat()
    assert found[code / "app.py"] == (info.st_mtime_ns, info.st_size, info.st_ino)


def test_changed_paths_reports_added_removed_and_modified() -> None:
    a, b, c, d = (Path(name) for name in "abcd")
    before = {a: (1, 1, 1), b: (1, 1, 1), c: (1, 1, 1)}
    after = {a: (1, 1, 1), b: (2, 1, 1), d: (1, 1, 1)}
    assert changed_paths(before, after) == {b, c, d}
    assert changed_paths(before, dict(before)) == set()


def test_change_notice_is_one_line_with_the_first_path(tmp_path: Path) -> None:
    one = [tmp_path / "code" / "app.py"]
    assert change_notice(one, base=tmp_path) == (
        "lambdarig: 1 file(s) changed (code/app.py), re-initialising environments"
    )
    many = [tmp_path / "code" / "app.py", tmp_path / "code" / "b.py"]
    assert change_notice(many, base=tmp_path / "code") == (
        "lambdarig: 2 file(s) changed (app.py…), re-initialising environments"
    )
    elsewhere = Path("/elsewhere/app.py")
    assert change_notice([elsewhere], base=tmp_path) == (
        "lambdarig: 1 file(s) changed (/elsewhere/app.py), re-initialising environments"
    )
    with pytest.raises(ValueError, match="expected at least one changed path, got none"):
        change_notice([])


def test_watcher_reports_an_edit_a_new_file_and_a_removal(code: Path) -> None:
    async def scenario() -> list[list[Path]]:
        changes = Changes()
        watcher = CodeWatcher([code], changes, **FAST)
        await watcher.start()
        try:
            (code / "app.py").write_text("v = 2  # edited\n")
            edited = await changes.next()
            (code / "pkg" / "new.py").write_text("n = 1\n")
            added = await changes.next()
            (code / "pkg" / "mod.py").unlink()
            removed = await changes.next()
        finally:
            await watcher.stop()
        return [edited, added, removed]

    assert run(scenario) == [
        [code / "app.py"],
        [code / "pkg" / "new.py"],
        [code / "pkg" / "mod.py"],
    ]


def test_a_burst_of_writes_is_one_batch_and_ignored_writes_are_not_reported(code: Path) -> None:
    async def scenario() -> list[Path]:
        changes = Changes()
        watcher = CodeWatcher([code], changes, **FAST)
        await watcher.start()
        try:
            # Ignored writes first: were they noticed, they would be in this batch or an earlier.
            (code / "__pycache__").mkdir()
            (code / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"\0\0")
            (code / ".app.py.swp").write_text("swap")
            (code / "app.py~").write_text("backup")
            (code / "app.py").write_text("v = 2  # edited\n")
            (code / "pkg" / "mod.py").write_text("x = 2  # edited\n")
            return await changes.next()
        finally:
            await watcher.stop()

    assert run(scenario) == [code / "app.py", code / "pkg" / "mod.py"]


def test_a_watched_file_and_a_root_created_later_are_reported(tmp_path: Path) -> None:
    layer = tmp_path / "layer.zip"
    later = tmp_path / "later"

    async def scenario() -> list[Path]:
        changes = Changes()
        watcher = CodeWatcher([layer, later], changes, **FAST)
        await watcher.start()
        try:
            later.mkdir()
            (later / "m.py").write_text("m = 1\n")
            layer.write_bytes(b"PK\x05\x06")
            return await changes.next()
        finally:
            await watcher.stop()

    assert run(scenario) == sorted([layer, later / "m.py"])


def test_calls_never_overlap_and_changes_made_meanwhile_come_next(code: Path) -> None:
    async def scenario() -> tuple[list[list[Path]], list[Path]]:
        changes = Changes()
        changes.gate = asyncio.Event()
        watcher = CodeWatcher([code], changes, **FAST)
        await watcher.start()
        try:
            (code / "app.py").write_text("v = 2  # edited\n")
            await changes.next()
            (code / "pkg" / "mod.py").write_text("x = 2  # edited meanwhile\n")
            # Not a readiness wait: ten polling intervals in which an overlapping call would start.
            await asyncio.sleep(10 * FAST["interval_s"])
            assert changes.batches.empty()
            changes.gate.set()
            second = await changes.next()
        finally:
            await watcher.stop()
        return changes.finished, second

    finished, second = run(scenario)
    assert second == [code / "pkg" / "mod.py"]
    assert finished == [[code / "app.py"], [code / "pkg" / "mod.py"]]


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def watch_log() -> Iterator[list[logging.LogRecord]]:
    handler = Records()
    logger = logging.getLogger("lambdarig.rie_server.watch")
    level = logger.level
    logger.setLevel(logging.ERROR)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_failing_reaction_is_logged_and_watching_goes_on(
    code: Path, watch_log: list[logging.LogRecord]
) -> None:
    # Queues are made inside the running loop: Python 3.9 binds them to the loop at creation.
    calls: list[asyncio.Queue[list[Path]]] = []
    seen: list[list[Path]] = []

    async def on_change(changed: list[Path]) -> None:
        seen.append(changed)
        calls[0].put_nowait(changed)
        if len(seen) == 1:
            raise OSError("address in use")

    async def scenario() -> list[list[Path]]:
        calls.append(asyncio.Queue())
        watcher = CodeWatcher([code], on_change, **FAST)
        await watcher.start()
        try:
            (code / "app.py").write_text("v = 2  # edited\n")
            first = await asyncio.wait_for(calls[0].get(), DEADLINE_S)
            (code / "pkg" / "mod.py").write_text("x = 2  # edited\n")
            second = await asyncio.wait_for(calls[0].get(), DEADLINE_S)
        finally:
            await watcher.stop()
        return [first, second]

    assert run(scenario) == [[code / "app.py"], [code / "pkg" / "mod.py"]]
    assert [record.getMessage() for record in watch_log] == [
        "reacting to 1 changed file(s) failed: OSError: address in use"
    ]


def test_stop_lets_a_reaction_in_progress_finish(code: Path) -> None:
    async def scenario() -> list[list[Path]]:
        changes = Changes()
        changes.gate = asyncio.Event()
        watcher = CodeWatcher([code], changes, **FAST)
        await watcher.start()
        (code / "app.py").write_text("v = 2  # edited\n")
        await changes.next()
        stopping = asyncio.ensure_future(watcher.stop())
        await asyncio.sleep(0)
        assert not stopping.done()
        changes.gate.set()
        await asyncio.wait_for(stopping, DEADLINE_S)
        return changes.finished

    assert run(scenario) == [[code / "app.py"]]


def test_start_twice_is_refused_and_stop_is_idempotent(code: Path) -> None:
    async def scenario() -> None:
        watcher = CodeWatcher([code], Changes(), **FAST)
        await watcher.stop()
        await watcher.start()
        with pytest.raises(RuntimeError, match="expected a stopped CodeWatcher"):
            await watcher.start()
        await watcher.stop()
        await watcher.stop()
        await watcher.start()  # restartable after stop
        await watcher.stop()

    run(scenario)


def test_paths_are_absolute_and_bad_timings_are_refused(tmp_path: Path) -> None:
    async def ignore(changed: list[Path]) -> None:
        """No event loop runs here, so no asyncio primitive may be created (3.9 binds them)."""

    watcher = CodeWatcher([Path("relative")], ignore)
    assert watcher.paths == (Path.cwd() / "relative",)
    with pytest.raises(ValueError, match="expected interval_s > 0 and debounce_s >= 0, got 0"):
        CodeWatcher([tmp_path], ignore, interval_s=0)
    with pytest.raises(ValueError, match="got 0.3 and -1"):
        CodeWatcher([tmp_path], ignore, debounce_s=-1)


@pytest.mark.parametrize(
    ("fields", "plan"),
    [
        ({}, WarmPlan(1, INIT_ON_DEMAND)),
        ({"lazy_init": True}, WarmPlan(0, INIT_ON_DEMAND)),
        ({"provisioned": 3}, WarmPlan(3, INIT_PROVISIONED)),
        ({"provisioned": 3, "lazy_init": True}, WarmPlan(3, INIT_PROVISIONED)),
        ({"managed_concurrency": 4}, WarmPlan(1, INIT_MANAGED)),
    ],
)
def test_warm_plan_matches_start_up(fields: dict[str, object], plan: WarmPlan) -> None:
    config = EmulatorConfig(command=("bootstrap",), **fields)  # type: ignore[arg-type]
    assert warm_plan(config) == plan


class FakePool:
    def __init__(self, environments: int) -> None:
        self.environments = environments
        self.calls: list[tuple[object, ...]] = []

    async def retire(self, grace_s: float = 2.0) -> int:
        self.calls.append(("retire", grace_s))
        retired, self.environments = self.environments, 0
        return retired

    async def prewarm(self, count: int, initialization_type: str = INIT_ON_DEMAND) -> None:
        self.calls.append(("prewarm", count, initialization_type))
        self.environments += count


def test_reinitialise_retires_everything_then_prewarms_the_plan() -> None:
    pool = FakePool(environments=3)
    retired = run(lambda: reinitialise(pool, WarmPlan(2, INIT_PROVISIONED), grace_s=0.5))
    assert retired == 3
    assert pool.calls == [("retire", 0.5), ("prewarm", 2, INIT_PROVISIONED)]
    assert pool.environments == 2


def test_reinitialise_with_lazy_init_creates_nothing_up_front() -> None:
    pool = FakePool(environments=1)
    assert run(lambda: reinitialise(pool, WarmPlan(0, INIT_ON_DEMAND))) == 1
    assert pool.calls == [("retire", 2.0)]
    assert pool.environments == 0


def test_a_change_drives_notice_and_reinitialise_like_the_emulator_hook(
    code: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The wiring the emulator uses: print the notice on stderr, then reinitialise the pool."""
    pool = FakePool(environments=2)
    done: list[asyncio.Queue[int]] = []  # made inside the loop (3.9 binds queues at creation)

    async def on_change(changed: list[Path]) -> None:
        print(change_notice(changed, base=code), file=sys.stderr, flush=True)
        done[0].put_nowait(await reinitialise(pool, WarmPlan(1, INIT_ON_DEMAND)))

    async def scenario() -> int:
        done.append(asyncio.Queue())
        watcher = CodeWatcher([code], on_change, **FAST)
        await watcher.start()
        try:
            (code / "app.py").write_text("v = 2  # edited\n")
            return await asyncio.wait_for(done[0].get(), DEADLINE_S)
        finally:
            await watcher.stop()

    assert run(scenario) == 2
    assert capsys.readouterr().err == (
        "lambdarig: 1 file(s) changed (app.py), re-initialising environments\n"
    )
    assert pool.calls == [("retire", 2.0), ("prewarm", 1, INIT_ON_DEMAND)]


# --- reinitialise against the real EnvironmentPool (fake environments) -----------------------


def invocation(n: int) -> InvokeRequest:
    return InvokeRequest(request_id=f"req-{n}", payload=b"{}")


def test_idle_environments_stop_and_the_plan_is_prewarmed_under_new_ids() -> None:
    factory = FakeFactory()

    async def scenario() -> tuple[int, list[str]]:
        pool = EnvironmentPool(SPEC, factory, Recorder(), max_environments=3)
        await pool.prewarm(2, INIT_PROVISIONED)
        retired = await reinitialise(pool, WarmPlan(2, INIT_PROVISIONED))
        assert [env.stopped for env in factory.created] == [True, True, False, False]
        assert pool.environment_count == 2
        await pool.invoke(invocation(1))
        await pool.stop()
        return retired, [env.env_id for env in factory.created]

    retired, ids = run(scenario)
    assert retired == 2
    assert ids == ["env-1", "env-2", "env-3", "env-4"]  # ids are never reused
    old, new = factory.created[:2], factory.created[2:]
    assert [len(env.invokes) for env in old + new] == [0, 0, 1, 0]
    types = {env.spec.env["AWS_LAMBDA_INITIALIZATION_TYPE"] for env in new}
    assert types == {INIT_PROVISIONED}
    # The old environments stopped first, so a new one holds the configured address again.
    assert [env.spec.runtime_api_address for env in new] == ["127.0.0.1:9001", "127.0.0.1:0"]


def test_a_busy_environment_finishes_its_invocation_then_stops() -> None:
    factory = FakeFactory(hold=True)

    async def scenario() -> InvokeOutcome:
        pool = EnvironmentPool(SPEC, factory, Recorder(), max_environments=2)
        running = asyncio.ensure_future(pool.invoke(invocation(1)))
        await until(lambda: pool.in_flight == 1)
        busy = factory.created[0]
        assert await reinitialise(pool, WarmPlan(1, INIT_ON_DEMAND)) == 1
        assert not busy.stopped and not running.done()
        fresh = factory.created[1]
        fresh.release()
        await pool.invoke(invocation(2))  # the new code answers while the old one still runs
        assert [len(env.invokes) for env in factory.created] == [1, 1]
        # The old environment held the configured address: the new one got another port.
        assert fresh.spec.runtime_api_address == "127.0.0.1:0"
        busy.release()
        outcome = await running
        await until(lambda: busy.stopped)
        assert not fresh.stopped
        await pool.stop()
        return outcome

    assert run(scenario).kind is OutcomeKind.SUCCESS
    assert len(factory.created) == 2


def test_stop_also_stops_retired_environments_still_busy() -> None:
    factory = FakeFactory(hold=True)

    async def scenario() -> None:
        pool = EnvironmentPool(SPEC, factory, Recorder())
        running = asyncio.ensure_future(pool.invoke(invocation(1)))
        await until(lambda: pool.in_flight == 1)
        await reinitialise(pool, WarmPlan(0, INIT_ON_DEMAND))
        await pool.stop()
        await running

    run(scenario)
    assert [env.stopped for env in factory.created] == [True]


def test_a_queued_event_invocation_gets_a_fresh_environment_after_retire() -> None:
    factory = FakeFactory(hold=True)

    async def scenario() -> None:
        pool = EnvironmentPool(SPEC, factory, Recorder(), max_environments=1)
        running = asyncio.ensure_future(pool.invoke(invocation(1)))
        await until(lambda: pool.in_flight == 1)
        queued = asyncio.ensure_future(pool.invoke(invocation(2), wait=True))
        await until(lambda: len(factory.created[0].invokes) == 1)
        await reinitialise(pool, WarmPlan(0, INIT_ON_DEMAND))
        await until(lambda: len(factory.created) == 2 and factory.created[1].in_flight == 1)
        factory.release_all()
        await asyncio.gather(running, queued)
        await pool.stop()

    run(scenario)
    assert [[r.request_id for r in env.invokes] for env in factory.created] == [
        ["req-1"],
        ["req-2"],
    ]
