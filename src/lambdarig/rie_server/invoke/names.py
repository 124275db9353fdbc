"""Which function an Invoke API call names: a function name, a partial ARN or a full ARN, with
an optional qualifier (in the name or as ``?Qualifier=``), resolved against the emulated function.

Sans-IO; the answers (404 ``ResourceNotFoundException``, 400 ``InvalidParameterValueException``)
are returned as values for ``invoke.protocol`` to render.
"""

from __future__ import annotations

import functools

from lambdarig import invoke_api
from lambdarig.rie_server.choices import FunctionIdentity

_STREAM_PREFIX, _, _STREAM_SUFFIX = invoke_api.PATH_INVOKE_STREAM.partition("{name}")


def is_stream_path(path: str) -> bool:
    """``path`` is an ``InvokeWithResponseStream`` request's."""
    return path.startswith(_STREAM_PREFIX) and path.endswith(_STREAM_SUFFIX)


class Resolved:
    """Which of the functions an Invoke API call names (``index``) and the ARN it invoked
    (qualified when a qualifier was given, always with the function's name)."""

    __slots__ = ("index", "arn", "qualifier")

    def __init__(self, index: int, arn: str, qualifier: str | None = None) -> None:
        self.index = index
        self.arn = arn
        self.qualifier = qualifier


Refusal = tuple[int, str, str]  # (status, error type, message)


def qualifier_of(arn: str) -> str | None:
    """The qualifier of a function ARN as ``find_function`` builds it
    (``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``), or None."""
    parts = arn.split(":")
    return parts[7] if len(parts) == 8 else None


def executed_version(invoked_arn: str, function: FunctionIdentity) -> str:
    """``X-Amz-Executed-Version`` of an invoke of ``invoked_arn`` (see
    ``FunctionIdentity.executed_version``)."""
    return function.executed_version(qualifier_of(invoked_arn))


@functools.lru_cache(maxsize=64)
def resolve_function(
    method: str, path: str, query_qualifier: str | None, function: FunctionIdentity
) -> str | Refusal:
    """The ARN an Invoke API ``method path [?Qualifier=]`` names (qualified when a qualifier was
    given), or the service's refusal as (status, error type, message). Cached: a client calls the
    same path again and again. aws-lambda-rie's literal name ``function`` means the function."""
    found = resolve_among(method, path, query_qualifier, (function,), rie_name=True)
    return found.arn if isinstance(found, Resolved) else found


@functools.lru_cache(maxsize=256)
def resolve_among(
    method: str,
    path: str,
    query_qualifier: str | None,
    functions: tuple[FunctionIdentity, ...],
    *,
    rie_name: bool = False,
) -> Resolved | Refusal:
    """As ``resolve_function``, across ``functions`` (by name, other name or ARN; the first
    function's region and account are the default for a bare name). ``rie_name``: the literal
    ``function`` names the first function."""
    prefix, _, suffix = invoke_api.PATH_INVOKE.partition("{name}")
    if path.startswith(_STREAM_PREFIX):  # InvokeWithResponseStream names the function alike
        prefix, suffix = _STREAM_PREFIX, _STREAM_SUFFIX
    if method != "POST" or not (path.startswith(prefix) and path.endswith(suffix)):
        message = invoke_api.MESSAGE_UNKNOWN_OPERATION.format(method=method, path=path)
        return 404, invoke_api.ERROR_UNKNOWN_OPERATION, message
    name = path[len(prefix) : len(path) - len(suffix)]
    if "%" in name:  # imported only then: urllib.parse loads ipaddress
        from urllib.parse import unquote

        name = unquote(name)
    return find_function(name, query_qualifier, functions, rie_name=rie_name)


def find_function(
    name: str,
    query_qualifier: str | None,
    functions: tuple[FunctionIdentity, ...],
    *,
    rie_name: bool = False,
) -> Resolved | Refusal:
    """The function ``name`` (a name, partial or full ARN, ``[:qualifier]``) designates among
    ``functions``, or the service's 400/404 refusal."""
    first = functions[0]
    region, account, bare, qualifier = _split_function_name(name, first)
    if qualifier and query_qualifier and qualifier != query_qualifier:
        return 400, invoke_api.ERROR_INVALID_PARAMETER_VALUE, invoke_api.MESSAGE_QUALIFIER_MISMATCH
    qualifier = qualifier or query_qualifier
    if (
        rie_name
        and bare == invoke_api.RIE_FUNCTION_NAME
        and not name.startswith(invoke_api.ARN_PREFIX)
    ):
        bare = first.name
    for index, function in enumerate(functions):
        if function.answers_to(bare, region, account) and function.knows_qualifier(qualifier):
            arn = invoke_api.function_arn(function.name, region, account)
            return Resolved(index, f"{arn}:{qualifier}" if qualifier else arn, qualifier)
    arn = invoke_api.function_arn(bare, region, account)
    qualified = f"{arn}:{qualifier}" if qualifier else arn
    return (
        404,
        invoke_api.ERROR_RESOURCE_NOT_FOUND,
        invoke_api.MESSAGE_FUNCTION_NOT_FOUND.format(arn=qualified),
    )


def _split_function_name(name: str, function: FunctionIdentity) -> tuple[str, str, str, str | None]:
    """``name[:qual]``, ``acct:function:name[:qual]`` or a full ARN → (region, acct, name, qual)."""
    parts = name.split(":")
    region, account = function.region, function.account
    if name.startswith(invoke_api.ARN_PREFIX) and len(parts) >= 7:
        region, account, rest = parts[3], parts[4], parts[5:]
    elif len(parts) >= 3 and parts[1] == invoke_api.ARN_FUNCTION_SEGMENT:
        account, rest = parts[0], parts[1:]
    else:
        return region, account, parts[0], (parts[1] if len(parts) > 1 else None)
    if rest[0] != invoke_api.ARN_FUNCTION_SEGMENT or len(rest) > 3:
        return region, account, name, None  # not a function ARN: reported as not found
    return region, account, rest[1], (rest[2] if len(rest) > 2 else None)
