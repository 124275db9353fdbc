"""logs: the process-wide logging setup, and awslambdaric's log output compared line by line."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lambdarig.runtime_client import logs
from tests.runtime_client.handlers.probe import probe, run_python
from tests.runtime_client.samples import ERROR


def test_setup_logging_makes_stdout_unbuffered_and_installs_the_root_handler() -> None:
    code = (
        "import logging, sys\n"
        "from lambdarig.runtime_client import logs\n"
        "from lambdarig.runtime_client.config import RuntimeConfig\n"
        "c = RuntimeConfig.from_environ({'AWS_LAMBDA_RUNTIME_API': 'x'}, ['a.b'])\n"
        "sink = logs.setup_logging(c)\n"
        "print(type(sys.stdout).__name__, type(sys.stderr).__name__, sys.stdout.write('x'))\n"
        "logging.getLogger('lib').warning('w')\n"
        "logging.info('dropped at the default WARNING level')\n"
    )
    out = run_python(code)
    assert out.startswith("xUnbuffered Unbuffered None\n[WARNING]\t")
    assert out.endswith("Z\t\tw\n") and "dropped" not in out


def test_preview_runtime_warning() -> None:
    assert logs.preview_runtime_warning("AWS_Lambda_python3.13", "us-east-1") is None
    warning = logs.preview_runtime_warning("AWS_Lambda_python3.15", "cn-north-1")
    assert warning == (
        "LAMBDA_WARNING: This is a preview runtime version and should not be used for production "
        "workloads. For further information and to provide feedback, see "
        "https://docs.amazonaws.cn/lambda/latest/dg/lambda-runtimes.html\r"
    )
    assert "docs.aws.amazon.com" in (
        logs.preview_runtime_warning("AWS_Lambda_python3.15", None) or ""
    )


@pytest.mark.peers
def test_preview_runtime_warning_text_matches_awslambdaric(awslambdaric_python: Path) -> None:
    code = (
        "from awslambdaric.lambda_literals import get_lambda_preview_runtime_warning_message as m\n"
        "print(repr(m()))"
    )
    for region in ("eu-west-1", "cn-northwest-1"):
        done = subprocess.run(
            [str(awslambdaric_python), "-c", code],
            env={"AWS_REGION": region},
            capture_output=True,
            timeout=30,
            check=True,
        )
        expected = done.stdout.decode().strip()
        assert repr(logs.preview_runtime_warning("AWS_Lambda_python3.15", region)) == expected


def test_root_handler_is_installed_when_logging_is_first_imported() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)  # what the interpreter's start-up (site, .pth files) loaded\n"
        "from lambdarig.runtime_client import logs, sinks\n"
        "from lambdarig.runtime_client.config import RuntimeConfig\n"
        "c = RuntimeConfig.from_environ({'AWS_LAMBDA_RUNTIME_API': 'x'}, ['a.b'])\n"
        "sink = logs.setup_logging(c)\n"
        "sinks.set_request_context('req-1', None)\n"
        "print(*(m in sys.modules and m not in before for m in ('logging', 'json', 're')))\n"
        "import logging\n"
        "print([type(h).__name__ for h in logging.getLogger().handlers])\n"
        "print(any(type(f).__name__ == '_ConfigureOnImport' for f in sys.meta_path))\n"
        "logging.warning('w')\n"
    )
    lines = run_python(code, "-I").split("\n")
    assert lines[:3] == ["False False False", "['LambdaLoggerHandler']", "False"]
    assert re.fullmatch(r"\[WARNING\]\t[0-9T:.-]+Z\treq-1\tw", lines[3])


# --- against awslambdaric -------------------------------------------------------------------------

LOG_CODE = """
logging.debug("debug %d", 1)
logging.info("info")
logging.warning("warn \\u00e9")
logging.getLogger("lib.sub").error({"dict": "message"})
logging.log(25, "between")
logging.critical("crit", extra={"extra_field": [1, 2], "obj": object})
try:
    {}["missing"]
except KeyError:
    logging.exception("failed")
"""
_STAMPS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z|object at 0x[0-9a-f]+")
ENVS = [
    {},
    {"AWS_LAMBDA_LOG_LEVEL": "DEBUG"},
    {"AWS_LAMBDA_LOG_LEVEL": "TRACE"},
    {"AWS_LAMBDA_LOG_LEVEL": "verbose"},
    {"AWS_LAMBDA_LOG_LEVEL": "trace"},
    {"AWS_LAMBDA_LOG_LEVEL": "warn"},
    {"AWS_LAMBDA_LOG_FORMAT": "JSON"},
    {"AWS_LAMBDA_LOG_FORMAT": "json", "AWS_LAMBDA_LOG_LEVEL": "INFO"},
    {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13"},
]


def masked(value: Any) -> Any:
    return json.loads(_STAMPS.sub("<ts>", json.dumps(value)))


@pytest.mark.peers
@pytest.mark.parametrize("env", ENVS, ids=lambda env: "-".join(env.values()) or "default")
def test_logging_matches_awslambdaric(awslambdaric_python: Path, env: dict[str, str]) -> None:
    cases = [
        {"op": "logging", "code": LOG_CODE, "request_id": "req-1"},
        {"op": "logging", "code": LOG_CODE, "request_id": "req-2", "tenant_id": "tenant-1"},
        {"op": "log_error", "error": ERROR},
        {"op": "log_error", "error": {**ERROR, "errorMessage": "h\u00e9", "stackTrace": []}},
        {"op": "log_error", "error": {**ERROR, "stackTrace": ["", "x\n  y"]}},
        {"op": "telemetry", "code": LOG_CODE, "request_id": "req-3", "error": ERROR},
        {
            "op": "telemetry",
            "code": LOG_CODE,
            "tenant_id": "t",
            "error": {**ERROR, "stackTrace": []},
        },
    ]
    theirs, their_output = probe(awslambdaric_python, "ric", cases, env)
    ours, our_output = probe(awslambdaric_python, "ours", cases, env)
    assert masked(ours) == masked(theirs)
    assert masked(our_output) == masked(their_output)
