"""One summary of a tox run, for a person: per env, passed/failed/skipped; every failed test with
where its log is; every env and test group that was skipped, and why.

The ``summary`` tox env runs it last (``depends`` on every other env). It reads what ``toxfile.py``
left in ``{work_dir}/lambdarig-results/<env>/``: ``run.json`` (exit code, or why the env did not
run) and the pytest JUnit XML files. Only the records of one tox invocation count: the one named by
``$LAMBDARIG_TOX_RUN`` (tox's own process sets it), else the newest.

Under ``CI=true`` a skipped env fails the summary, except a ``pyXY`` env whose Python is not in
``$LAMBDARIG_EXPECT_PYTHONS`` (``.ci/run`` lists the CPythons the machine has, so a Python that is
installed but that tox did not find fails, and one the machine lacks, such as 3.14, does not).

Usage: python tools/tox_summary.py RESULTS_DIR      (exit 0: all passed; 1: something failed)
"""

from __future__ import annotations

import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUN_FILE = "run.json"
MAX_FAILED_SHOWN = 20
MAX_REASONS_SHOWN = 5
_PY_ENV = re.compile(r"py(\d)(\d+)")


@dataclass
class EnvResult:
    name: str
    status: str  # "ran", "skipped" (tox skipped it) or "error" (its set-up failed)
    exit_code: int = 0
    reason: str = ""
    seconds: float = 0.0
    has_tests: bool = False
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    failed_commands: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ran" and self.exit_code == 0 and not self.unreadable

    @property
    def kind(self) -> str:
        """ok, failed or skipped: how the env counts in the summary's last lines."""
        return "ok" if self.ok else "skipped" if self.status == "skipped" else "failed"

    @property
    def verdict(self) -> str:
        if self.status == "skipped":
            return "skipped"
        if self.status == "error":
            return "ERROR"
        return "ok" if self.ok else f"FAIL ({self.exit_code})"


def read_junit(path: Path, result: EnvResult) -> None:
    """Add the test cases of one JUnit XML file (pytest's) to ``result``."""
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        result.has_tests = True
        test_id = _test_id(case)
        problems = [child for child in case if child.tag in ("failure", "error")]
        skipped = case.find("skipped")
        if problems:
            result.failed.append(test_id)
        elif skipped is not None:
            message = skipped.get("message") or skipped.get("type") or "no reason given"
            result.skipped[_one_line(message)] += 1
        else:
            result.passed += 1


def _test_id(case: ET.Element) -> str:
    # pytest writes classname="tests.rie_server.test_pool.TestX" name="test_y[param]".
    classname, name = case.get("classname", ""), case.get("name", "?")
    parts = classname.split(".")
    module = [part for part in parts if not part[:1].isupper()]
    classes = [part for part in parts if part[:1].isupper()]
    path = "/".join(module) + ".py" if module else ""
    return "::".join([path, *classes, name]) if path else name


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 160 else line[:157] + "..."


def read_env(directory: Path, record: Mapping[str, Any]) -> EnvResult:
    result = EnvResult(
        name=str(record.get("env", directory.name)),
        status=str(record.get("status", "error")),
        exit_code=int(record.get("exit_code", 1)),
        reason=str(record.get("reason", "")),
    )
    for command in record.get("commands", []):
        result.seconds += float(command.get("seconds", 0.0))
        if int(command.get("exit_code", 0)) != 0:
            result.failed_commands.append(str(command.get("command", "?")))
    for junit in sorted(directory.glob("*.xml")):
        try:
            read_junit(junit, result)
        except (OSError, ET.ParseError) as exc:
            result.unreadable.append(f"unreadable {junit}: {exc}")
    return result


def load_run(results_dir: Path, run_id: str | None) -> list[EnvResult]:
    """The results of one tox invocation: ``run_id``'s, else the newest (ids sort by start time)."""
    records: list[tuple[Path, dict[str, Any]]] = []
    for run_file in sorted(results_dir.glob(f"*/{RUN_FILE}")):
        try:
            record = json.loads(run_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("run"), str):
            records.append((run_file.parent, record))
    if not records:
        return []
    wanted = run_id or max(record["run"] for _, record in records)
    return [read_env(directory, record) for directory, record in records if record["run"] == wanted]


def ci_problems(results: Sequence[EnvResult], expected_pythons: set[str]) -> list[str]:
    """Under CI: every env must run, except a pyXY env whose Python the machine does not have."""
    problems = []
    for result in results:
        if result.status != "skipped":
            continue
        match = _PY_ENV.fullmatch(result.name)
        if match is None:
            problems.append(f"{result.name} was skipped under CI=true: {result.reason}")
        elif f"{match[1]}.{match[2]}" in expected_pythons:
            problems.append(
                f"{result.name} was skipped under CI=true, but CPython {match[1]}.{match[2]} is "
                f"installed on this machine: {result.reason}"
            )
    return problems


def render(results: Sequence[EnvResult], work_dir: Path, ci_issues: Sequence[str]) -> str:
    """The summary, ending with the line ``total: N passed, N failed, N skipped``."""
    lines = [f"lambdarig test summary: {len(results)} tox envs (their logs: {work_dir}/ENV/log/)"]
    lines.append(_row("env", "result", "passed", "failed", "skipped", "time"))
    order = sorted(results, key=_sort_key)
    for r in order:
        counts = (
            (str(r.passed), str(len(r.failed)), str(sum(r.skipped.values())))
            if r.has_tests
            else ("-", "-", "-")
        )
        seconds = f"{r.seconds:.0f} s" if r.status == "ran" else "-"
        lines.append(_row(r.name, r.verdict, *counts, seconds))
    for r in order:
        lines.extend(_failure_lines(r, work_dir))
    for r in order:
        lines.extend(_skip_lines(r))
    lines.extend(f"CI: {issue}" for issue in ci_issues)
    passed = sum(r.passed for r in results)
    failed = sum(len(r.failed) for r in results)
    skipped = sum(sum(r.skipped.values()) for r in results)
    envs = Counter(r.kind for r in results)
    lines.append(
        f"envs: {envs['ok']} ok, {envs['failed']} failed, {envs['skipped']} skipped"
        + ("" if not ci_issues else f", {len(ci_issues)} CI problem(s)")
    )
    lines.append(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    return "\n".join(lines)


def _row(env: str, result: str, passed: str, failed: str, skipped: str, time: str) -> str:
    return f"{env:<13} {result:<9} {passed:>7} {failed:>7} {skipped:>8} {time:>7}"


def _sort_key(result: EnvResult) -> tuple[int, int, str]:
    match = _PY_ENV.fullmatch(result.name)
    return (0, int(match[2]), "") if match else (1, 0, result.name)


def _failure_lines(result: EnvResult, work_dir: Path) -> list[str]:
    if result.ok or result.status == "skipped":
        return []
    log = f"{work_dir}/{result.name}/log/"
    if result.status == "error":
        return [f"FAILED {result.name}: {result.reason} (log: {log})"]
    lines = [f"FAILED {result.name} {test}" for test in result.failed[:MAX_FAILED_SHOWN]]
    if len(result.failed) > MAX_FAILED_SHOWN:
        lines.append(f"FAILED {result.name} ... and {len(result.failed) - MAX_FAILED_SHOWN} more")
    lines.extend(f"FAILED {result.name}: {problem}" for problem in result.unreadable)
    if not result.failed and not result.unreadable:
        commands = "; ".join(result.failed_commands) or f"exit code {result.exit_code}"
        lines.append(f"FAILED {result.name}: {commands}")
    lines.append(f"       {result.name}'s output: {log}")
    return lines


def _skip_lines(result: EnvResult) -> list[str]:
    if result.status == "skipped":
        return [f"skipped: {result.name} (the whole env): {result.reason}"]
    reasons = result.skipped.most_common()
    shown, rest = reasons[:MAX_REASONS_SHOWN], reasons[MAX_REASONS_SHOWN:]
    lines = [f"skipped: {result.name}: {n} test(s): {why}" for why, n in shown]
    if rest:
        count = sum(n for _, n in rest)
        lines.append(f"skipped: {result.name}: {count} test(s) for {len(rest)} other reasons")
    return lines


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    if len(argv) != 1:
        print("usage: python tools/tox_summary.py RESULTS_DIR", file=sys.stderr)
        return 2
    results_dir = Path(argv[0])
    results = load_run(results_dir, environ.get("LAMBDARIG_TOX_RUN") or None)
    if not results:
        print(f"tox_summary: no results under {results_dir}: did any tox env run?")
        return 1
    in_ci = environ.get("CI", "").lower() in ("1", "true", "yes")
    expected = set(environ.get("LAMBDARIG_EXPECT_PYTHONS", "").split())
    issues = ci_problems(results, expected) if in_ci else []
    work_dir = _relative(results_dir.parent)
    print(render(results, work_dir, issues))
    return 0 if all(r.ok or r.status == "skipped" for r in results) and not issues else 1


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
