"""``tracing.segments``: trace headers, the sampling plan and Lambda's segment documents."""

from __future__ import annotations

import json
import re

import pytest

from lambdarig.rie_server.tracing import segments
from lambdarig.rie_server.tracing.segments import Function, Timing, TraceHeader

ROOT = "1-5759e988-bd862e3fe1be46a994272793"
CALLER_PARENT = "53995c3f42cd8ad8"
NEW_ROOT = "1-00000001-000000000000000000000001"
SERVICE_ID, FUNCTION_ID = "a" * 16, "b" * 16
SUBSEGMENT_IDS = ("1" * 16, "2" * 16, "3" * 16)
FUNCTION = Function("fn", "arn:aws:lambda:us-east-1:123456789012:function:fn", "123456789012")
ID = re.compile(r"[0-9a-f]{16}")


def test_a_header_round_trips_with_its_other_fields_in_order() -> None:
    value = f"Root={ROOT};Parent={CALLER_PARENT};Sampled=1;Lineage=a87bd80c:1|68fd508a:5"
    header = segments.parse_header(value)
    assert header == TraceHeader(ROOT, CALLER_PARENT, "1", (("Lineage", "a87bd80c:1|68fd508a:5"),))
    assert header.render() == value


@pytest.mark.parametrize(
    "value",
    [None, "", "garbage", "Parent=53995c3f42cd8ad8", f"Root={ROOT};Root={ROOT}", "Root=1-x-y"],
)
def test_what_is_not_a_trace_header_parses_to_none(value: str | None) -> None:
    assert segments.parse_header(value) is None


def test_a_caller_sampled_header_is_traced_under_the_function_segment() -> None:
    value = f"Root={ROOT};Parent={CALLER_PARENT};Sampled=1;Lineage=x:1"
    plan = segments.plan(value, NEW_ROOT, SERVICE_ID, FUNCTION_ID)
    assert plan.sampled
    assert plan.root == ROOT
    assert plan.caller_parent == CALLER_PARENT
    assert plan.runtime_header == f"Root={ROOT};Parent={FUNCTION_ID};Sampled=1;Lineage=x:1"


def test_a_caller_not_sampled_header_reaches_the_runtime_unchanged_and_nothing_is_sent() -> None:
    value = f"Root={ROOT};Parent={CALLER_PARENT};Sampled=0"
    plan = segments.plan(value, NEW_ROOT, SERVICE_ID, FUNCTION_ID)
    assert not plan.sampled
    assert plan.runtime_header == value


@pytest.mark.parametrize("value", [None, f"Root={ROOT};Sampled=?", "Root=oops;Sampled=1"])
def test_without_a_decision_the_emulator_samples(value: str | None) -> None:
    plan = segments.plan(value, NEW_ROOT, SERVICE_ID, FUNCTION_ID)
    assert plan.sampled
    expected_root = ROOT if value and ROOT in value else NEW_ROOT
    assert plan.runtime_header == f"Root={expected_root};Parent={FUNCTION_ID};Sampled=1"
    assert plan.caller_parent is None


def test_a_hostile_header_never_reaches_the_documents() -> None:
    huge = f"Root={ROOT};Sampled=1;Lineage={'x' * 60_000}"
    plan = segments.plan(huge, NEW_ROOT, SERVICE_ID, FUNCTION_ID)
    docs = segments.documents(plan, FUNCTION, "rid", "success", timing(), SUBSEGMENT_IDS)
    for document in docs:
        data = segments.datagram(document)
        assert data is not None and len(data) < 2_000
    control = segments.plan(f"Root={ROOT};Sampled=1;X=\x1b[31m", NEW_ROOT, SERVICE_ID, FUNCTION_ID)
    assert control.root == NEW_ROOT  # not a trace header: a fresh trace


def timing(init_s: float | None = None) -> Timing:
    return Timing(received=100.0, answered=100.5, finished=100.6, invocation_s=0.3, init_s=init_s)


def test_the_documents_nest_as_the_services_do() -> None:
    value = f"Root={ROOT};Parent={CALLER_PARENT};Sampled=1"
    plan = segments.plan(value, NEW_ROOT, SERVICE_ID, FUNCTION_ID)
    service, function = segments.documents(
        plan, FUNCTION, "rid", "success", timing(0.25), SUBSEGMENT_IDS
    )
    assert service == {
        "id": SERVICE_ID,
        "name": "fn",
        "start_time": 99.95,
        "end_time": 100.6,
        "trace_id": ROOT,
        "origin": "AWS::Lambda",
        "parent_id": CALLER_PARENT,
        "aws": {"request_id": "rid"},
    }
    assert function["id"] == FUNCTION_ID
    assert function["parent_id"] == SERVICE_ID
    assert function["trace_id"] == ROOT
    assert function["origin"] == "AWS::Lambda::Function"
    assert function["aws"] == {
        "account_id": "123456789012",
        "function_arn": FUNCTION.arn,
        "resource_names": ["fn"],
    }
    names = [(s["name"], s["start_time"], s["end_time"]) for s in function["subsegments"]]
    assert names == [
        ("Initialization", 99.95, 100.2),
        ("Invocation", 100.2, 100.5),
        ("Overhead", 100.5, 100.6),
    ]
    for document in (service, function, *function["subsegments"]):
        assert ID.fullmatch(document["id"])
        assert document["start_time"] <= document["end_time"]
    assert "error" not in function and "fault" not in function


def test_a_warm_invocation_has_no_initialization_and_a_fresh_trace_no_parent() -> None:
    plan = segments.plan(None, NEW_ROOT, SERVICE_ID, FUNCTION_ID)
    service, function = segments.documents(
        plan, FUNCTION, "rid", "success", timing(), SUBSEGMENT_IDS
    )
    assert "parent_id" not in service
    assert [s["name"] for s in function["subsegments"]] == ["Invocation", "Overhead"]


@pytest.mark.parametrize(
    ("kind", "flag"), [("error", "error"), ("timeout", "fault"), ("crash", "fault")]
)
def test_a_failed_invocation_marks_the_function_segment(kind: str, flag: str) -> None:
    plan = segments.plan(None, NEW_ROOT, SERVICE_ID, FUNCTION_ID)
    _, function = segments.documents(plan, FUNCTION, "rid", kind, timing(), SUBSEGMENT_IDS)
    assert function[flag] is True


def test_a_datagram_is_the_daemon_header_line_then_the_document() -> None:
    data = segments.datagram({"id": "x", "name": "ü"})
    assert data is not None
    header, _, body = data.partition(b"\n")
    assert json.loads(header) == {"format": "json", "version": 1}
    assert json.loads(body) == {"id": "x", "name": "ü"}


def test_a_document_over_64_kb_makes_no_datagram() -> None:
    assert segments.datagram({"name": "x" * segments.MAX_DATAGRAM_BYTES}) is None


def test_the_runtime_environment() -> None:
    assert segments.runtime_environment("127.0.0.1", 2000) == {
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "_AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1",
        "_AWS_XRAY_DAEMON_PORT": "2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    }


def test_a_new_root_is_a_trace_id() -> None:
    root = segments.new_root(1_700_000_000.9, "0123456789abcdef01234567")
    assert root == "1-6553f100-0123456789abcdef01234567"
