"""Run the conformance cases against a runtime command and collect a table of results."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lambdarig.conformance.cases import CASES, FUNCTION_NAME, INIT_FAILS, Case, Environment
from lambdarig.conformance.recorder import RecordingRuntimeAPI
from lambdarig.conformance.streaming_cases import STREAMING_CASES
from lambdarig.testing import (
    FunctionSpec,
    HarnessConfigError,
    HarnessError,
    HarnessSettings,
    LambdaFunction,
    ProcessRegistry,
)

REFERENCE_DIR = Path(__file__).parent / "reference"
REFERENCE_HANDLER = "conformance_handler.handler"
# Our emulator answers like the service (X-Amz-Function-Error, Sandbox.Timedout JSON).
EMULATOR_ARGS = ("--compat", "service")
OUTPUT_TAIL_LINES = 20
# Platform lines in the text log format; the runtime's own output is everything else.
_PLATFORM_PREFIXES = ("START RequestId: ", "END RequestId: ", "REPORT RequestId: ", "INIT_")


@dataclass(frozen=True)
class CaseResult:
    """One case's outcome: ``differences`` lists what Lambda requires vs what came back."""

    name: str
    behaviour: str
    differences: tuple[str, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        """True when no difference was found."""
        return not self.differences


@dataclass(frozen=True)
class KitReport:
    """Every selected case's result, in :data:`CASES` order; ``runtime_output``: the runtime's last
    output lines before its first failed init, if one failed (a runtime that crashes at import
    fails every case with only an exit status; this says why, once)."""

    results: tuple[CaseResult, ...]
    runtime_output: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every case passed."""
        return all(result.passed for result in self.results)

    @property
    def failed(self) -> list[str]:
        """Names of the cases that failed."""
        return [result.name for result in self.results if not result.passed]

    def table(self) -> str:
        """A plain-text table: one row per behaviour, the differences under each failure."""
        width = max([len(r.name) for r in self.results] + [len("behaviour")])
        rows = []
        if self.runtime_output:
            rows.append("the runtime failed to initialise; its last output lines were:")
            rows += [f"    {line}" for line in self.runtime_output]
        rows.append(f"{'result':6}  {'behaviour':{width}}  checks")
        for result in self.results:
            mark = "PASS" if result.passed else "FAIL"
            rows.append(f"{mark:6}  {result.name:{width}}  {result.behaviour}")
            rows += [f"{'':6}  {'':{width}}  - {diff}" for diff in result.differences]
        failed = len(self.failed)
        rows.append(
            f"{len(self.results)} behaviours: {len(self.results) - failed} passed, {failed} failed"
        )
        return "\n".join(rows)


def select_cases(only: Sequence[str] | None = None, streaming: bool = False) -> list[Case]:
    """The cases named in ``only`` (any of :data:`CASES` and :data:`STREAMING_CASES`); when it
    is empty, all of :data:`CASES`, plus :data:`STREAMING_CASES` with ``streaming``. Unknown
    names raise HarnessConfigError."""
    every = CASES + STREAMING_CASES
    if not only:
        return list(every if streaming else CASES)
    known = {case.name: case for case in every}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise HarnessConfigError(
            f"expected case names among {', '.join(known)}; got unknown {', '.join(unknown)}"
        )
    return [case for case in every if case.name in only]


def run_kit(
    runtime: Sequence[str],
    only: Sequence[str] | None = None,
    settings: HarnessSettings | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
    streaming: bool = False,
) -> KitReport:
    """Run the selected cases (see :func:`select_cases`) against ``runtime`` (a command;
    ``{handler}`` is replaced by the reference handler name, and ``_HANDLER`` carries it too).
    Blocks; starts one emulator (or recording Runtime API) per environment and stops it before
    returning. Raises :class:`LeakError` if one outlives it.
    """
    settings = settings or HarnessSettings()
    registry = ProcessRegistry()
    cases = select_cases(only, streaming)
    results: dict[str, CaseResult] = {}
    runtime_output: list[str] = []
    environments: list[Environment] = []
    for case in cases:
        if case.environment not in environments:
            environments.append(case.environment)
    for environment in environments:
        batch = [case for case in cases if case.environment == environment]
        if environment.recorded:
            done = _run_recorded(runtime, environment, batch, settings, registry)
        else:
            done, output = _run_environment(runtime, environment, batch, settings, registry)
            runtime_output = runtime_output or output
        for result in done:
            results[result.name] = result
            if on_result is not None:
                on_result(result)
    registry.check()
    return KitReport(tuple(results[case.name] for case in cases), tuple(runtime_output))


def init_failure_output(lines: Sequence[str], keep: int = OUTPUT_TAIL_LINES) -> list[str]:
    """The last ``keep`` lines the runtime printed before the first failed ``INIT_REPORT`` in an
    emulator's output ``lines`` (text or JSON log format); empty when no init failed."""
    before: list[str] = []
    for line in lines:
        if _is_failed_init(line):
            return before[-keep:]
        if not line.startswith(_PLATFORM_PREFIXES) and '"type":"platform.' not in line:
            before.append(line)
    return []


def _is_failed_init(line: str) -> bool:
    if line.startswith("INIT_REPORT "):
        return "\tStatus: error" in line
    if '"type":"platform.initReport"' not in line:
        return False
    try:
        record = json.loads(line).get("record", {})
    except (ValueError, AttributeError):
        return False
    return isinstance(record, dict) and record.get("status") == "error"


def _spec(
    runtime: Sequence[str], environment: Environment, settings: HarnessSettings
) -> FunctionSpec:
    return FunctionSpec.build(
        REFERENCE_HANDLER,
        code=REFERENCE_DIR,
        env=dict(environment.env),
        timeout=environment.timeout,
        runtime=list(runtime),
        name=FUNCTION_NAME,
        emulator_args=() if settings.is_aws_rie else EMULATOR_ARGS,
    )


def _run_environment(
    runtime: Sequence[str],
    environment: Environment,
    cases: list[Case],
    settings: HarnessSettings,
    registry: ProcessRegistry,
) -> tuple[list[CaseResult], list[str]]:
    """Run ``cases`` in one emulator; returns their results and, if the runtime failed to
    initialise during a failed case, its output before that (see ``init_failure_output``)."""
    fn = LambdaFunction(_spec(runtime, environment, settings), settings, registry)
    out: list[CaseResult] = []
    runtime_output: list[str] = []
    try:
        for case in cases:
            started = time.monotonic()
            try:
                fn.reset()  # starts it the first time, restarts it if a case crashed it
                differences = case.check(fn)
                fn.check()
            except HarnessError as exc:
                differences = [f"{type(exc).__name__}: {exc}"]
            out.append(
                CaseResult(
                    case.name, case.behaviour, tuple(differences), time.monotonic() - started
                )
            )
            # In INIT_FAILS the init fails on purpose: its output says nothing about a crash.
            if differences and not runtime_output and environment != INIT_FAILS:
                with contextlib.suppress(HarnessError):  # no emulator process: nothing to read
                    runtime_output = init_failure_output(fn.logs)
    finally:
        fn.stop()
    return out, runtime_output


def _run_recorded(
    runtime: Sequence[str],
    environment: Environment,
    cases: list[Case],
    settings: HarnessSettings,
    registry: ProcessRegistry,
) -> list[CaseResult]:
    """Run ``cases`` with the runtime talking to a :class:`RecordingRuntimeAPI` (one runtime
    process for the batch, restarted after a case that ended it)."""
    spec = _spec(runtime, environment, settings)
    command = LambdaFunction(spec, settings, registry).runtime_command()
    env = {
        **settings.base_env,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": str(spec.code),
        **dict(spec.env),
    }
    out: list[CaseResult] = []
    api: RecordingRuntimeAPI | None = None
    try:
        for case in cases:
            started = time.monotonic()
            if api is None or (api.process is not None and api.process.poll() is not None):
                if api is not None:
                    api.stop()
                api = RecordingRuntimeAPI(env, spec.name, spec.timeout).start(command, spec.code)
                if api.process is not None:
                    registry.processes.append(api.process)
            differences = case.check(api)
            out.append(
                CaseResult(
                    case.name, case.behaviour, tuple(differences), time.monotonic() - started
                )
            )
    finally:
        if api is not None:
            api.stop()
    return out
