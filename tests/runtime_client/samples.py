"""Values several runtime client tests share: a config, an awslambdaric error report."""

from __future__ import annotations

from lambdarig.runtime_client.config import RuntimeConfig

NBSP = "\u00a0"  # awslambdaric's separator in text-format error reports
ERROR = {
    "errorMessage": "boom",
    "errorType": "ValueError",
    "requestId": "req-1",
    "stackTrace": ['  File "/var/task/app.py", line 3, in handler\n    raise ValueError("boom")\n'],
}


def make_config(**environ: str) -> RuntimeConfig:
    """A config as the runtime reads it from ``environ`` (handler ``a.b``)."""
    return RuntimeConfig.from_environ(
        {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", **environ}, ["a.b"]
    )
