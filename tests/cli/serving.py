"""What the ``lambdarig serve --template`` tests share: the URLs of the start table and a boto3
Lambda client on the control plane."""

from __future__ import annotations

import re
from typing import Any

import boto3
from botocore.config import Config

from tests.rie_server.emulator_process import Running

# A destination function, ``recorder``: writes each record it gets to $RECORD_DIR/<request id>.json.
RECORDER = """\
import json, os

def recorder(event, context):
    name = event["requestContext"]["requestId"] + ".json"
    path = os.path.join(os.environ["RECORD_DIR"], name)
    with open(path + ".part", "w") as f:  # the test waits for the name: appear only when whole
        json.dump(event, f)
    os.replace(path + ".part", path)
"""


def served(running: Running) -> dict[str, str]:
    """``KIND METHOD`` -> URL, from the start table."""
    found = {}
    for line in running.stderr_lines:
        match = re.search(r"(REST API|HTTP API|Function URL)\s+(\S+)\s+(http://\S+)", line)
        if match:
            found[f"{match.group(1)} {match.group(2)}"] = match.group(3)
    return found


def lambda_client(running: Running, region: str = "us-east-1") -> Any:
    """boto3's Lambda client on the emulator's control plane; no retries (an error is the
    answer under test)."""
    return boto3.client(
        "lambda",
        endpoint_url=running.url,
        region_name=region,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 0}),
    )
