"""Publish a layer zip as a new layer version through boto3's ``publish_layer_version``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdarig.build.errors import LayerLimitExceeded, LayerSourceError, PublishError
from lambdarig.build.layers import ZIPPED_LIMIT_BYTES

ARCHITECTURES = ("x86_64", "arm64")


@dataclass(frozen=True)
class PublishedLayer:
    """What the Lambda API answered."""

    layer_arn: str
    layer_version_arn: str
    version: int
    code_sha256: str
    code_size: int


def lambda_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 Lambda client; credentials and region come from boto3's usual chain. Raises
    PublishError when boto3 is missing or no region is configured."""
    try:
        import boto3
    except ImportError as exc:
        raise PublishError(
            "expected boto3 to publish layers (pip install 'lambdarig[aws]'), it is not installed"
        ) from exc
    import botocore.exceptions

    try:
        return boto3.client("lambda", endpoint_url=endpoint_url, region_name=region)
    except botocore.exceptions.NoRegionError:
        raise PublishError(
            "expected an AWS region (--region, $AWS_REGION or $AWS_DEFAULT_REGION, or region in "
            "~/.aws/config), none is configured"
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise PublishError(f"expected a usable AWS configuration, got: {exc}") from exc


def publish_layer(
    zip_path: Path,
    name: str,
    client: Any,
    *,
    compatible_runtimes: Sequence[str] = (),
    architectures: Sequence[str] = (),
    description: str = "",
) -> PublishedLayer:
    """Upload ``zip_path`` as a new version of layer ``name`` (direct upload, at most 50 MB).

    Blocks for the API call. Raises LayerSourceError, LayerLimitExceeded or PublishError.
    """
    if not zip_path.is_file():
        raise LayerSourceError(f"expected a layer zip at {zip_path}, none there")
    unknown = [arch for arch in architectures if arch not in ARCHITECTURES]
    if unknown:
        raise PublishError(f"expected architectures among {list(ARCHITECTURES)}, got {unknown}")
    content = zip_path.read_bytes()
    if len(content) > ZIPPED_LIMIT_BYTES:
        raise LayerLimitExceeded(
            f"layer {zip_path.name} is {len(content):,} bytes; a direct upload accepts at most "
            f"{ZIPPED_LIMIT_BYTES:,} bytes (upload it to S3 and publish from there)"
        )
    request: dict[str, Any] = {"LayerName": name, "Content": {"ZipFile": content}}
    if description:
        request["Description"] = description
    if compatible_runtimes:
        request["CompatibleRuntimes"] = list(compatible_runtimes)
    if architectures:
        request["CompatibleArchitectures"] = list(architectures)
    import botocore.exceptions

    try:
        answer = client.publish_layer_version(**request)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise PublishError(
            f"expected Lambda to publish layer {name!r}, it answered: {exc}"
        ) from exc
    return PublishedLayer(
        layer_arn=str(answer["LayerArn"]),
        layer_version_arn=str(answer["LayerVersionArn"]),
        version=int(answer["Version"]),
        code_sha256=str(answer["Content"]["CodeSha256"]),
        code_size=int(answer["Content"]["CodeSize"]),
    )
