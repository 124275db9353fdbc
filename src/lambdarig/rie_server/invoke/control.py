"""The read-only control plane a project's emulator answers, in the Lambda API's shapes: tools and
scripts discover the functions with ``ListFunctions``, ``GetFunction``,
``GetFunctionConfiguration``, ``ListVersionsByFunction``, ``ListAliases`` and ``GetAlias``
(https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html).

Sans-IO: a ``RawRequest`` and the functions' ``FunctionRecord`` values in, an ``HttpResponse`` out
(or None when the request is not a control-plane read, for the Invoke API to answer). Nothing is
listed that the template did not declare. The lists are paginated as the service paginates them
(``Marker``, ``MaxItems``, ``NextMarker``: ``invoke.pages``); ``ListFunctions`` with
``FunctionVersion=ALL`` lists each function's published version after its ``$LATEST``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from lambdarig import invoke_api
from lambdarig.rie_server.choices import FunctionIdentity
from lambdarig.rie_server.invoke import pages
from lambdarig.rie_server.invoke.names import Resolved, find_function
from lambdarig.rie_server.invoke.protocol import HttpResponse, RawRequest, service_error
from lambdarig.runtime_api import CONTENT_TYPE_JSON

FUNCTIONS_PATH = "/" + invoke_api.INVOKE_API_VERSION + "/functions"
PUBLISHED_VERSION = "1"  # the version AutoPublishAlias publishes (the first one)
MESSAGE_ALIAS_NOT_FOUND = "Cannot find alias arn: {arn}"
LAST_MODIFIED = "1970-01-01T00:00:00.000+0000"  # set at start by the caller
ROLE = "arn:aws:iam::{account}:role/{name}-role"
LOG_GROUP = "/aws/lambda/{name}"
QUERY_FUNCTION_VERSION = "FunctionVersion"
FUNCTION_VERSION_ALL = "ALL"
MESSAGE_BAD_FUNCTION_VERSION = (
    "1 validation error detected: Value at 'functionVersion' failed to satisfy constraint: "
    "Member must satisfy enum value set: [ALL]"
)


@dataclass(frozen=True)
class FunctionRecord:
    """What the control plane tells about one function."""

    identity: FunctionIdentity
    handler: str | None
    runtime: str | None
    timeout_s: int
    memory_mb: int
    environment: Mapping[str, str] = field(default_factory=dict)
    layers: tuple[str, ...] = ()  # layer version ARNs
    package_type: str = "Zip"
    image_uri: str | None = None
    architectures: tuple[str, ...] = ("x86_64",)
    reserved_concurrency: int | None = None
    alias: str | None = None
    tracing: str | None = None
    last_modified: str = LAST_MODIFIED


def answer(
    raw: RawRequest, records: Sequence[FunctionRecord], request_id: str
) -> HttpResponse | None:
    """The control plane's answer to ``raw``, or None if it is not a control-plane read."""
    if raw.method != "GET" or not (raw.path + "/").startswith(FUNCTIONS_PATH + "/"):
        return None
    parts = [unquote(part) for part in raw.path[len(FUNCTIONS_PATH) :].split("/") if part]
    if not parts:
        return _list_functions(raw.query, records, request_id)
    identities = tuple(record.identity for record in records)
    qualifier = raw.query.get(invoke_api.QUERY_QUALIFIER) or None
    found = find_function(parts[0], qualifier, identities)
    if not isinstance(found, Resolved):
        return service_error(*found, request_id)
    record = records[found.index]
    rest = parts[1:]
    if not rest:
        return _ok(_get_function(record, found.qualifier), request_id)
    if rest == ["configuration"]:
        return _ok(configuration(record, found.qualifier), request_id)
    if rest == ["aliases"]:
        version = raw.query.get(QUERY_FUNCTION_VERSION)  # only aliases to this version
        aliases = [_alias(record)] if record.alias and version in (None, PUBLISHED_VERSION) else []
        names = [alias["Name"] for alias in aliases]
        return _listed("Aliases", aliases, names, raw.query, None, request_id)
    if rest == ["versions"]:
        versions = _versions(record)
        keys = [version["Version"] for version in versions]
        return _listed("Versions", versions, keys, raw.query, pages.PAGE_SIZE, request_id)
    if len(rest) == 2 and rest[0] == "aliases":
        if rest[1] != record.alias:
            arn = f"{record.identity.arn}:{rest[1]}"
            message = MESSAGE_ALIAS_NOT_FOUND.format(arn=arn)
            return service_error(404, invoke_api.ERROR_RESOURCE_NOT_FOUND, message, request_id)
        return _ok(_alias(record), request_id)
    return None


def _list_functions(
    query: Mapping[str, str], records: Sequence[FunctionRecord], request_id: str
) -> HttpResponse:
    """``ListFunctions``: ``$LATEST`` of each function, or with ``FunctionVersion=ALL`` each
    function's versions (``$LATEST``, then the published one)."""
    version = query.get(QUERY_FUNCTION_VERSION)
    if version is None:
        listed = [configuration(record) for record in records]
    elif version == FUNCTION_VERSION_ALL:
        listed = [config for record in records for config in _versions(record)]
    else:
        return service_error(400, pages.ERROR_VALIDATION, MESSAGE_BAD_FUNCTION_VERSION, request_id)
    keys = [config["FunctionArn"] for config in listed]
    return _listed("Functions", listed, keys, query, pages.PAGE_SIZE, request_id)


def _versions(record: FunctionRecord) -> list[dict[str, Any]]:
    """``$LATEST``, then the version ``AutoPublishAlias`` published."""
    versions = [configuration(record)]
    if record.alias:
        versions.append(configuration(record, PUBLISHED_VERSION))
    return versions


def _listed(
    name: str,
    items: Sequence[dict[str, Any]],
    keys: Sequence[str],
    query: Mapping[str, str],
    cap: int | None,
    request_id: str,
) -> HttpResponse:
    """``{name: [page], "NextMarker": ...}`` for the page ``query`` asks for, or the refusal."""
    page = pages.paginate(items, keys, query, cap)
    if not isinstance(page, pages.Page):
        return service_error(*page, request_id)
    answer: dict[str, Any] = {name: list(page.items)}
    if page.next_marker is not None:
        answer["NextMarker"] = page.next_marker
    return _ok(answer, request_id)


def configuration(record: FunctionRecord, qualifier: str | None = None) -> dict[str, Any]:
    """``FunctionConfiguration``; ``qualifier`` (a version or the alias) picks the version."""
    identity = record.identity
    version = invoke_api.LATEST_VERSION
    if qualifier not in (None, invoke_api.LATEST_VERSION):
        version = PUBLISHED_VERSION
    arn = identity.arn if version == invoke_api.LATEST_VERSION else f"{identity.arn}:{version}"
    config: dict[str, Any] = {
        "FunctionName": identity.name,
        "FunctionArn": arn,
        "Role": ROLE.format(account=identity.account, name=identity.name),
        "CodeSize": 0,
        "Description": "",
        "Timeout": record.timeout_s,
        "MemorySize": record.memory_mb,
        "LastModified": record.last_modified,
        "CodeSha256": "",
        "Version": version,
        "TracingConfig": {"Mode": record.tracing or "PassThrough"},
        "RevisionId": "00000000-0000-0000-0000-000000000001",
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": record.package_type,
        "Architectures": list(record.architectures),
        "EphemeralStorage": {"Size": 512},
        "LoggingConfig": {
            "LogFormat": "Text",
            "LogGroup": LOG_GROUP.format(name=identity.name),
        },
    }
    if record.package_type == "Zip":
        config["Runtime"] = record.runtime
        config["Handler"] = record.handler
    if record.environment:
        config["Environment"] = {"Variables": dict(record.environment)}
    if record.layers:
        config["Layers"] = [{"Arn": arn, "CodeSize": 0} for arn in record.layers]
    return config


def _get_function(record: FunctionRecord, qualifier: str | None) -> dict[str, Any]:
    code: dict[str, str] = {"RepositoryType": "S3", "Location": ""}
    if record.package_type == "Image":
        code = {"RepositoryType": "ECR", "ImageUri": record.image_uri or ""}
    answer: dict[str, Any] = {"Configuration": configuration(record, qualifier), "Code": code}
    if record.reserved_concurrency is not None:
        answer["Concurrency"] = {"ReservedConcurrentExecutions": record.reserved_concurrency}
    return answer


def _alias(record: FunctionRecord) -> dict[str, Any]:
    return {
        "AliasArn": f"{record.identity.arn}:{record.alias}",
        "Name": record.alias,
        "FunctionVersion": PUBLISHED_VERSION,
        "Description": "",
        "RevisionId": "00000000-0000-0000-0000-000000000001",
    }


def _ok(value: Mapping[str, Any], request_id: str) -> HttpResponse:
    headers = (("Content-Type", CONTENT_TYPE_JSON), (invoke_api.HEADER_REQUEST_ID, request_id))
    return HttpResponse(200, headers, json.dumps(value).encode("utf-8"))
