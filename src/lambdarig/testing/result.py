""":class:`InvokeResult`: what one invoke returned, and what the logs said about it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lambdarig.testing.reports import Report


@dataclass(frozen=True)
class InvokeResult:
    """One Invoke API answer plus the invocation's log lines and REPORT figures.

    ``function_error`` is the ``X-Amz-Function-Error`` header (``"Unhandled"`` when the function
    failed, else ``None``). ``logs`` are the function's output lines between START and END;
    ``init_logs`` the lines printed before START (module-level code on a cold start). ``report``
    is ``None`` when the emulator printed no REPORT for it (e.g. an ``Event`` invoke).
    """

    status_code: int
    raw: bytes
    headers: dict[str, str] = field(repr=False)
    function_error: str | None = None
    request_id: str | None = None
    logs: list[str] = field(default_factory=list)
    init_logs: list[str] = field(default_factory=list, repr=False)
    report: Report | None = None
    log_result: str | None = field(default=None, repr=False)

    @property
    def payload(self) -> Any:
        """The body decoded as JSON; the raw ``bytes`` if it is not JSON (or empty: ``None``)."""
        if not self.raw:
            return None
        try:
            return json.loads(self.raw)
        except ValueError:
            return self.raw

    @property
    def text(self) -> str:
        """The body as UTF-8 text."""
        return self.raw.decode("utf-8", errors="replace")

    @property
    def log_text(self) -> str:
        """``logs`` joined with newlines."""
        return "\n".join(self.logs)
