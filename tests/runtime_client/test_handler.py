"""handler.load_handler: awslambdaric's handler-string semantics and error messages."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdarig.runtime_client.errors import (
    BuiltInModuleConflict,
    HandlerModuleNotFound,
    HandlerNotFound,
    HandlerSyntaxError,
    MalformedHandlerName,
)
from lambdarig.runtime_client.handler import load_handler
from tests.runtime_client.handlers.probe import HANDLERS, assert_same_as_awslambdaric

BROKEN_SOURCE = "def handler(event, context)\n    return event\n"


@pytest.fixture
def code_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` and the fixture handlers on ``sys.path``; modules imported are forgotten."""
    (tmp_path / "broken.py").write_text(BROKEN_SOURCE)
    monkeypatch.syspath_prepend(str(HANDLERS))
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_loads_the_attribute(code_dir: Path) -> None:
    assert load_handler("app.echo")({"a": 1}, None) == {"a": 1}


@pytest.mark.parametrize("name", ["nested/deeper/mod.handler", "nested.deeper.mod.handler"])
def test_slashes_and_dots_name_packages(code_dir: Path, name: str) -> None:
    assert load_handler(name)(1, None) == {"nested": 1}


def test_attribute_is_not_checked_for_callability(code_dir: Path) -> None:
    assert load_handler("app.NOT_CALLABLE") == 5


def test_no_dot_is_malformed() -> None:
    with pytest.raises(MalformedHandlerName) as caught:
        load_handler("nohandler")
    assert caught.value.error_type == "Runtime.MalformedHandlerName"
    expected = "Bad handler 'nohandler': not enough values to unpack (expected 2, got 1)"
    assert caught.value.message == expected


def test_built_in_module_conflict() -> None:
    with pytest.raises(BuiltInModuleConflict) as caught:
        load_handler("sys.handler")
    assert caught.value.message == "Cannot use built-in module sys as a handler module"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "missing_xyz.handler",
            "Unable to import module 'missing_xyz': No module named 'missing_xyz'",
        ),
        (
            "import_error.handler",
            "Unable to import module 'import_error': "
            "No module named 'lambdarig_no_such_module_xyz'",
        ),
    ],
)
def test_import_errors(code_dir: Path, name: str, message: str) -> None:
    with pytest.raises(HandlerModuleNotFound) as caught:
        load_handler(name)
    assert caught.value.error_type == "Runtime.ImportModuleError"
    assert caught.value.message == message
    assert caught.value.stack_trace == []


def test_syntax_error_has_its_single_stack_line(code_dir: Path) -> None:
    with pytest.raises(HandlerSyntaxError) as caught:
        load_handler("broken.handler")
    assert caught.value.error_type == "Runtime.UserCodeSyntaxError"
    # The compiler's wording varies by version ("invalid syntax" on 3.9, "expected ':'" later).
    with pytest.raises(SyntaxError) as compiled:
        compile(BROKEN_SOURCE, "broken.py", "exec")
    assert caught.value.message == f"Syntax error in module 'broken': {compiled.value}"
    assert str(compiled.value).endswith("(broken.py, line 1)")
    path = code_dir / "broken.py"
    assert caught.value.stack_trace == [
        f'  File "{path}" Line 1\n    {BROKEN_SOURCE.splitlines()[0]}\n'
    ]


def test_missing_attribute(code_dir: Path) -> None:
    with pytest.raises(HandlerNotFound) as caught:
        load_handler("app.nope")
    assert caught.value.message == "Handler 'nope' missing on module 'app'"


def test_other_import_time_exceptions_propagate(code_dir: Path) -> None:
    with pytest.raises(NameError, match="undefined_name"):
        load_handler("name_error.handler")


# --- against awslambdaric: the whole init path (error JSON posted, log lines written) -------------

INIT_HANDLERS = [
    "app.echo",
    "nested/deeper/mod.handler",
    "nohandler",
    "sys.handler",
    "missing_xyz.handler",
    "import_error.handler",
    "broken.handler",
    "app.nope",
    "name_error.handler",
    ".handler",
    "app.",
    "os.path.x",
]


@pytest.mark.peers
@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_init_errors_match_awslambdaric(
    awslambdaric_python: Path, tmp_path: Path, log_format: str
) -> None:
    (tmp_path / "broken.py").write_text(BROKEN_SOURCE)
    cases = [{"op": "init", "handler": name} for name in INIT_HANDLERS]
    env = {"AWS_LAMBDA_LOG_FORMAT": log_format}
    assert_same_as_awslambdaric(awslambdaric_python, cases, env, extra_path=tmp_path)
