"""Every ``lambdarig`` command: its help shows an example, and bad input is one sentence.

Walks the parser that ``lambdarig`` really builds (every module in ``COMMANDS`` and their nested
actions), so a new subcommand is covered without editing this file.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from lambdarig.cli import COMMANDS, build_parser, main

ERROR_LINE = re.compile(r"^lambdarig(?: [\w-]+)*: error: \S.*$")


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, (*path, name))


def _parser(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


COMMAND_PATHS = list(_walk(build_parser()))


def test_every_registered_module_is_walked() -> None:
    assert {path[0] for path in COMMAND_PATHS if path} == set(COMMANDS)
    assert ("image", "build") in COMMAND_PATHS and ("layer", "build") in COMMAND_PATHS


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda path: " ".join(("lambdarig", *path)))
def test_help_shows_an_example(path: tuple[str, ...]) -> None:
    text = _parser(path).format_help()
    assert re.search(r"^examples?:", text, re.IGNORECASE | re.MULTILINE), text
    assert "lambdarig " + " ".join(path) in text.split("xample", 1)[1]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


BAD_INPUTS = [
    ["nope"],
    ["serve"],
    ["serve", "app.handler", "--code", "/nonexistent/dir"],
    ["serve", "app.handler", "--memory", "1"],
    ["serve", "app.handler", "--port", "99999"],
    ["image"],
    ["image", "build", ".", "--tag", "t", "--variant", "nope"],
    ["image", "build", "."],
    ["layer"],
    ["layer", "build", "deps", "-r", "/nonexistent/requirements.txt", "--out", "x.zip"],
    ["event"],
    ["event", "nope"],
    ["event", "sqs", "--nope", "1"],
    ["event", "sqs", "--now", "yesterday"],
    ["event", "sqs", "--body"],
    ["invoke", "--event", "/nonexistent/event.json"],
    ["invoke", "--url", "notaurl", "--event", "/dev/null"],
    ["invoke", "--url", "http://[::1", "--event", "/dev/null"],
    ["conformance"],
    ["conformance", "--runtime", "true", "--only", "nope"],
    ["conformance", "--runtime", "/nonexistent/bootstrap"],
]


def test_bad_inputs_cover_every_command() -> None:
    assert {argv[0] for argv in BAD_INPUTS} >= set(COMMANDS)


@pytest.mark.parametrize("argv", BAD_INPUTS, ids=" ".join)
def test_bad_input_is_one_sentence_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(argv, capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in err and out == ""
    lines = err.rstrip("\n").split("\n")
    assert ERROR_LINE.match(lines[-1]), err
    # Only argparse's usage synopsis may come before the error sentence.
    assert len(lines) == 1 or lines[0].startswith("usage: lambdarig"), err
    assert sum(": error: " in line for line in lines) == 1, err
