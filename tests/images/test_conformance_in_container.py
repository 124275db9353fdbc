"""The conformance kit's cases with the runtime inside a container (`lambdarig-rie --image`): the
reference handler is built into an image on the offline bookworm base, and every case must pass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lambdarig.conformance.cases import CASES, FUNCTION_NAME, Environment
from lambdarig.conformance.kit import EMULATOR_ARGS, REFERENCE_DIR, REFERENCE_HANDLER
from lambdarig.testing import FunctionSpec, HarnessError, LambdaFunction
from tests.images.conftest import built_image, require_base, session_tag

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def reference_image(docker_client: Any) -> Iterator[str]:
    base = require_base(docker_client, "bookworm")
    tag = session_tag("conformance:bookworm")
    with built_image(
        docker_client, tag, code=REFERENCE_DIR, base_image=base, handler=REFERENCE_HANDLER
    ) as built:
        yield built.tag


def _differences(image: str, environment: Environment) -> list[str]:
    spec = FunctionSpec.build(
        REFERENCE_HANDLER,
        image=image,
        env=dict(environment.env),
        timeout=environment.timeout,
        name=FUNCTION_NAME,
        emulator_args=EMULATOR_ARGS,
    )
    found: list[str] = []
    with LambdaFunction(spec) as fn:
        for case in (c for c in CASES if c.environment == environment):
            try:
                fn.reset()  # restarts the emulator if a case crashed it
                found += [f"{case.name}: {diff}" for diff in case.check(fn)]
                fn.check()
            except HarnessError as exc:
                found.append(f"{case.name}: {type(exc).__name__}: {exc}")
    return found


@pytest.mark.parametrize(
    "environment",
    list(dict.fromkeys(case.environment for case in CASES)),
    ids=lambda environment: str(environment.name),
)
def test_conformance_cases_pass_in_a_container(
    reference_image: str, environment: Environment
) -> None:
    assert _differences(reference_image, environment) == []
