"""An in-process stand-in for ``environment.Environment`` (the pool's and emulator's unit tests).

Invocations are held until the test releases them (``release``), so a test controls exactly how
many are in flight; the payload ``b'"crash"'`` or ``b'"error"'`` picks the outcome kind.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.environments.environment import (
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
    OutcomeKind,
)

# An emulator whose environments are fakes: the command is never run.
CONFIG = EmulatorConfig(
    command=(sys.executable,),
    invoke_host="127.0.0.1",
    invoke_port=0,
    runtime_api_address="127.0.0.1:0",
    timeout_s=3.0,
    memory_mb=128,
)


def outcome(kind: OutcomeKind, body: bytes = b"", **fields: object) -> InvokeOutcome:
    values: dict[str, object] = {
        "content_type": "application/json",
        "error_type": None,
        "error_message": None,
        "duration_ms": 1.5,
        "init_duration_ms": None,
        "max_memory_used_mb": 20,
    }
    values.update(fields)
    return InvokeOutcome(kind, body, **values)  # type: ignore[arg-type]


class FakeEnvironment:
    def __init__(
        self,
        spec: EnvironmentSpec,
        env_id: str,
        on_output: Callable[[str, str], None],
        *,
        hold: bool = False,
        init_error: InvokeOutcome | None = None,
    ) -> None:
        self.spec = spec
        self.env_id = env_id
        self.on_output = on_output
        self.hold = hold
        self.init_error = init_error
        self.starts = 0
        self.invokes: list[InvokeRequest] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.stopped = False
        self._initialized = False
        self._gate = asyncio.Event()

    @property
    def initialized(self) -> bool:
        return self._initialized

    def release(self) -> None:
        self._gate.set()

    async def start(self) -> InvokeOutcome | None:
        self.starts += 1
        await asyncio.sleep(0)
        if self.init_error is not None:
            return self.init_error
        self._initialized = True
        return None

    async def invoke(self, request: InvokeRequest) -> InvokeOutcome:
        self.invokes.append(request)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        first = not self._initialized or len(self.invokes) == 1
        self._initialized = True
        try:
            self.on_output(self.env_id, f"handling {request.request_id}")
            if self.hold:
                await self._gate.wait()
            if request.payload == b'"emulator-failure"':  # e.g. a re-init that cannot spawn
                raise OSError("expected a runtime process, got none")
            return self._outcome(request, first)
        finally:
            self.in_flight -= 1

    def _outcome(self, request: InvokeRequest, first: bool) -> InvokeOutcome:
        init_ms = 10.0 if first else None
        if self.init_error is not None:
            return self.init_error
        if request.payload == b'"crash"':
            message = (
                f"RequestId: {request.request_id} Error: Runtime exited with error: exit status 1"
            )
            return outcome(
                OutcomeKind.CRASH,
                error_type="Runtime.ExitError",
                error_message=message,
                init_duration_ms=init_ms,
            )
        if request.payload == b'"error"':
            body = b'{"errorMessage":"boom","errorType":"ValueError"}'
            return outcome(OutcomeKind.FUNCTION_ERROR, body, init_duration_ms=init_ms)
        return outcome(OutcomeKind.SUCCESS, request.payload, init_duration_ms=init_ms)

    async def stop(self, grace_s: float = 2.0) -> None:
        self.stopped = True
        self._gate.set()


class FakeFactory:
    """Builds ``FakeEnvironment``s and remembers them; ``on_output`` is wired by the caller."""

    def __init__(self, *, hold: bool = False, init_error: InvokeOutcome | None = None) -> None:
        self.hold = hold
        self.init_error = init_error
        self.created: list[FakeEnvironment] = []
        self.on_output: Callable[[str, str], None] = lambda env_id, line: None

    def __call__(self, spec: EnvironmentSpec, env_id: str) -> FakeEnvironment:
        env = FakeEnvironment(
            spec, env_id, self.on_output, hold=self.hold, init_error=self.init_error
        )
        self.created.append(env)
        return env

    def release_all(self) -> None:
        for env in self.created:
            env.release()
