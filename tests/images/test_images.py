"""Function images on the offline bases: `docker run -p 127.0.0.1::8080 IMAGE`, HTTP and boto3."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import peers
from tests.images.conftest import (
    FUNCTION,
    INVOKE_PATH,
    built_image,
    require_base,
    running,
    session_tag,
    wheel_cache,
)

pytestmark = [
    pytest.mark.docker,
    # boto3 warns on Python 3.9 that its support ends; that is not this module's concern.
    pytest.mark.filterwarnings("ignore:Boto3 will no longer support Python 3.9"),
]
PYTHONS = {"bookworm": "3.11", "trixie": "3.13"}


def test_image_is_a_thin_layer_over_its_base(hello_image: tuple[str, Any]) -> None:
    suite, built = hello_image
    assert built.base_size_bytes is not None
    added = built.size_bytes - built.base_size_bytes
    print(f"{built.tag}: {built.size_bytes / 1e6:.1f} MB; base {built.base_image}: "
          f"{built.base_size_bytes / 1e6:.1f} MB")  # fmt: skip
    assert 0 < added < 25_000_000, f"{suite}: the image adds {added:,} bytes to its base"


def test_image_answers_http_and_boto3(docker_client: Any, hello_image: tuple[str, Any]) -> None:
    suite, built = hello_image
    boto3 = pytest.importorskip("boto3")
    python = docker_client.containers.run(
        built.tag, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        entrypoint=["python3"], remove=True,
    )  # fmt: skip
    assert python.decode().strip() == PYTHONS[suite]
    with running(docker_client, built.tag) as url:
        answer = httpx.post(url + INVOKE_PATH, content=b'{"name": "http"}', timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["message"] == "Hello, http!"
        client = boto3.client(
            "lambda", endpoint_url=url, region_name="us-east-1",
            aws_access_key_id="dummy", aws_secret_access_key="dummy",
        )  # fmt: skip
        reply = client.invoke(FunctionName="function", Payload=b'{"name": "boto3"}')
        assert reply["StatusCode"] == 200
        assert "FunctionError" not in reply
        assert json.loads(reply["Payload"].read())["message"] == "Hello, boto3!"


def test_entrypoint_runs_the_client_directly_when_a_runtime_api_is_set(
    docker_client: Any, bookworm_image: Any
) -> None:
    """AWS's emulator in front: it sets AWS_LAMBDA_RUNTIME_API, as Lambda does. (Marked docker
    only, so that images are built in one tox env; require_rie still fails under CI.)"""
    rie = peers.require_rie()
    with running(
        docker_client, bookworm_image.tag, entrypoint=["/usr/local/bin/aws-lambda-rie"],
        command=["/lambda-entrypoint.sh", "app.handler"],
        volumes={str(rie): {"bind": "/usr/local/bin/aws-lambda-rie", "mode": "ro"}},
    ) as url:  # fmt: skip
        answer = httpx.post(url + INVOKE_PATH, content=b'{"action": "runtime"}', timeout=30)
    assert answer.json() == {"awslambdaric": False, "lambdarig.runtime_client": True}


def test_our_emulator_in_place_of_aws_lambda_rie_as_aws_end_to_end_tests_run_it(
    docker_client: Any, bookworm_image: Any
) -> None:
    """AWS's test_end_to_end.py: ``--entrypoint aws-lambda-rie IMAGE /lambda-entrypoint.sh
    HANDLER --runtime-interface-emulator-address 0.0.0.0:8081``, with lambdarig-rie instead: the
    flag after the handler is the emulator's, and the entrypoint gets the handler alone."""
    with running(
        docker_client, bookworm_image.tag, container_port=8081,
        entrypoint=["python3", "-m", "lambdarig.rie_server"],
        command=[
            "/lambda-entrypoint.sh", "app.handler",
            "--runtime-interface-emulator-address", "0.0.0.0:8081",
        ],
    ) as url:  # fmt: skip
        answer = httpx.post(url + INVOKE_PATH, content=b'{"action": "runtime"}', timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"awslambdaric": False, "lambdarig.runtime_client": True}


def test_entrypoint_wants_exactly_one_handler(docker_client: Any, bookworm_image: Any) -> None:
    import docker

    with pytest.raises(docker.errors.ContainerError) as failed:
        docker_client.containers.run(bookworm_image.tag, ["a.handler", "b.handler"], remove=True)
    assert failed.value.exit_status == 142
    assert b"expected the handler as the only argument" in failed.value.stderr


@pytest.fixture(scope="module")
def awslambdaric_image(docker_client: Any) -> Iterator[Any]:
    base = require_base(docker_client, "bookworm")
    wheels = peers.cache_dir() / "wheels"
    with built_image(
        docker_client, session_tag("fn:awslambdaric"), base_image=base, variant="awslambdaric",
        pip_args=["--find-links", str(wheels)] if wheels.is_dir() else [],
    ) as built:  # fmt: skip
        yield built


def test_awslambdaric_variant_keeps_awslambdaric_behind_our_emulator(
    docker_client: Any, awslambdaric_image: Any
) -> None:
    with running(docker_client, awslambdaric_image.tag) as url:
        runtime = httpx.post(url + INVOKE_PATH, content=b'{"action": "runtime"}', timeout=30)
        echo = httpx.post(url + INVOKE_PATH, content=b'{"via": "ric"}', timeout=30)
    assert runtime.json() == {"awslambdaric": True, "lambdarig.runtime_client": False}
    assert echo.json()["event"] == {"via": "ric"}


def test_cli_builds_an_image_and_prints_sizes(docker_client: Any, tmp_path: Path) -> None:
    base = require_base(docker_client, "trixie")
    tag = session_tag("fn:cli")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lambdarig.cli", "image", "build", str(FUNCTION), "--tag", tag,
             "--base", base, "--python", "3.13", "-r", str(requirements),
             "--wheel-cache", str(wheel_cache())],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        # Progress: what is downloaded, then the engine's build steps, then the sizes.
        assert lines[0].startswith("preparing the build context in "), lines
        assert lines[1] == (
            "the runtime's wheels: none (lambdarig needs only the standard library)"
        ), lines
        assert lines[2].startswith(f"the function's requirements ({requirements}): 0 wheels")
        assert [line for line in lines if line.startswith("Step 1/")], lines
        last = lines[-1]
        assert last.startswith(f"built {tag} (sha256:")
        assert f"; base {base}: " in last and last.endswith(" MB")
    finally:
        docker_client.images.remove(tag, force=True)


def test_wheels_follow_the_base_image_architecture(docker_client: Any) -> None:
    from lambdarig.build.images import lambda_arch_of

    base = require_base(docker_client, "bookworm")
    engine = {"x86_64": "x86_64", "aarch64": "arm64"}[docker_client.info()["Architecture"]]
    assert lambda_arch_of(base, docker_client) == engine


def test_a_build_leaves_nothing_dangling_and_touches_no_other_image(docker_client: Any) -> None:
    """The build stage's images carry the build's label and go when the build ends; so does the
    image a rebuild untags. An untagged image lambdarig did not build stays."""
    import io
    import tarfile

    import docker

    from lambdarig.build.images import BUILD_LABEL, build_image

    base = require_base(docker_client, "bookworm")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.addfile(tarfile.TarInfo("not-ours"), io.BytesIO(b""))
    foreign = docker_client.api.import_image_from_data(buffer.getvalue())  # untagged: dangling
    foreign_id = json.loads(foreign.strip().splitlines()[-1])["status"]
    tag = session_tag("fn:rebuilt")

    def build(handler: str) -> Any:
        built = build_image(FUNCTION, tag, base_image=base, handler=handler, client=docker_client,
                            wheel_cache=wheel_cache(), progress=lambda _line: None)  # fmt: skip
        labelled = docker_client.images.list(filters={"label": f"{BUILD_LABEL}={built.build_id}"})
        assert [image.id for image in labelled] == [built.image_id]  # no stage image left
        return built

    try:
        first = build("app.handler")
        second = build("app.other")
        assert second.image_id != first.image_id
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(first.image_id)  # untagged by the rebuild: removed
        assert docker_client.images.get(foreign_id).id == foreign_id
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(tag, force=True)
        docker_client.images.remove(foreign_id, force=True)


def test_an_entrypoint_written_for_aws_lambda_rie_runs_unchanged(
    docker_client: Any, bookworm_image: Any
) -> None:
    """AWS's documented form, ENTRYPOINT ["/usr/local/bin/aws-lambda-rie", PYTHON, "-m", CLIENT],
    with lambdarig's runtime client: /usr/local/bin/aws-lambda-rie is our emulator."""
    entrypoint = ["/usr/local/bin/aws-lambda-rie", "python3", "-m", "lambdarig.runtime_client"]
    # (a new entrypoint drops the image's CMD, as `docker run --entrypoint` does: name the handler)
    with running(
        docker_client, bookworm_image.tag, entrypoint=entrypoint, command=["app.handler"]
    ) as url:
        answer = httpx.post(url + INVOKE_PATH, content=b'{"via": "aws-lambda-rie"}', timeout=30)
    assert answer.status_code == 200
    assert answer.json()["event"] == {"via": "aws-lambda-rie"}
