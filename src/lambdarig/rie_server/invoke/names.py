"""Which function an Invoke API call names: a function name, a partial ARN or a full ARN, with
an optional qualifier (in the name or as ``?Qualifier=``), resolved against the emulated function.

Sans-IO; the answers (404 ``ResourceNotFoundException``, 400 ``InvalidParameterValueException``)
are returned as values for ``invoke.protocol`` to render.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import unquote

from lambdarig import invoke_api as api


@dataclass(frozen=True)
class FunctionIdentity:
    """Who the emulated function is: what callers may name, and the ARN the runtime sees."""

    name: str
    version: str = api.DEFAULT_FUNCTION_VERSION
    region: str = api.DEFAULT_REGION
    account: str = api.DEFAULT_ACCOUNT_ID

    @property
    def arn(self) -> str:
        return api.function_arn(self.name, self.region, self.account)


_STREAM_PREFIX, _, _STREAM_SUFFIX = api.PATH_INVOKE_STREAM.partition("{name}")


def is_stream_path(path: str) -> bool:
    """``path`` is an ``InvokeWithResponseStream`` request's."""
    return path.startswith(_STREAM_PREFIX) and path.endswith(_STREAM_SUFFIX)


@functools.lru_cache(maxsize=64)
def resolve_function(
    method: str, path: str, query_qualifier: str | None, function: FunctionIdentity
) -> str | tuple[int, str, str]:
    """The ARN an Invoke API ``method path [?Qualifier=]`` names (qualified when a qualifier was
    given), or the service's refusal as (status, error type, message). Cached: a client calls the
    same path again and again."""
    prefix, _, suffix = api.PATH_INVOKE.partition("{name}")
    if path.startswith(_STREAM_PREFIX):  # InvokeWithResponseStream names the function alike
        prefix, suffix = _STREAM_PREFIX, _STREAM_SUFFIX
    if method != "POST" or not (path.startswith(prefix) and path.endswith(suffix)):
        message = api.MESSAGE_UNKNOWN_OPERATION.format(method=method, path=path)
        return 404, api.ERROR_UNKNOWN_OPERATION, message
    name = unquote(path[len(prefix) : len(path) - len(suffix)])
    region, account, bare, qualifier = _split_function_name(name, function)
    if qualifier and query_qualifier and qualifier != query_qualifier:
        return 400, api.ERROR_INVALID_PARAMETER_VALUE, api.MESSAGE_QUALIFIER_MISMATCH
    qualifier = qualifier or query_qualifier
    if bare == api.RIE_FUNCTION_NAME and not name.startswith(api.ARN_PREFIX):
        bare = function.name
    arn = api.function_arn(bare, region, account)
    qualified = f"{arn}:{qualifier}" if qualifier else arn
    known = (bare, region, account) == (function.name, function.region, function.account)
    if not known or qualifier not in (None, api.LATEST_VERSION, function.version):
        return (
            404,
            api.ERROR_RESOURCE_NOT_FOUND,
            api.MESSAGE_FUNCTION_NOT_FOUND.format(arn=qualified),
        )
    return qualified


def _split_function_name(name: str, function: FunctionIdentity) -> tuple[str, str, str, str | None]:
    """``name[:qual]``, ``acct:function:name[:qual]`` or a full ARN → (region, acct, name, qual)."""
    parts = name.split(":")
    region, account = function.region, function.account
    if name.startswith(api.ARN_PREFIX) and len(parts) >= 7:
        region, account, rest = parts[3], parts[4], parts[5:]
    elif len(parts) >= 3 and parts[1] == api.ARN_FUNCTION_SEGMENT:
        account, rest = parts[0], parts[1:]
    else:
        return region, account, parts[0], (parts[1] if len(parts) > 1 else None)
    if rest[0] != api.ARN_FUNCTION_SEGMENT or len(rest) > 3:
        return region, account, name, None  # not a function ARN: reported as not found
    return region, account, rest[1], (rest[2] if len(rest) > 2 else None)
