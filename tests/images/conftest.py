"""Docker fixtures for image and container-mode tests: one engine client and one image per
offline base per session; everything built or started here is removed at the end, except the
offline base images themselves: a missing one is built once (images/base/build-base.sh, about
40 s) and kept as a cache, as .ci/run keeps them."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import os
import shutil
import subprocess
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
# Offline bases built by images/base/build-base.sh (.ci/run builds them before the tests; a test
# that needs a missing one builds it).
BASE_REPO = "lambdarig-base"
BASES = {"bookworm": f"{BASE_REPO}:bookworm", "trixie": f"{BASE_REPO}:trixie"}
BUILD_BASE = Path(__file__).parents[2] / "images" / "base" / "build-base.sh"
BUILD_BASE_TIMEOUT_S = 600.0
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


def require_base(client: Any, suite: str, repo: str = BASE_REPO) -> str:
    """The tag of the offline base ``repo:suite``, built first when missing (skips when it cannot
    be built here: the reason names what is missing)."""
    import docker

    tag = f"{repo}:{suite}"
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        problem = build_base(suite, repo)
        if problem is not None:
            pytest.skip(f"offline base {tag} missing and not built here: {problem}")
    return tag


def build_base(suite: str, repo: str) -> str | None:
    """Run images/base/build-base.sh SUITE (idempotent) under a lock, so concurrent test sessions
    build a base once; None when it built, else why it could not."""
    if os.geteuid() != 0:
        return f"debootstrap needs root: run sudo {BUILD_BASE} {suite}"
    if shutil.which("debootstrap") is None:
        return f"debootstrap is not installed (apt-get install debootstrap), then {BUILD_BASE}"
    lock_path = Path(tempfile.gettempdir()) / f"lambdarig-build-base-{repo}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        try:
            done = subprocess.run(
                ["bash", str(BUILD_BASE), suite],
                env={**os.environ, "LAMBDARIG_BASE_REPO": repo},
                capture_output=True,
                text=True,
                check=False,
                timeout=BUILD_BASE_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return f"{BUILD_BASE} {suite} did not finish within {BUILD_BASE_TIMEOUT_S:.0f} s"
    if done.returncode != 0:
        return f"{BUILD_BASE} {suite} exited {done.returncode}: {done.stderr.strip()[-500:]}"
    return None


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
