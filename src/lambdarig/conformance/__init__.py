"""The conformance kit: Lambda Runtime API behaviours any runtime must show, checked black-box.

A runtime author supplies a command that runs their runtime with the *conformance handler*
(behaviour defined in ``reference/conformance_handler.py``; that file is the Python version).
:func:`run_kit` starts lambdarig's emulator in front of it and runs every :data:`CASES` entry::

    settings = HarnessSettings.from_environ(os.environ)
    report = run_kit(["python", "-m", "lambdarig.runtime_client", "{handler}"], settings=settings)
    print(report.table())

CLI: ``lambdarig conformance --runtime CMD [--only NAME,...] [--streaming]``.

The response-streaming cases (:data:`STREAMING_CASES`) are opt-in (``streaming=True``): the
runtime then talks to the kit's own recording Runtime API, which sees chunk boundaries, arrival
times and trailers as the runtime wrote them (a caller of the emulator sees event-stream payload
events instead).

Errors are :mod:`lambdarig.testing`'s (this package adds none): :func:`select_cases` raises
``HarnessConfigError`` for an unknown case name and :func:`run_kit` ``LeakError`` if an emulator
outlives it; a runtime that misbehaves is never an exception, only differences in the report.
"""

from __future__ import annotations

from lambdarig.conformance.cases import CASES, Case, Environment
from lambdarig.conformance.kit import (
    REFERENCE_DIR,
    REFERENCE_HANDLER,
    CaseResult,
    KitReport,
    run_kit,
    select_cases,
)
from lambdarig.conformance.streaming_cases import STREAMING_CASES

__all__ = [
    "CASES",
    "REFERENCE_DIR",
    "REFERENCE_HANDLER",
    "STREAMING_CASES",
    "Case",
    "CaseResult",
    "Environment",
    "KitReport",
    "run_kit",
    "select_cases",
]
