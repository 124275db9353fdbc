"""lambdarig's test harness: run a Lambda function behind the emulator from tests.

The pytest plugin (:mod:`lambdarig.testing.plugin`, auto-registered) provides the
``lambda_function`` factory fixture and the ``lambda_fn`` fixture for
``@pytest.mark.lambda_function(...)``. Outside pytest, use :class:`LambdaFunction` directly::

    with LambdaFunction(FunctionSpec.build("app.handler", code="src")) as fn:
        assert fn.invoke({"name": "x"}).payload == ...
"""

from __future__ import annotations

from lambdarig.testing.errors import (
    EmulatorCrashed,
    EmulatorFailure,
    EmulatorStartError,
    HarnessConfigError,
    HarnessError,
    InvokeError,
    LeakError,
    MissingDependency,
    UnsupportedEmulatorOption,
)
from lambdarig.testing.function import LambdaFunction
from lambdarig.testing.process import ProcessRegistry
from lambdarig.testing.reports import Report, parse_report
from lambdarig.testing.result import InvokeResult
from lambdarig.testing.spec import FunctionSpec, HarnessSettings

__all__ = [
    "EmulatorCrashed",
    "EmulatorFailure",
    "EmulatorStartError",
    "FunctionSpec",
    "HarnessConfigError",
    "HarnessError",
    "HarnessSettings",
    "InvokeError",
    "InvokeResult",
    "LambdaFunction",
    "LeakError",
    "MissingDependency",
    "ProcessRegistry",
    "Report",
    "UnsupportedEmulatorOption",
    "parse_report",
]
