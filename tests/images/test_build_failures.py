"""Image builds that cannot succeed say why, in one line (a base image with no shell or Python)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest

from lambdarig.build.errors import ImageBuildError
from lambdarig.build.images import build_image, ensure_image, python_version_of
from tests.images.conftest import FUNCTION, session_tag

pytestmark = pytest.mark.docker


@pytest.fixture
def empty_base(docker_client: Any) -> Iterator[str]:
    """An image holding one text file: no /bin/sh, no python3."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("etc/hostname")
        info.size = 6
        archive.addfile(info, io.BytesIO(b"empty\n"))
    tag = session_tag("empty:latest")
    docker_client.api.import_image_from_data(buffer.getvalue(), repository=tag)
    try:
        yield tag
    finally:
        docker_client.images.remove(tag, force=True)


def test_a_base_without_python_is_named(docker_client: Any, empty_base: str) -> None:
    with pytest.raises(ImageBuildError, match=f"expected {empty_base} to have a python3 to ask"):
        python_version_of(empty_base, docker_client)
    assert docker_client.containers.list(all=True, filters={"ancestor": empty_base}) == []


def test_a_failing_build_reports_the_engine_message(docker_client: Any, empty_base: str) -> None:
    tag = session_tag("broken:latest")
    with pytest.raises(ImageBuildError) as failed:
        build_image(
            FUNCTION,
            tag,
            base_image=empty_base,
            python_version="3.11",
            client=docker_client,
            progress=lambda _line: None,
        )
    assert str(failed.value).startswith(f"expected the image {tag} to build, the engine said: ")
    # The images of the steps that ran before the failing one went with the failed build.
    base_id = docker_client.images.get(empty_base).id
    children = [
        image.id
        for image in docker_client.images.list(all=True)
        if image.attrs.get("Parent") == base_id
    ]
    assert children == []


def test_a_missing_base_that_cannot_be_pulled_is_named(docker_client: Any) -> None:
    missing = session_tag("never-built:latest")
    with pytest.raises(
        ImageBuildError, match=f"expected the base image {missing} in the local "
    ) as (failed):
        ensure_image(missing, docker_client)
    message = str(failed.value)
    assert "\n" not in message
    assert message.endswith(  # the offline route, in the same line
        "; to build without a registry, make a base with images/base/build-base.sh bookworm "
        "(from lambdarig's repository) and pass --base lambdarig-base:bookworm"
    )
