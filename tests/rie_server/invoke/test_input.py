"""What the Invoke API lets through to a runtime: trace header, client context, JSON depth."""

from __future__ import annotations

import base64
import json
import sys

import pytest

from lambdarig import invoke_api
from lambdarig.rie_server.invoke.input import client_context, load_json, too_deep, trace_header

ROOT = "Root=1-5759e988-bd862e3fe1be46a994272793"
VALID_TRACE = f"{ROOT};Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.mark.parametrize(
    "value",
    [
        VALID_TRACE,
        ROOT,
        f"{ROOT};Sampled=0",
        f"{ROOT};Parent=53995c3f42cd8ad8;Sampled=?",
        f"Self=1-67891234-12456789abcdef012345678;{ROOT};Parent=53995c3f42cd8ad8",
        f"{VALID_TRACE};Lineage=a87bd80c:1|68fd508a:5",
        f"{ROOT}; Parent=53995c3f42cd8ad8; Sampled=1;",
    ],
)
def test_well_formed_trace_headers_are_forwarded_as_sent(value: str) -> None:
    assert trace_header(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "Parent=53995c3f42cd8ad8;Sampled=1",  # no Root
        "Root=1-5759e988-bd862e3f;Parent=53995c3f42cd8ad8",  # short root
        "Root=2-5759e988-bd862e3fe1be46a994272793",  # unknown version
        f"{ROOT};Parent=1;Sampled=1",  # short parent
        f"{ROOT};Sampled=yes",
        f"{ROOT};{ROOT}",  # a key twice
        f"{ROOT};Parent",  # no "="
        f"{ROOT};Foo=bar baz",  # a space inside a value
        f"{ROOT},{ROOT}",  # two headers folded into one
        "dae04c7a-6a43-4d8c-9a86-6caac024711e",
    ],
)
def test_malformed_trace_headers_are_ignored(value: str | None) -> None:
    assert trace_header(value) is None


def b64(text: bytes) -> str:
    return base64.b64encode(text).decode()


def test_the_client_context_is_decoded() -> None:
    assert client_context(b64(b'{"custom":{"a":1}}'), service=True) == '{"custom":{"a":1}}'
    assert client_context(None, service=True) == ""
    assert client_context("", service=True) == ""


FORGED = b'{}\r\nContent-Length: 17\r\n\r\n{"forged":"body"}'


@pytest.mark.parametrize(
    "header",
    [
        "!!not base64!!",
        b64(b"\xff\xfe not utf-8"),
        b64(b"not json"),
        b64(b"[1, 2]"),  # JSON, but not an object
        b64(b'"a string"'),
        b64(FORGED),  # a header and a body smuggled into /next
        b64(b'{"a": "\x00"}'),  # control characters are not JSON
        b64(b"{" + b'"a":[' * 1500 + b"1" + b"]" * 1500 + b"}"),  # nested past the stack
        b64(b'{"a": "' + b"x" * 2700 + b'"}'),  # over 3,583 bytes of base64
    ],
)
def test_the_service_refuses_anything_but_base64_of_a_json_object(header: str) -> None:
    assert client_context(header, service=True) is None


def test_the_client_context_limit_is_3583_bytes_of_base64() -> None:
    text = b'{"a":"' + b"x" * (2685 - 8) + b'"}'  # 2,685 bytes: 3,580 of base64, the most
    header = b64(text)
    assert len(header) == 3580 <= invoke_api.MAX_CLIENT_CONTEXT_SIZE
    assert client_context(header, service=True) == text.decode()
    assert client_context(b64(text + b" " * 3), service=True) is None


def test_line_breaks_between_json_tokens_become_spaces() -> None:
    pretty = json.dumps({"custom": {"a": 1}, "env": {}}, indent=2).replace("\n", "\r\n")
    got = client_context(b64(pretty.encode()), service=True)
    assert got is not None and "\r" not in got and "\n" not in got
    assert json.loads(got) == {"custom": {"a": 1}, "env": {}}
    assert client_context(b64(b'{\t"a": 1}'), service=True) == '{\t"a": 1}'


def test_rie_mode_forwards_any_text_without_line_breaks_or_controls() -> None:
    assert client_context(b64(b"not json"), service=False) == "not json"
    forged = client_context(b64(FORGED), service=False)
    assert forged == '{}  Content-Length: 17    {"forged":"body"}'
    assert client_context(b64(b'{"a":1}\x00'), service=False) is None
    assert client_context("%%%", service=False) is None


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [2, 100, 101, 102, 999, invoke_api.MAX_JSON_NESTING_DEPTH])
def test_json_nested_up_to_the_services_limit_is_accepted(depth: int) -> None:
    document = b'{"a":' + nested(depth - 1) + b"}"
    assert isinstance(load_json(document), dict)


@pytest.mark.parametrize("depth", [invoke_api.MAX_JSON_NESTING_DEPTH + 1, 5000, 1_000_000])
def test_json_nested_past_the_limit_is_refused_without_recursion(depth: int) -> None:
    limit = sys.getrecursionlimit()
    with pytest.raises(ValueError) as refused:
        load_json(nested(depth))
    assert str(refused.value) == (
        "Document nesting depth (1001) exceeds the maximum allowed "
        "(1000, from `StreamReadConstraints.getMaxNestingDepth()`)"
    )
    assert sys.getrecursionlimit() == limit


def test_deep_documents_are_accepted_however_deep_the_callers_stack() -> None:
    def at_depth(frames: int) -> object:
        return load_json(nested(1000)) if frames == 0 else at_depth(frames - 1)

    assert isinstance(at_depth(sys.getrecursionlimit() - 100), list)


def test_brackets_inside_strings_do_not_count() -> None:
    text = b'["' + b"[" * 5000 + b'\\"' + b"{" * 5000 + b'"]'
    assert not too_deep(text, 1000)
    assert load_json(text) == ["[" * 5000 + '"' + "{" * 5000]
    assert too_deep(nested(1001), 1000) and not too_deep(nested(1000), 1000)
    assert not too_deep(b"[" + b"[]," * 3000 + b"[]]", 1000)
