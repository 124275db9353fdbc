"""Lambda's side of active tracing, sans-IO: the trace header, the sampling decision, the trace
header the runtime gets, and the two segment documents Lambda sends for a sampled invocation.

Ids and times are passed in (no clock, no randomness here). What Lambda sends for a traced
invocation (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html):

* an ``AWS::Lambda`` segment (the service): from the request's arrival to the answer, with the
  request id; its parent is the caller's ``Parent`` when the caller sent one;
* an ``AWS::Lambda::Function`` segment, child of the first, with the subsegments
  ``Initialization`` (cold starts only), ``Invocation`` (the handler) and ``Overhead`` (after the
  response: the runtime getting ready for the next event, extensions finishing their work).

The runtime's ``Lambda-Runtime-Trace-Id`` names the function segment as ``Parent``, so the
subsegments an X-Ray SDK records in the function hang under it, as on the service.

Sampling (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader):
a caller's ``Sampled=1`` is traced, ``Sampled=0`` is not (the runtime gets ``Sampled=0``);
without a decision (no ``Sampled``, or ``Sampled=?``) the service samples the first request each
second and 5 % of the others; the emulator traces every such invocation.

Wire format of the X-Ray daemon
(https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html): one UDP datagram
per segment, the header line ``{"format": "json", "version": 1}``, a newline, then the segment
document (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambdarig import invoke_api
from lambdarig.rie_server.invoke.input import trace_header

DAEMON_HEADER = b'{"format": "json", "version": 1}\n'
MAX_DATAGRAM_BYTES = 64 * 1024  # the daemon's UDP buffer: larger segments are not read whole
ORIGIN_SERVICE = "AWS::Lambda"
ORIGIN_FUNCTION = "AWS::Lambda::Function"
INITIALIZATION = "Initialization"
INVOCATION = "Invocation"
OVERHEAD = "Overhead"
SAMPLED = "1"
NOT_SAMPLED = "0"
# The runtime's variables under active tracing (configuration-envvars.html, "Defined runtime
# environment variables"); the service's daemon listens on 169.254.79.129:2000.
ENV_DAEMON_ADDRESS = "AWS_XRAY_DAEMON_ADDRESS"
ENV_DAEMON_HOST = "_AWS_XRAY_DAEMON_ADDRESS"
ENV_DAEMON_PORT = "_AWS_XRAY_DAEMON_PORT"
ENV_CONTEXT_MISSING = "AWS_XRAY_CONTEXT_MISSING"
CONTEXT_MISSING = "LOG_ERROR"
# Lambda sets these, but a function's own value wins (the page's "unreserved" variables).
UNRESERVED_VARIABLES = (ENV_DAEMON_ADDRESS, ENV_CONTEXT_MISSING)
DEFAULT_DAEMON_ADDRESS = "127.0.0.1:2000"  # the X-Ray daemon's own default
# How an invocation that did not succeed marks the function segment: ``error`` for the
# function's own error (a 4xx-like client fault in X-Ray's terms), ``fault`` for the rest.
_ERROR_KINDS = frozenset({"error"})
_FAULT_KINDS = frozenset({"timeout", "crash", "init_error", "too_large"})


@dataclass(frozen=True)
class TraceHeader:
    """An X-Ray trace header: ``Root``, ``Parent``, ``Sampled`` and any other fields
    (``Lineage``...) in the order they came."""

    root: str
    parent: str | None = None
    sampled: str | None = None
    others: tuple[tuple[str, str], ...] = ()

    def render(self) -> str:
        fields = [f"{invoke_api.TRACE_KEY_ROOT}={self.root}"]
        if self.parent is not None:
            fields.append(f"{invoke_api.TRACE_KEY_PARENT}={self.parent}")
        if self.sampled is not None:
            fields.append(f"{invoke_api.TRACE_KEY_SAMPLED}={self.sampled}")
        fields += [f"{key}={value}" for key, value in self.others]
        return ";".join(fields)


def parse_header(value: str | None) -> TraceHeader | None:
    """``value`` as a ``TraceHeader``, or ``None`` when it is not a well-formed X-Ray trace header
    (``invoke.input.trace_header``'s rules)."""
    if value is None or trace_header(value) is None:
        return None
    known: dict[str, str] = {}
    others: list[tuple[str, str]] = []
    for field in value.split(";"):
        key, _, text = field.strip(" ").partition("=")
        if not key:
            continue
        if key in (invoke_api.TRACE_KEY_ROOT, invoke_api.TRACE_KEY_PARENT):
            known[key] = text.lower()  # ids are hex; X-Ray writes them in lowercase
        elif key == invoke_api.TRACE_KEY_SAMPLED:
            known[key] = text
        else:
            others.append((key, text))
    return TraceHeader(
        root=known[invoke_api.TRACE_KEY_ROOT],
        parent=known.get(invoke_api.TRACE_KEY_PARENT),
        sampled=known.get(invoke_api.TRACE_KEY_SAMPLED),
        others=tuple(others),
    )


def new_root(epoch_s: float, random_hex24: str) -> str:
    """A trace id: ``1-<epoch seconds, 8 hex>-<24 hex>``."""
    return f"1-{int(epoch_s) & 0xFFFFFFFF:08x}-{random_hex24}"


@dataclass(frozen=True)
class TracePlan:
    """One invocation's tracing: the header the runtime gets, whether segments are sent, and
    their ids (``caller_parent``: the service segment's parent, when the caller sent one)."""

    runtime_header: str
    sampled: bool
    root: str
    caller_parent: str | None
    service_id: str
    function_id: str


def plan(value: str | None, root: str, service_id: str, function_id: str) -> TracePlan:
    """Plan an invocation under active tracing. ``value``: the caller's trace header (a malformed
    one counts as none); ``root``: the trace id to start when there is none; ``service_id`` and
    ``function_id``: fresh segment ids (16 hex digits)."""
    caller = parse_header(value) or TraceHeader(root=root)
    if caller.sampled == NOT_SAMPLED:  # the caller decided: nothing sent, the header unchanged
        return TracePlan(caller.render(), False, caller.root, caller.parent, "", "")
    runtime = TraceHeader(caller.root, function_id, SAMPLED, caller.others)
    return TracePlan(runtime.render(), True, caller.root, caller.parent, service_id, function_id)


@dataclass(frozen=True)
class Function:
    """Who the segments are about."""

    name: str
    arn: str
    account: str


@dataclass(frozen=True)
class Timing:
    """Epoch seconds of one invocation, as the emulator saw it: ``received`` (before an
    environment was found), ``answered`` (the outcome arrived), ``finished`` (extensions done,
    or when the segments were built); ``invocation_s``: the runtime's share; ``init_s``: the
    initialisation reported with this invocation (a cold start), else ``None``."""

    received: float
    answered: float
    finished: float
    invocation_s: float
    init_s: float | None = None


def documents(
    trace: TracePlan,
    function: Function,
    request_id: str,
    outcome_kind: str,
    timing: Timing,
    subsegment_ids: tuple[str, str, str],
) -> list[dict[str, Any]]:
    """The ``AWS::Lambda`` and ``AWS::Lambda::Function`` segment documents of a sampled
    invocation. ``outcome_kind``: ``OutcomeKind.value`` (``success``, ``error``, ``timeout``...).

    The emulator knows when the answer came and how long the runtime worked; ``Invocation`` ends
    with the answer, ``Initialization`` (a cold start) is placed right before ``Invocation``,
    ``Overhead`` runs from the answer to ``finished``. Each segment covers its children."""
    invocation_start = max(timing.received, timing.answered - timing.invocation_s)
    init_start = invocation_start - (timing.init_s or 0.0)
    start = min(init_start, invocation_start)
    end = max(timing.finished, timing.answered)
    arn_only = {"function_arn": function.arn}
    init_id, invocation_id, overhead_id = subsegment_ids
    subsegments = []
    if timing.init_s is not None:
        subsegments.append(
            _segment(init_id, INITIALIZATION, init_start, invocation_start, aws=arn_only)
        )
    subsegments.append(
        _segment(invocation_id, INVOCATION, invocation_start, timing.answered, aws=arn_only)
    )
    subsegments.append(_segment(overhead_id, OVERHEAD, timing.answered, end, aws=arn_only))
    service = _segment(trace.service_id, function.name, min(timing.received, start), end)
    service.update(trace_id=trace.root, origin=ORIGIN_SERVICE)
    if trace.caller_parent is not None:
        service["parent_id"] = trace.caller_parent
    service["aws"] = {"request_id": request_id}
    aws = {"account_id": function.account, "function_arn": function.arn}
    segment = _segment(trace.function_id, function.name, start, end, aws=aws)
    segment["aws"]["resource_names"] = [function.name]
    segment.update(trace_id=trace.root, parent_id=trace.service_id, origin=ORIGIN_FUNCTION)
    if outcome_kind in _ERROR_KINDS:
        segment["error"] = True
    elif outcome_kind in _FAULT_KINDS:
        segment["fault"] = True
    segment["subsegments"] = subsegments
    return [service, segment]


def _segment(
    segment_id: str, name: str, start: float, end: float, *, aws: dict[str, Any] | None = None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": segment_id,
        "name": name,
        "start_time": round(start, 6),
        "end_time": round(end, 6),
    }
    if aws is not None:
        document["aws"] = dict(aws)
    return document


def datagram(document: dict[str, Any]) -> bytes | None:
    """The daemon's datagram for ``document`` (header line + JSON), or ``None`` when it would
    exceed ``MAX_DATAGRAM_BYTES``."""
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    data = DAEMON_HEADER + body
    return data if len(data) <= MAX_DATAGRAM_BYTES else None


def runtime_environment(daemon_host: str, daemon_port: int) -> dict[str, str]:
    """The variables Lambda sets for a runtime under active tracing."""
    host = f"[{daemon_host}]" if ":" in daemon_host else daemon_host
    return {
        ENV_DAEMON_ADDRESS: f"{host}:{daemon_port}",
        ENV_DAEMON_HOST: daemon_host,
        ENV_DAEMON_PORT: str(daemon_port),
        ENV_CONTEXT_MISSING: CONTEXT_MISSING,
    }
