from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from lambdarig.cli import CommandError, main
from lambdarig.cli.event import parse_fields, parse_value
from lambdarig.events import EVENT_BUILDERS, s3_put_event, sqs_event


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["event", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_prints_the_event_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["sqs", "--body", '{"a":1}', "--seed", "1", "--now", "2020-01-01T00:00:00Z"], capsys
    )
    assert (code, err) == (0, "")
    when = datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert json.loads(out) == sqs_event(body='{"a":1}', seed=1, now=when)
    assert json.loads(json.loads(out)["Records"][0]["body"]) == {"a": 1}
    assert out.endswith("}\n") and "\n  " in out


def test_compact_prints_one_line_before_or_after_the_type(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, before, _ = run(["--compact", "scheduled", "--seed", "2"], capsys)
    _, after, _ = run(["scheduled", "--seed", "2", "--compact"], capsys)
    assert before.count("\n") == 1
    assert json.loads(before)["id"] == json.loads(after)["id"]


def test_equals_form_dashes_and_json_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        [
            "http-api",
            "--method=POST",
            "--path",
            "/items?id=1",
            "--headers",
            '{"X-Trace": ["a", "b"]}',
            "--cookies",
            '["c=1"]',
            "--route-key",
            "POST /items",
        ],
        capsys,
    )
    event = json.loads(out)
    assert code == 0
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["x-trace"] == "a,b"
    assert event["cookies"] == ["c=1"]
    assert event["routeKey"] == "POST /items"
    assert event["queryStringParameters"] == {"id": "1"}


def test_text_fields_keep_text_that_looks_like_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["s3-put", "--key", "123", "--size", "5", "--seed", "3", "--now", "2020-01-01T00:00:00"]
    _, out, _ = run(argv, capsys)
    obj = json.loads(out)["Records"][0]["s3"]["object"]
    assert obj["key"] == "123" and obj["size"] == 5
    when = datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert json.loads(out) == s3_put_event(key="123", size=5, seed=3, now=when)


def test_bodies_list_makes_a_batch(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["kinesis", "--payloads", '["a", "b"]'], capsys)
    records = json.loads(out)["Records"]
    assert [base64.b64decode(r["kinesis"]["data"]) for r in records] == [b"a", b"b"]


def test_list_names_every_type_with_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--list"], capsys)
    lines = out.splitlines()
    assert code == 0
    assert [line.split()[0] for line in lines] == list(EVENT_BUILDERS)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)
    assert "``" not in out


def test_type_help_lists_fields_with_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["sqs", "--help"], capsys)
    assert code == 0
    assert out.startswith("usage: lambdarig event sqs [--FIELD VALUE ...]")
    assert "--queue-name" in out and "'MyQueue'" in out


def test_command_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["event", "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "lambdarig event sqs --body '{\"a\":1}' | lambdarig invoke" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "lambdarig: error: expected an event TYPE or --list; see `lambdarig event --list`"),
        (["nope"], "expected an event type among apigateway-rest, http-api, "),
        (["sqs", "--bogus", "1"], "expected a field among --body, --bodies, "),
        (["sqs", "--body"], "lambdarig: error: expected a value after --body, got nothing"),
        (["sqs", "body"], "lambdarig: error: expected a --FIELD for the sqs event, got 'body'"),
        (["sqs", "--now", "yesterday"], "expected an ISO-8601 time for --now"),
        (
            ["function-url", "--auth-type", "JWT"],
            "lambdarig: error: cannot build a function-url event: expected auth_type 'NONE' or "
            "'AWS_IAM', got 'JWT'",
        ),
    ],
)
def test_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_parse_value_rules() -> None:
    assert parse_value("x", '{"a": 1}', "Mapping[str, Any] | None") == {"a": 1}
    assert parse_value("x", "12", "int") == 12
    assert parse_value("x", "true", "bool") is True
    assert parse_value("x", "null", "str | None") == "null"
    assert parse_value("x", "{not json", "Mapping[str, Any] | None") == "{not json"
    assert parse_value("x", "hello", "Sequence[str]") == "hello"
    assert parse_value("body", '{"a":1}', "Body") == '{"a":1}'
    assert parse_value("now", "2024-01-01T00:00:00Z", "datetime | None") == datetime(
        2024, 1, 1, tzinfo=timezone.utc
    )


def test_parse_fields_rejects_unknown_fields() -> None:
    with pytest.raises(CommandError, match="got --nope"):
        parse_fields("sqs", EVENT_BUILDERS["sqs"], ["--nope", "1"])


def test_the_console_script_pipes_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambdarig.cli", "event", "sqs", "--body", "hi", "--compact"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(result.stdout)["Records"][0]["body"] == "hi"
    assert result.stderr == ""
