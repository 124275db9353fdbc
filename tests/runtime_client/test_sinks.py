"""sinks: awslambdaric's error reports on stdout and its telemetry fd frames."""

from __future__ import annotations

import os
import re
import time

import pytest

from lambdarig.runtime_client import sinks
from tests.runtime_client.samples import ERROR, NBSP, make_config


def test_text_error_report_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    sinks.StdoutSink().log_error(ERROR)
    assert capsys.readouterr().out == (
        "[ERROR] ValueError: boom\r"
        "Traceback (most recent call last):\r"
        f'{NBSP * 2}File "/var/task/app.py", line 3, in handler\r'
        f'{NBSP * 4}raise ValueError("boom")\n'
    )


def test_text_error_report_without_stack_or_type(capsys: pytest.CaptureFixture[str]) -> None:
    sinks.StdoutSink().log_error({"errorMessage": "m", "errorType": "", "stackTrace": []})
    assert capsys.readouterr().out == "[ERROR] m\rTraceback (most recent call last):\n"


def test_json_error_report_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    sinks.StdoutSink(json_format=True).log_error(ERROR)
    line = capsys.readouterr().out
    assert line.endswith("\n") and "\r" not in line
    assert re.fullmatch(
        r'\{"timestamp": "[0-9T:-]+Z", "level": "ERROR", "errorMessage": "boom", '
        r'"errorType": "ValueError", "requestId": "req-1", "stackTrace": \[.*\]\}\n',
        line,
    )


def read_frames(fd: int) -> list[tuple[bytes, int, str]]:
    with open(fd, "rb") as pipe:
        data = pipe.read()
    frames = []
    while data:
        length = int.from_bytes(data[4:8], "big")
        frames.append(
            (data[:4], int.from_bytes(data[8:16], "big"), data[16 : 16 + length].decode())
        )
        data = data[16 + length :]
    return frames


def test_telemetry_frames() -> None:
    read_fd, write_fd = os.pipe()
    sink = sinks.make_sink(make_config(_LAMBDA_TELEMETRY_LOG_FD=str(write_fd)))
    before = time.time_ns() // 1000
    sink.log("h\u00e9llo\n")
    sink.log_error(ERROR)
    sink.close()
    (plain_type, stamp, plain), (error_type, _, error) = read_frames(read_fd)
    assert (plain_type.hex(), plain) == ("a55a0003", "h\u00e9llo\n")
    assert before <= stamp <= time.time_ns() // 1000
    assert error_type.hex() == "a55a0017"
    assert error.split("\n") == [
        "[ERROR] ValueError: boom",
        "Traceback (most recent call last):",
        f'{NBSP * 2}File "/var/task/app.py", line 3, in handler',
        f'{NBSP * 4}raise ValueError("boom")',
    ]


def test_json_error_frame_type() -> None:
    assert sinks.LogSink(json_format=True).error_frame_type.hex() == "a55a0016"
