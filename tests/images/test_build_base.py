"""images/base/build-base.sh: the offline base images exist after CI's run; running the script again
is a no-op that says so; a suite it does not know is refused with the expected ones named. A test
that needs a missing base builds it, or skips saying why it cannot."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.images.conftest import BASES, require_base

SCRIPT = Path(__file__).parents[2] / "images" / "base" / "build-base.sh"


def test_an_unknown_suite_is_refused() -> None:
    done = subprocess.run(
        ["bash", str(SCRIPT), "sid"], capture_output=True, text=True, check=False, timeout=30
    )
    assert done.returncode == 2
    assert done.stderr == (
        "build-base.sh: expected a suite 'bookworm', 'trixie' or 'all', got 'sid'\n"
    )


@pytest.mark.docker
@pytest.mark.parametrize("suite", sorted(BASES))
def test_an_existing_base_is_kept(docker_client: Any, suite: str) -> None:
    tag = require_base(docker_client, suite)
    before = docker_client.images.get(tag).id
    done = subprocess.run(
        ["bash", str(SCRIPT), suite], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"build-base.sh: {tag} exists, skipping\n"
    assert docker_client.images.get(tag).id == before
    python = {"bookworm": "3.11", "trixie": "3.13"}[suite]
    assert docker_client.images.get(f"lambdarig-base:python{python}").id == before


class _NoImages:
    def get(self, tag: str) -> Any:
        import docker

        raise docker.errors.ImageNotFound(tag)


class _ClientWithoutImages:
    images = _NoImages()


def test_a_missing_base_that_cannot_be_built_skips_naming_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("docker")
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(pytest.skip.Exception, match="bookworm missing .*debootstrap"):
        require_base(_ClientWithoutImages(), "bookworm")


@pytest.mark.docker
@pytest.mark.slow
def test_a_missing_base_is_built_and_tagged(docker_client: Any) -> None:
    import docker

    repo = f"lambdarig-test-base-{os.getpid()}"
    try:
        tag = require_base(docker_client, "bookworm", repo=repo)
        assert tag == f"{repo}:bookworm"
        assert f"{repo}:python3.11" in docker_client.images.get(tag).tags
    finally:
        for built in (f"{repo}:bookworm", f"{repo}:python3.11"):
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(built, force=True)
