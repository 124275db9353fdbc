"""--enable-init-caching: the credentials endpoint (sans-IO) and a real runtime that finds it
through its environment and fetches the emulator's keys with its token."""

from __future__ import annotations

import asyncio
import datetime
import io
import json
import sys
from pathlib import Path

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from lambdarig.rie_server.environments.outcomes import OutcomeKind
from lambdarig.rie_server.runtime.credentials import Credentials

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
KEYS = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_SESSION_TOKEN": "session",
}


def test_only_the_token_gets_the_keys() -> None:
    credentials = Credentials.from_environment("tok", KEYS)
    granted = credentials.answer("GET", "tok", NOW)
    assert granted.status == 200
    assert json.loads(granted.body) == {
        "AccessKeyId": "AKIDEXAMPLE",
        "SecretAccessKey": "secret",
        "Token": "session",
        "Expiration": "2026-01-02T04:04:05Z",
    }
    for token in (None, "", "other", "tok "):
        refused = credentials.answer("GET", token, NOW)
        assert refused.status == 404
        assert refused.body == b"cannot get credentials for the provided token\n"
    assert credentials.answer("POST", "tok", NOW).status == 405
    assert credentials.variables("127.0.0.1:9001") == {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9001/2021-04-23/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok",
    }


RUNTIME = r"""
import json, os, urllib.error, urllib.request
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
uri = os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
token = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
found = {"uri": uri, "api": api}
if uri:
    request = urllib.request.Request(uri, headers={"Authorization": token})
    found["granted"] = json.loads(urllib.request.urlopen(request, timeout=10).read())
    try:
        urllib.request.urlopen(urllib.request.Request(uri, headers={"Authorization": "x"}))
    except urllib.error.HTTPError as exc:
        found["refused"] = exc.code
else:
    try:
        urllib.request.urlopen("http://" + api + "/2021-04-23/credentials", timeout=10)
    except urllib.error.HTTPError as exc:
        found["without_flag"] = exc.code
base = "http://" + api + "/2018-06-01/runtime/invocation/"
with urllib.request.urlopen(base + "next", timeout=30) as resp:
    request_id = resp.headers["Lambda-Runtime-Aws-Request-Id"]
body = json.dumps(found).encode()
urllib.request.urlopen(urllib.request.Request(base + request_id + "/response", data=body))
"""


def _invoke(tmp_path: Path, init_caching: bool) -> dict[str, object]:
    script = tmp_path / "runtime.py"
    script.write_text(RUNTIME)
    config = EmulatorConfig(
        command=(sys.executable, str(script)),
        invoke_host="127.0.0.1",
        invoke_port=0,
        runtime_api_address="127.0.0.1:0",
        enable_init_caching=init_caching,
        runtime_env={"PATH": "/usr/bin:/bin", **KEYS},
    )

    async def main() -> dict[str, object]:
        emulator = Emulator(config, output=io.StringIO())
        await emulator.start()
        try:
            outcome = await emulator.invoke(b"{}")
        finally:
            await emulator.stop()
        assert outcome.kind is OutcomeKind.SUCCESS, outcome
        found: dict[str, object] = json.loads(outcome.body)
        return found

    return asyncio.run(main())


def test_the_runtime_fetches_the_keys_with_its_token(tmp_path: Path) -> None:
    found = _invoke(tmp_path, init_caching=True)
    assert found["uri"] == f"http://{found['api']}/2021-04-23/credentials"
    granted = found["granted"]
    assert isinstance(granted, dict)
    assert (granted["AccessKeyId"], granted["SecretAccessKey"], granted["Token"]) == (
        "AKIDEXAMPLE",
        "secret",
        "session",
    )
    assert found["refused"] == 404


def test_without_the_flag_there_is_no_endpoint(tmp_path: Path) -> None:
    found = _invoke(tmp_path, init_caching=False)
    assert found["uri"] is None and found["without_flag"] == 404
