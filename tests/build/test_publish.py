from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdarig.build.errors import LayerLimitExceeded, LayerSourceError, PublishError
from lambdarig.build.layers import build_runtime_layer
from lambdarig.build.publish import lambda_client, publish_layer
from lambdarig.cli import main
from tests.build.moto import moto_server

pytest.importorskip("moto")
# boto3 warns on Python 3.9 that its support ends; that is not this module's concern.
pytestmark = pytest.mark.filterwarnings("ignore:Boto3 will no longer support Python 3.9")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def _client(url: str) -> Any:
    return lambda_client(url, "us-east-1")


def test_publish_runtime_layer_to_moto(tmp_path: Path, moto_url: str, aws_env: None) -> None:
    layer = build_runtime_layer(tmp_path / "runtime.zip")
    client = _client(moto_url)
    published = publish_layer(
        layer.path, "lambdarig-runtime", client,
        compatible_runtimes=["python3.12"], architectures=["x86_64", "arm64"],
    )  # fmt: skip
    expected_sha = base64.b64encode(hashlib.sha256(layer.path.read_bytes()).digest()).decode()
    assert published.code_sha256 == expected_sha
    assert published.code_size == layer.zipped_bytes
    assert published.layer_version_arn.endswith(":layer:lambdarig-runtime:1")
    listed = client.list_layer_versions(LayerName="lambdarig-runtime")["LayerVersions"]
    assert [v["CompatibleArchitectures"] for v in listed] == [["x86_64", "arm64"]]


def test_cli_publish_prints_the_version_arn(
    tmp_path: Path, moto_url: str, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    build_runtime_layer(tmp_path / "runtime.zip")
    argv = ["layer", "publish", str(tmp_path / "runtime.zip"), "--name", "cli-layer",
            "--endpoint-url", moto_url, "--region", "us-east-1"]  # fmt: skip
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(
        "published arn:aws:lambda:us-east-1:123456789012:layer:cli-layer:1 (version 1, "
    )


def test_publish_refusals(tmp_path: Path, moto_url: str, aws_env: None) -> None:
    client = _client(moto_url)
    with pytest.raises(LayerSourceError, match="expected a layer zip at .*none.zip, none there"):
        publish_layer(tmp_path / "none.zip", "x", client)
    build_runtime_layer(tmp_path / "runtime.zip")
    with pytest.raises(PublishError, match=r"expected architectures among .*, got \['sparc'\]"):
        publish_layer(tmp_path / "runtime.zip", "x", client, architectures=["sparc"])
    with pytest.raises(PublishError, match="expected Lambda to publish layer '', it answered: "):
        publish_layer(tmp_path / "runtime.zip", "", client)


def test_a_zip_over_the_direct_upload_limit_is_refused_before_any_call(tmp_path: Path) -> None:
    big = tmp_path / "big.zip"
    with big.open("wb") as sparse:
        sparse.truncate(50 * 1024 * 1024 + 1)
    with pytest.raises(LayerLimitExceeded) as refused:
        publish_layer(big, "big", client=None)  # no client needed: nothing is sent
    assert str(refused.value) == (
        "layer big.zip is 52,428,801 bytes; a direct upload accepts at most 52,428,800 bytes "
        "(upload it to S3 and publish from there)"
    )


def test_cli_publish_without_a_region_is_one_line(tmp_path: Path) -> None:
    """No --region, no $AWS_*REGION, no ~/.aws/config: one line, exit 2, not a botocore
    traceback."""
    import os
    import subprocess
    import sys

    build_runtime_layer(tmp_path / "runtime.zip")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    done = subprocess.run(
        [sys.executable, "-m", "lambdarig.cli", "layer", "publish", str(tmp_path / "runtime.zip"),
         "--name", "x"],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "lambdarig: error: expected an AWS region (--region, $AWS_REGION or $AWS_DEFAULT_REGION, "
        "or region in ~/.aws/config), none is configured\n"
    )
