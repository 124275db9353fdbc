"""Which command-line values pytest took for test paths before the plugin loaded."""

from __future__ import annotations

from lambdarig.testing.rootdir import stray_values

OPTIONS = ("--lambda-awslambdaric-python", "--lambda-emulator")


def test_stray_values_are_values_given_as_a_separate_token() -> None:
    args = ["-q", "--lambda-awslambdaric-python", "/v/bin/python", "tests",
            "--lambda-emulator=/x/rie", "--lambda-emulator", "aws-lambda-rie"]  # fmt: skip
    assert stray_values(args, OPTIONS) == ["/v/bin/python", "aws-lambda-rie"]
    assert stray_values(["--lambda-emulator"], OPTIONS) == []
