"""``lambdarig conformance``: listing, argument errors, and real runs behind aws-lambda-rie."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdarig.cli import main
from lambdarig.cli.conformance import runtime_argv
from lambdarig.conformance import CASES
from tests import peers
from tests.conformance_kit.conftest import BROKEN_RUNTIME


def test_list_names_every_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [case.name for case in CASES]


def test_runtime_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance"]) == 2
    assert capsys.readouterr().err == (
        "lambdarig: error: expected --runtime CMD (the command that starts your runtime)\n"
    )


def test_unknown_case_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--runtime", "true", "--only", "echo,nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lambdarig: error: expected case names among echo, json-types")
    assert err.endswith("got unknown nope\n")


def test_runtime_argv_resolves_relative_programs(tmp_path: Path) -> None:
    assert runtime_argv("./bootstrap --x '{handler}'", tmp_path) == [
        str(tmp_path / "bootstrap"),
        "--x",
        "{handler}",
    ]
    assert runtime_argv("python -m app", tmp_path) == ["python", "-m", "app"]


@pytest.mark.peers
def test_passing_run_prints_the_table_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    rie, ric = peers.require_rie(), peers.require_awslambdaric()
    args = ["conformance", "--emulator", str(rie), "--only", "echo,logs"]
    assert main([*args, "--runtime", f"{ric} -m awslambdaric {{handler}}"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "2 behaviours: 2 passed, 0 failed"
    assert "  PASS echo (" in captured.err


@pytest.mark.peers
def test_failing_run_shows_the_difference_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    rie = peers.require_rie()
    runtime = " ".join(BROKEN_RUNTIME)
    args = ["conformance", "--emulator", str(rie), "--only", "function-arn,echo"]
    assert main([*args, "--runtime", runtime]) == 1
    out = capsys.readouterr().out
    assert "FAIL    function-arn" in out
    assert "got 'arn:aws:lambda:us-east-1:000000000000:function:wrong'" in out
    assert out.splitlines()[-1] == "2 behaviours: 1 passed, 1 failed"
