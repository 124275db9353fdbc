"""``lambdarig conformance``: listing, argument errors, and real runs behind aws-lambda-rie."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambdarig.cli import main
from lambdarig.cli.conformance import runtime_argv
from lambdarig.conformance import CASES, STREAMING_CASES
from tests import peers
from tests.conformance_kit.conftest import BROKEN_RUNTIME
from tests.testing.conftest import require_awslambdaric


def test_list_names_every_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [case.name for case in CASES + STREAMING_CASES]
    assert all(line.endswith("(--streaming)") for line in lines[len(CASES) :])


def test_streaming_cases_run_with_streaming(capsys: pytest.CaptureFixture[str]) -> None:
    runtime = f"{sys.executable} -m lambdarig.runtime_client {{handler}}"
    assert main(["conformance", "--runtime", runtime, "--streaming", "--only", "stream-http"]) == 0
    out = capsys.readouterr().out
    assert "PASS    stream-http" in out
    assert out.endswith("1 behaviours: 1 passed, 0 failed\n")


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
    (tmp_path / "bootstrap").write_text("#!/bin/sh\n")
    (tmp_path / "bootstrap").chmod(0o755)
    assert runtime_argv("./bootstrap --x '{handler}'", tmp_path) == [
        str(tmp_path / "bootstrap"),
        "--x",
        "{handler}",
    ]
    assert runtime_argv("sh -c app", tmp_path) == ["sh", "-c", "app"]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("'unbalanced", """expected a shell-style --runtime command, got "'unbalanced" """),
        ("", "expected --runtime CMD (the command that starts your runtime)"),
        ("  ", "expected a non-empty --runtime command, got '  '"),
        ("./missing", "expected --runtime to start an executable program, got '{cwd}/missing'"),
        ("./data.txt", "expected --runtime to start an executable program, got '{cwd}/data.txt'"),
        ("no-such-program-x", "expected --runtime to start an executable program, got 'no-such"),
    ],
)
def test_unusable_runtime_is_one_sentence(
    command: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "data.txt").write_text("not a program")
    monkeypatch.chdir(tmp_path)
    assert main(["conformance", "--runtime", command, "--only", "echo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lambdarig: error: " + message.format(cwd=tmp_path).strip())
    assert err.count("\n") == 1


@pytest.mark.slow
def test_our_client_passes_and_the_broken_runtime_fails_behind_our_emulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ours = f"{sys.executable} -m lambdarig.runtime_client {{handler}}"
    assert main(["conformance", "--runtime", ours, "--only", "echo,logs"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].split() == ["result", "behaviour", "checks"]
    assert captured.out.splitlines()[-1] == "2 behaviours: 2 passed, 0 failed"
    assert "  PASS echo (" in captured.err and "  PASS logs (" in captured.err
    broken = " ".join(BROKEN_RUNTIME)
    assert main(["conformance", "--runtime", broken, "--only", "function-arn,echo"]) == 1
    out = capsys.readouterr().out
    assert "FAIL    function-arn" in out
    assert "got 'arn:aws:lambda:us-east-1:000000000000:function:wrong'" in out
    assert out.splitlines()[-1] == "2 behaviours: 1 passed, 1 failed"


@pytest.mark.peers
def test_passing_run_prints_the_table_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    rie, ric = peers.require_rie(), require_awslambdaric()
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
