"""What the command line chooses among, light enough to import before the Invoke API socket is
bound (``fast_start``): the compatibility mode, the log format, the tracing mode, the function's
identity and the Event invocations' retry policy. Their users import them from where they belong
(``invoke.protocol``, ``platform_logs``, ``invoke.names``, ``invoke.async_invocations``), which
re-export them; ``config`` and ``arguments`` import them from here so that reading the command line
loads no protocol module (each costs milliseconds of start-up).
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from lambdarig import invoke_api


class CompatMode(enum.Enum):
    """Whose Invoke API answers to imitate."""

    SERVICE = "service"
    RIE = "rie"


class LogFormat(enum.Enum):
    TEXT = "Text"
    JSON = "JSON"


class Tracing(enum.Enum):
    """X-Ray tracing mode (the function's ``TracingConfig.Mode``): ``ACTIVE`` sends Lambda's
    segments for sampled invocations (``rie_server.tracing``)."""

    PASSTHROUGH = "PassThrough"
    ACTIVE = "Active"


# Seconds to wait before each retry of an Event invocation, as the service does: ~1 min, then
# ~2 more minutes.
DEFAULT_RETRY_DELAYS_S: tuple[float, ...] = (60.0, 120.0)
MAX_RETRY_ATTEMPTS = 2


class FunctionIdentity(NamedTuple):
    """Who the emulated function is: what callers may name, and the ARN the runtime sees."""

    name: str
    version: str = invoke_api.DEFAULT_FUNCTION_VERSION
    region: str = invoke_api.DEFAULT_REGION
    account: str = invoke_api.DEFAULT_ACCOUNT_ID
    # A project's function also answers to its template logical id, and to its published
    # version and alias (``AutoPublishAlias``) besides ``$LATEST``.
    other_names: tuple[str, ...] = ()
    qualifiers: tuple[str, ...] = ()

    def answers_to(self, bare: str, region: str, account: str) -> bool:
        """True if a caller naming ``bare`` in ``region``/``account`` means this function."""
        names = (self.name, *self.other_names)
        return bare in names and (region, account) == (self.region, self.account)

    def knows_qualifier(self, qualifier: str | None) -> bool:
        return qualifier in (None, invoke_api.LATEST_VERSION, self.version, *self.qualifiers)

    def executed_version(self, qualifier: str | None) -> str:
        """The version an invoke with ``qualifier`` runs (``X-Amz-Executed-Version``): the
        function's version when unqualified, ``$LATEST`` for ``$LATEST``, a version number for
        itself, and for an alias the version it points to: the highest published one (an
        ``AutoPublishAlias`` points to the version it published)."""
        if qualifier is None:
            return self.version
        if qualifier == invoke_api.LATEST_VERSION or qualifier.isdigit():
            return qualifier
        published = [int(name) for name in self.qualifiers if name.isdigit()]
        return str(max(published)) if published else self.version

    @property
    def arn(self) -> str:
        return invoke_api.function_arn(self.name, self.region, self.account)
