"""Run the same cases through awslambdaric (side "ric") or lambdarig (side "ours"), in a child.

Imported by tests for :func:`probe`, which runs :mod:`probe_child` with the awslambdaric
interpreter (with ``src`` on ``PYTHONPATH``), so both sides run on the very same Python. A case is a dict with an
``op`` and Python expressions (strings) for values JSON cannot carry (Decimal, bytes, sets...).
The child prints one JSON document: the list of results, one per case.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[3] / "src"
HANDLERS = Path(__file__).resolve().parent
CHILD = HANDLERS / "probe_child.py"


def probe(
    python: Path,
    side: str,
    cases: list[dict[str, Any]],
    env: dict[str, str] | None = None,
    extra_path: Path | None = None,
) -> tuple[list[Any], str]:
    """Run ``cases`` on ``side`` in a fresh ``python`` child: (one result per case, its output).

    ``extra_path`` is put first on the child's ``sys.path`` (for modules a test writes itself).
    """
    path = f"{extra_path}:{SRC}:{HANDLERS}" if extra_path else f"{SRC}:{HANDLERS}"
    child_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": path}
    child_env.update(env or {})
    done = subprocess.run(
        [str(python), str(CHILD), side],
        input=json.dumps(cases).encode(),
        env=child_env,
        cwd=HANDLERS,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"probe child failed ({done.returncode}): {done.stderr.decode()}")
    output, _, results = done.stdout.decode().rpartition("\n@@RESULTS@@\n")
    return json.loads(results), output


_STAMPS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")


def assert_same_as_awslambdaric(
    python: Path,
    cases: list[dict[str, Any]],
    env: dict[str, str] | None = None,
    extra_path: Path | None = None,
) -> None:
    """Run ``cases`` on both sides; results and per-case log output (timestamps masked) match."""
    theirs, their_output = probe(python, "ric", cases, env, extra_path)
    ours, our_output = probe(python, "ours", cases, env, extra_path)
    for case, expected, actual in zip(cases, theirs, ours):
        assert actual == expected, case
    their_logs = _STAMPS.sub("<ts>", their_output).split("\n@@CASE@@\n")
    our_logs = _STAMPS.sub("<ts>", our_output).split("\n@@CASE@@\n")
    for case, expected_log, actual_log in zip(cases, their_logs, our_logs):
        assert actual_log == expected_log, case


def run_python(code: str, *args: str) -> str:
    """stdout of ``python [args] -c code`` in a child of this interpreter with ``src`` importable."""
    done = subprocess.run(
        [sys.executable, *args, "-c", f"import sys; sys.path.insert(0, {str(SRC)!r})\n{code}"],
        capture_output=True,
        timeout=30,
        check=True,
    )
    return done.stdout.decode()
