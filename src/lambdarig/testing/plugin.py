"""The lambdarig pytest plugin (entry point ``pytest11: lambdarig``).

Fixtures:

- ``lambda_function`` — factory: ``fn = lambda_function("app.handler", code="src/", env={...},
  timeout=3, memory=128, layers=[...], runtime="lambdarig" | "awslambdaric" | ["./bootstrap"],
  image=None)`` returns a started :class:`~lambdarig.testing.LambdaFunction`.
- ``lambda_fn`` — the function described by the test's ``@pytest.mark.lambda_function(...)``
  marker (same arguments as the factory).
- ``lambda_pool`` — session-scoped: one emulator per distinct set of arguments, started on first
  use and stopped at session end.

Each distinct function starts once per session; every test gets it reset (old logs dropped, the
emulator restarted if it died). When a test ends, an emulator that died or logged an internal
error fails that test. At session end the plugin fails the run if any process group or port it
started is still alive.

Options: ``--lambda-runtime {lambdarig,awslambdaric}`` runs functions declared with the default
runtime under another one; ``--lambda-awslambdaric-python PATH`` (env
``LAMBDARIG_AWSLAMBDARIC_PYTHON``) names a python that has awslambdaric; ``--lambda-emulator CMD``
(env ``LAMBDARIG_EMULATOR``) replaces ``python -m lambdarig.rie_server``, e.g. with AWS's
``aws-lambda-rie`` binary.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdarig.testing.errors import HarnessConfigError, LeakError
from lambdarig.testing.function import LambdaFunction
from lambdarig.testing.process import ProcessRegistry
from lambdarig.testing.rootdir import plugin_root
from lambdarig.testing.spec import RUNTIMES, FunctionSpec, HarnessSettings

MARKER = "lambda_function"
_REGISTRY = pytest.StashKey[ProcessRegistry]()
_SETTINGS = pytest.StashKey[HarnessSettings]()
_ROOT = pytest.StashKey[Path]()
# Options whose value may be a path: pytest reads "--option PATH" before this plugin loads (see
# lambdarig.testing.rootdir).
PATH_OPTIONS = ("--lambda-awslambdaric-python", "--lambda-emulator")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lambdarig", "lambdarig: run Lambda functions behind an emulator")
    group.addoption(
        "--lambda-runtime",
        choices=RUNTIMES,
        default=None,
        help="run functions declared with runtime='lambdarig' under this runtime instead",
    )
    group.addoption(
        "--lambda-awslambdaric-python",
        metavar="PATH",
        default=None,
        help="a python that has awslambdaric (default: $LAMBDARIG_AWSLAMBDARIC_PYTHON)",
    )
    group.addoption(
        "--lambda-emulator",
        metavar="CMD",
        default=None,
        help="emulator command (default: $LAMBDARIG_EMULATOR or 'python -m lambdarig.rie_server')",
    )


def settings_from(config: pytest.Config) -> HarnessSettings:
    """Read the plugin's options and environment variables once, into frozen settings."""
    settings = HarnessSettings.from_environ(
        os.environ,
        emulator=config.getoption("--lambda-emulator"),
        awslambdaric_python=config.getoption("--lambda-awslambdaric-python"),
        default_runtime=config.getoption("--lambda-runtime"),
    )
    if settings.default_runtime == "awslambdaric" and not settings.awslambdaric_python:
        raise pytest.UsageError(
            "--lambda-runtime awslambdaric needs a python that has awslambdaric: pass "
            "--lambda-awslambdaric-python PATH or set LAMBDARIG_AWSLAMBDARIC_PYTHON"
        )
    return settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(handler, code='.', env=None, timeout=3, memory=128, layers=(), "
        "runtime='lambdarig', image=None): the Lambda function the lambda_fn fixture starts",
    )
    config.stash[_REGISTRY] = ProcessRegistry()
    config.stash[_SETTINGS] = settings_from(config)
    config.stash[_ROOT] = plugin_root(config, PATH_OPTIONS, os.environ)


def pytest_report_header(config: pytest.Config) -> str | None:
    settings = config.stash.get(_SETTINGS, None)
    if settings is None or settings.default_runtime is None:
        return None
    return f"lambdarig: runtime {settings.default_runtime}"


class FunctionPool:
    """Session cache: one started :class:`LambdaFunction` per distinct :class:`FunctionSpec`."""

    def __init__(self, settings: HarnessSettings, registry: ProcessRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self._functions: dict[FunctionSpec, LambdaFunction] = {}

    def get(self, spec: FunctionSpec) -> LambdaFunction:
        """The function for ``spec``, started (blocking until ready) and reset for a new test."""
        function = self._functions.get(spec)
        if function is None:
            function = LambdaFunction(spec, self.settings, self.registry)
            self._functions[spec] = function
            function.start()
        else:
            function.reset()
        return function

    def close(self) -> None:
        """Stop every function (blocks until each emulator is reaped)."""
        functions, self._functions = list(self._functions.values()), {}
        for function in functions:
            function.stop()


@pytest.fixture(scope="session")
def lambda_pool(pytestconfig: pytest.Config) -> Iterator[FunctionPool]:
    """Session-wide: each distinct function started once; all stopped at session end."""
    pool = FunctionPool(pytestconfig.stash[_SETTINGS], pytestconfig.stash[_REGISTRY])
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def lambda_function(
    lambda_pool: FunctionPool, pytestconfig: pytest.Config
) -> Iterator[Callable[..., LambdaFunction]]:
    """Factory: ``lambda_function(handler, **options)`` -> a started, freshly reset function.

    Relative ``code=`` and ``layers=`` paths are resolved against the pytest root directory (as
    pytest finds it without our options' values: see :mod:`lambdarig.testing.rootdir`).
    """
    used: list[LambdaFunction] = []

    def factory(handler: str, **kwargs: Any) -> LambdaFunction:
        root = pytestconfig.stash.get(_ROOT, pytestconfig.rootpath)
        kwargs["code"] = root / kwargs.get("code", ".")
        kwargs["layers"] = [root / layer for layer in kwargs.get("layers", ())]
        try:
            spec = FunctionSpec.build(handler, **kwargs)
        except TypeError as exc:
            raise HarnessConfigError(f"lambda_function({handler!r}, ...): {exc}") from None
        function = lambda_pool.get(spec)
        used.append(function)
        return function

    yield factory
    for function in used:
        function.check()  # an emulator failure during this test fails this test


@pytest.fixture
def lambda_fn(
    request: pytest.FixtureRequest, lambda_function: Callable[..., LambdaFunction]
) -> LambdaFunction:
    """The function described by the test's ``@pytest.mark.lambda_function(...)`` marker."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        raise HarnessConfigError(
            "expected @pytest.mark.lambda_function(handler, ...) on a test using lambda_fn, "
            "got no such marker"
        )
    return lambda_function(*marker.args, **marker.kwargs)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    registry = session.config.stash.get(_REGISTRY, None)
    if registry is None:
        return
    try:
        registry.check()
    except LeakError as exc:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"lambdarig: {exc}", red=True)
        else:
            print(f"lambdarig: {exc}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
