"""``lambdarig-rie --image``: environments as containers of a built function image (Docker)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.images.conftest import HELLO, built_image, engine_client, require_base, session_tag
from tests.integration.conftest import LOCAL
from tests.rie_server.emulator_process import emulator

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def hello_tag() -> Iterator[str]:
    client = engine_client()
    base = require_base(client, "bookworm")
    with built_image(
        client, session_tag("rie-image:bookworm"), code=HELLO, base_image=base
    ) as built:
        yield str(built.tag)
    client.close()


def test_image_mode_serves_and_removes_its_containers(hello_tag: str, tmp_path: Path) -> None:
    import docker

    client: Any = docker.from_env()
    argv = [*LOCAL, "--image", hello_tag, "--timeout", "5", "--memory", "256", "app.handler"]
    with emulator(argv, tmp_path) as running:
        url = f"{running.url}/2015-03-31/functions/function/invocations"
        response = httpx.post(url, json={"name": "container"}, timeout=60)
        mine = client.containers.list(filters={"label": f"lambdarig.owner={running.process.pid}"})
        assert len(mine) == 1
        printed = running.stdout()
    assert response.status_code == 200
    assert response.json()["message"] == "Hello, container!"
    assert "hello handler called for container" in printed
    left = client.containers.list(
        all=True, filters={"label": f"lambdarig.owner={running.process.pid}"}
    )
    assert left == []
    client.close()
