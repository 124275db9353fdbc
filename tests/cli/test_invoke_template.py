"""``lambdarig invoke LogicalId --template``: a one-shot invoke (real processes), as ``sam local
invoke``: the payload on stdout, the function's logs on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

INVOKE = (sys.executable, "-m", "lambdarig.cli", "invoke")
RUNTIME = f"python3.{sys.version_info[1]}"

TEMPLATE = f"""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Word:
    Type: String
    Default: plain
Resources:
  Greeter:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {RUNTIME}
      CodeUri: src/
      Handler: app.handler
      Environment:
        Variables:
          WORD: !Ref Word
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {RUNTIME}
      CodeUri: src/
      Handler: app.handler
"""

APP = """\
import os

def handler(event, context):
    print("greeting", event.get("name"))
    if event.get("fail"):
        raise RuntimeError("no greeting today")
    return {"hello": event.get("name"), "word": os.environ.get("WORD")}
"""


def project(root: Path) -> Path:
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text(APP)
    template = root / "template.yaml"
    template.write_text(TEMPLATE)
    return template


def run(*argv: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*INVOKE, *argv], input=stdin, capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_the_payload_goes_to_stdout_and_the_logs_to_stderr(tmp_path: Path) -> None:
    template = project(tmp_path)
    event = tmp_path / "event.json"
    event.write_text('{"name": "Ada"}')
    done = run(
        "Greeter", "-t", str(template), "--event", str(event),
        "--parameter-overrides", "Word=hey", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"hello": "Ada", "word": "hey"}
    assert "greeting Ada" in done.stderr
    assert "REPORT RequestId: " in done.stderr


def test_event_from_stdin_and_a_function_error_exits_1(tmp_path: Path) -> None:
    template = project(tmp_path)
    done = run("Other", "--template", str(template), "--event", "-", cwd=tmp_path,
               stdin='{"name": "Bob", "fail": true}')  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["errorMessage"] == "no greeting today"
    assert "greeting Bob" in done.stderr


def test_mistakes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    template = project(tmp_path)
    cases = [
        (["Nope", "-t", str(template)], "expected a function of the template (Greeter, Other)"),
        (["-t", str(template)], "expected a function to invoke (one of Greeter, Other)"),
        (["Greeter", "-t", str(template), "--event", "missing.json"], "expected a readable event"),
        (["Greeter", "-t", str(template), "--url", "http://x"], "expected --template without"),
    ]
    for argv, message in cases:
        done = run(*argv, cwd=tmp_path, stdin="{}")
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"lambdarig: error: {message}"), done.stderr
        assert done.stderr.count("\n") == 1, done.stderr
    done = run("Greeter", "-t", str(template), cwd=tmp_path, stdin="not json")
    assert done.returncode == 2
    assert done.stderr.startswith("lambdarig: error: expected the invoke to succeed, got HTTP 400")
