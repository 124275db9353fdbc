"""``LambdaContext``: the handler's second argument, attribute for attribute awslambdaric's.

Values awslambdaric reads from environment variables at construction come from
:class:`~lambdarig.runtime_client.config.RuntimeConfig`; the clock is injectable so
``get_remaining_time_in_millis`` is testable. ``memory_limit_in_mb`` is a string, as in Lambda.
"""

from __future__ import annotations

import sys
import time

from lambdarig import runtime_api as wire
from lambdarig.runtime_client.errors import FaultError

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~10 ms of cold start
if TYPE_CHECKING:
    from typing import Any, Callable

    from lambdarig.runtime_client.config import RuntimeConfig

# The W3C trace-context keys LambdaContext.w3c() exposes from clientContext.w3c (string values).
W3C_ALLOWED_FIELDS = ("traceparent", "tracestate", "baggage")


class CognitoIdentity:
    """``context.identity``: both attributes ``None`` unless the invoke carried an identity."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity: Any = None) -> None:
        source = {} if identity is None else identity
        self.cognito_identity_id = source.get("cognitoIdentityId")
        self.cognito_identity_pool_id = source.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    """``context.client_context.client``: the mobile SDK's client description."""

    __slots__ = (
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    )

    def __init__(self, source: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, source.get(name, None))

    def __repr__(self) -> str:
        fields = ",".join(f"{name}={getattr(self, name)}" for name in self.__slots__)
        return f"Client([{fields}])"


class ClientContext:
    """``context.client_context``: ``custom``, ``env`` and ``client`` of the client context."""

    __slots__ = ("custom", "env", "client")

    def __init__(self, source: Any) -> None:
        self.custom = source.get("custom", None)
        self.env = source.get("env", None)
        client = source.get("client", None)
        self.client = None if client is None else Client(client)

    def __repr__(self) -> str:
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


class LambdaContext:
    """Per-invocation metadata. ``client_context`` is ``None`` unless the invoke carried one."""

    def __init__(
        self,
        invoke_id: str,
        client_context: Any,
        cognito_identity: Any,
        epoch_deadline_time_in_ms: int,
        invoked_function_arn: str | None = None,
        tenant_id: str | None = None,
        config: RuntimeConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.aws_request_id = invoke_id
        self.log_group_name = config.log_group_name if config else None
        self.log_stream_name = config.log_stream_name if config else None
        self.function_name = config.function_name if config else None
        self.memory_limit_in_mb = config.memory_size if config else None
        self.function_version = config.function_version if config else None
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self._w3c_fields = _pop_w3c(client_context)
        self.client_context = None if client_context is None else ClientContext(client_context)
        self.identity = CognitoIdentity(cognito_identity)
        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the deadline, never negative."""
        delta_ms: int = self._epoch_deadline_time_in_ms - int(self._clock() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def w3c(self) -> dict[str, str]:
        """A copy of the W3C trace-context fields the invoke carried in ``clientContext.w3c``."""
        return dict(self._w3c_fields)

    def log(self, msg: Any) -> None:
        """Write ``str(msg)`` raw through the runtime's log sink (stdout when there is none)."""
        import logging  # already imported (and configured) in practice; cheap then

        for handler in logging.getLogger().handlers:
            if hasattr(handler, "log_sink"):
                handler.log_sink.log(str(msg))
                return
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}])"
        )


def _pop_w3c(client_context: Any) -> dict[str, str]:
    """Remove ``w3c`` from the parsed client context; return its allowlisted string fields."""
    if not isinstance(client_context, dict) or "w3c" not in client_context:
        return {}
    raw = client_context.pop("w3c")
    if not isinstance(raw, dict):
        return {}
    return {key: raw[key] for key in W3C_ALLOWED_FIELDS if isinstance(raw.get(key), str)}


def parse_json_header(header: str, name: str) -> Any:
    """Parse a JSON-valued invoke header; ``Runtime.LambdaContextUnmarshalError`` on failure."""
    import json  # stdlib json, as awslambdaric (not its simplejson marshaller)

    try:
        return json.loads(header)
    except Exception as exc:  # awslambdaric reports any parse failure the same way
        raise FaultError(
            f"Unable to parse {name} JSON: {exc}", wire.RUNTIME_CONTEXT_UNMARSHAL_ERROR
        ) from exc


def context_for(
    inv: wire.Invocation, config: RuntimeConfig, clock: Callable[[], float] = time.time
) -> LambdaContext:
    """The context of ``inv``; raises :class:`FaultError` when a JSON header does not parse."""
    client_context = None
    if inv.client_context:
        client_context = parse_json_header(inv.client_context, "Client Context")
    cognito_identity = None
    if inv.cognito_identity:
        cognito_identity = parse_json_header(inv.cognito_identity, "Cognito Identity")
    return LambdaContext(
        inv.request_id,
        client_context,
        cognito_identity,
        inv.deadline_ms,
        inv.invoked_function_arn,
        inv.tenant_id,
        config=config,
        clock=clock,
    )
