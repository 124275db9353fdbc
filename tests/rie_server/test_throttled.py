"""``rie_server.throttled``: which limit a function's 429 names (API_Invoke.html, Errors)."""

from __future__ import annotations

import pytest

from lambdarig import invoke_api
from lambdarig.rie_server.throttled import throttle_reason


@pytest.mark.parametrize("reserved", [0, 1, 50])
def test_a_function_with_reserved_concurrency_names_its_own_limit(reserved: int) -> None:
    assert throttle_reason(reserved) == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert throttle_reason(reserved) == invoke_api.THROTTLE_REASON_RESERVED


def test_any_other_function_names_the_accounts_limit() -> None:
    # A template function without ReservedConcurrentExecutions (10 environments), as
    # --max-concurrency of a single function (tests/rie_server/test_emulator.py).
    assert throttle_reason(None) == "ConcurrentInvocationLimitExceeded"
