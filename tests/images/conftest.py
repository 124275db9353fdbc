"""Docker fixtures for image and container-mode tests: one engine client and one image per
offline base per session; everything built or started here is removed at the end."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lambdarig.invoke_api import PATH_INVOKE

FUNCTION = Path(__file__).parent / "fixtures" / "function"
HELLO = Path(__file__).parents[2] / "examples" / "hello"
# Offline bases built by images/base/build-base.sh (.ci/run builds them before the tests).
BASES = {"bookworm": "lambdarig-base:bookworm", "trixie": "lambdarig-base:trixie"}
INVOKE_PATH = PATH_INVOKE.format(name="function")


def session_tag(name: str) -> str:
    """A tag unique to this test session, so parallel sessions never remove each other's images."""
    return f"lambdarig-test/{name}-{os.getpid()}"


def engine_client() -> Any:
    """A client of the local Docker engine (the caller closes it); skips when none is reachable."""
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no reachable Docker engine: {exc}")
    return client


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    client = engine_client()
    yield client
    client.close()


def require_base(client: Any, suite: str) -> str:
    import docker

    try:
        client.images.get(BASES[suite])
    except docker.errors.ImageNotFound:
        pytest.skip(f"offline base {BASES[suite]} missing: run images/base/build-base.sh {suite}")
    return BASES[suite]


@functools.cache
def wheel_cache() -> Path:
    """One wheel cache per test process: images built for the same Python share their downloads
    (pip download is most of a build's time). Removed when the process exits."""
    cache = Path(tempfile.mkdtemp(prefix="lambdarig-test-wheels-"))
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    return cache


@contextlib.contextmanager
def built_image(client: Any, tag: str, code: Path = FUNCTION, **kwargs: Any) -> Iterator[Any]:
    """Build ``tag`` from ``code`` (sharing this process's wheel cache); remove it after. The build
    removes its own stage images: nothing else on the engine is touched."""
    from lambdarig.build.images import build_image

    kwargs.setdefault("wheel_cache", wheel_cache())
    built = build_image(code, tag, client=client, progress=lambda _line: None, **kwargs)
    try:
        yield built
    finally:
        client.images.remove(built.tag, force=True)


@pytest.fixture(scope="session")
def bookworm_image(docker_client: Any) -> Iterator[Any]:
    base = require_base(docker_client, "bookworm")
    with built_image(docker_client, session_tag("fn:bookworm"), base_image=base) as built:
        yield built


@pytest.fixture(scope="session", params=sorted(BASES))
def hello_image(request: pytest.FixtureRequest, docker_client: Any) -> Iterator[tuple[str, Any]]:
    """examples/hello built on each offline base: (suite, ImageBuild)."""
    suite = request.param
    base = require_base(docker_client, suite)
    tag = session_tag(f"hello:{suite}")
    with built_image(docker_client, tag, code=HELLO, base_image=base) as built:
        yield suite, built


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return False
    return True


@contextlib.contextmanager
def running(
    client: Any, image: str, deadline_s: float = 20.0, container_port: int = 8080, **kwargs: Any
) -> Iterator[str]:
    """``docker run -p 127.0.0.1::8080 IMAGE`` (or ``container_port``); yield the base URL once
    HTTP answers; remove."""
    published = f"{container_port}/tcp"
    container = client.containers.run(
        image, detach=True, ports={published: ("127.0.0.1", None)}, **kwargs
    )
    try:
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"][published][0]["HostPort"]
        url = f"http://127.0.0.1:{port}"
        give_up = time.monotonic() + deadline_s
        while not _answers(f"{url}/"):
            container.reload()
            if container.status == "exited" or time.monotonic() > give_up:
                logs = container.logs().decode(errors="replace")[-2000:]
                raise AssertionError(f"container never answered HTTP on {url}:\n{logs}")
            time.sleep(0.05)  # poll interval of the readiness probe
        yield url
    finally:
        container.remove(force=True)
