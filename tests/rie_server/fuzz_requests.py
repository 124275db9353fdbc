"""Seeded mutations of valid Invoke API and Runtime API requests, as raw bytes (for test_fuzz).

``case(seed, index)`` builds request number ``index`` from its own ``random.Random`` seeded with
``(seed, index)``: the sequence does not depend on timing or threads, and any one request can be
rebuilt alone from the two numbers a failure prints::

    python -c "from tests.rie_server.fuzz_requests import case; print(case(SEED, INDEX))"

A request starts as a valid one (an ``echo`` invoke of ``tests/integration/handlers/app.py``, or a
runtime's ``/next``, ``/response``, ``/error``, ``/init/error``), gets zero to three structured
mutations (bad methods, targets and versions; CR/LF/NUL and other control bytes in header values;
bare LF; obs-fold; odd, negative, huge or duplicated ``Content-Length``; ``Transfer-Encoding`` and
chunk mangling; long lines; many headers; invalid UTF-8; truncated bodies; odd invocation types,
client contexts, trace ids, qualifiers, request ids, error types; deep or huge JSON), then, for
some, byte-level flips, insertions, deletions, duplications or truncation. The first
``SWEEP_CASES`` requests are a sweep instead: every listed value once, on an otherwise valid
request, alternately to the Invoke API and the Runtime API. Pure: no I/O.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from lambdarig import invoke_api as inv
from lambdarig import runtime_api as rt

INVOKE = "invoke"
RUNTIME = "runtime"


@dataclass
class Draft:
    """A request before serialising: ``framing`` is ``length`` (a correct ``Content-Length`` is
    added), ``chunked`` (a correct chunked body), or ``none`` (the headers say what they say)."""

    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    version: bytes = b"HTTP/1.1"
    framing: str = "length"
    eol: bytes = b"\r\n"
    chunks: list[bytes] = field(default_factory=list)  # raw chunked body, when mangled

    def serialise(self) -> bytes:
        headers = list(self.headers)
        body = self.body
        if self.framing == "length":
            headers.append((b"Content-Length", str(len(body)).encode()))
        elif self.framing == "chunked":
            headers.append((b"Transfer-Encoding", b"chunked"))
            body = b"".join(self.chunks) if self.chunks else _chunked(body)
        lines = [b" ".join(part for part in (self.method, self.target, self.version) if part)]
        lines += [name + b": " + value for name, value in headers]
        return self.eol.join(lines) + self.eol + self.eol + body


@dataclass(frozen=True)
class Case:
    """One request to send: ``live_request_id`` names an invocation to start first (a Runtime API
    post for a request id the emulator knows); ``patient`` means the framing is intact by
    construction, so an answer is due at once (else the server may rightly wait for more bytes)."""

    seed: int
    index: int
    api: str
    mutations: tuple[str, ...]
    data: bytes
    live_request_id: str | None = None
    patient: bool = True

    def __str__(self) -> str:
        shown = self.data if len(self.data) <= 1500 else self.data[:1500] + b"..."
        return (
            f"seed={self.seed} index={self.index} api={self.api} mutations={self.mutations} "
            f"live={self.live_request_id} length={len(self.data)}\n{shown!r}"
        )


def case(seed: int, index: int) -> Case:
    """Request number ``index`` of the sequence ``seed`` (same arguments, same bytes). The first
    ``SWEEP_CASES`` apply each listed value once, to an Invoke API request then to a Runtime API
    one; the rest combine random mutations."""
    rng = random.Random(f"{seed}:{index}")
    live = None
    to_invoke = index % 2 == 0 if index < SWEEP_CASES else rng.random() < 0.6
    if to_invoke:
        api, draft = INVOKE, _invoke(rng)
    else:
        api = RUNTIME
        if rng.random() < 0.25:
            live = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        draft = _runtime(rng, live)
    if index < SWEEP_CASES:
        number, value = _SWEEP[index // 2]
        picked = [(number, value)]
    else:
        picked = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            number = rng.randrange(len(_STRUCTURED))
            picked.append((number, rng.choice(_STRUCTURED[number][1])))
    names = []
    for number, value in picked:
        name, _, apply = _STRUCTURED[number]
        apply(rng, draft, value)
        names.append(name)
    data = draft.serialise()
    patient = all(name in _FRAMING_KEPT for name in names) and not draft.target.endswith(b"/next")
    if index >= SWEEP_CASES and rng.random() < 0.3:
        for _ in range(rng.randint(1, 4)):
            name, mangle = rng.choice(_BYTE_LEVEL)
            data = mangle(rng, data)
            names.append(name)
        patient = False
    return Case(seed, index, api, tuple(names), data, live, patient)


def live_invoke(request_id: str) -> bytes:
    """The invoke a ``live`` case starts first: it sleeps long enough for the post to land."""
    body = json.dumps({"action": "sleep", "seconds": 1.0}).encode()
    draft = Draft(
        b"POST",
        inv.PATH_INVOKE.format(name="function").encode(),
        [(b"Host", b"127.0.0.1"), (inv.HEADER_REQUEST_ID_IN.encode(), request_id.encode())],
        body,
    )
    return draft.serialise()


# --- Valid requests ------------------------------------------------------------------------------


def _text(rng: random.Random, size: int) -> str:
    alphabet = "abcdefghij KLMNOP-_.:/\"\\'{}[]é€😀\u2028"
    return "".join(rng.choice(alphabet) for _ in range(size))


def _invoke(rng: random.Random) -> Draft:
    name = rng.choice(("function", "function", "function:$LATEST", "it-fn", "nope"))
    target = inv.PATH_INVOKE.format(name=name)
    if rng.random() < 0.3:
        target += "?" + inv.QUERY_QUALIFIER + "=" + rng.choice(("$LATEST", "1", "live"))
    event = {"action": "echo", "n": rng.randrange(10**9), "s": _text(rng, rng.randrange(60))}
    headers = [(b"Host", b"127.0.0.1:8080"), (b"Content-Type", b"application/json")]
    optional = {
        inv.HEADER_INVOCATION_TYPE: rng.choice(
            (inv.INVOCATION_TYPE_REQUEST_RESPONSE, inv.INVOCATION_TYPE_EVENT, "DryRun")
        ),
        inv.HEADER_LOG_TYPE: inv.LOG_TYPE_TAIL,
        inv.HEADER_CLIENT_CONTEXT: base64.b64encode(b'{"custom": {"k": "v"}}').decode(),
        inv.HEADER_TRACE_ID: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
        "Sampled=1",
        inv.HEADER_REQUEST_ID_IN: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    }
    for header, value in optional.items():
        if rng.random() < 0.35:
            headers.append((header.encode(), value.encode()))
    draft = Draft(b"POST", target.encode(), headers, json.dumps(event).encode())
    if rng.random() < 0.15:
        draft.framing = "chunked"
    return draft


def _runtime(rng: random.Random, live: str | None) -> Draft:
    request_id = live or str(uuid.UUID(int=rng.getrandbits(128), version=4))
    kind = rng.choice(("next", "response", "response", "error", "init_error", "ping", "other"))
    headers = [(b"Host", b"127.0.0.1:9001")]
    if kind == "next":
        return Draft(b"GET", rt.PATH_NEXT.encode(), headers, framing="none")
    if kind == "ping":
        return Draft(b"GET", rt.PATH_PING.encode(), headers, framing="none")
    if kind == "other":
        path = rng.choice((rt.PATH_LOGS, rt.PATH_TELEMETRY, rt.PATH_EXTENSION_PREFIX + "/register"))
        return Draft(b"PUT", path.encode(), headers, b'{"events": []}')
    if rng.random() < 0.5:
        invocation_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        headers.append((rt.HEADER_INVOCATION_ID.encode(), invocation_id.encode()))
    if kind == "response":
        path = rt.PATH_RESPONSE.format(request_id=request_id)
        body = json.dumps({"posted": _text(rng, rng.randrange(40))}).encode()
        return Draft(
            b"POST", path.encode(), [*headers, (b"Content-Type", b"application/json")], body
        )
    error = {"errorMessage": _text(rng, 20), "errorType": "Fuzz.Error", "stackTrace": []}
    headers.append((rt.HEADER_FUNCTION_ERROR_TYPE.encode(), b"Fuzz.Error"))
    path = rt.PATH_ERROR.format(request_id=request_id) if kind == "error" else rt.PATH_INIT_ERROR
    return Draft(b"POST", path.encode(), headers, json.dumps(error).encode())


def _chunked(body: bytes) -> bytes:
    """``body`` as chunks of varied small sizes (big bodies in 64 KiB chunks)."""
    out, at = [], 0
    while at < len(body):
        size = min(len(body) - at, 65536 if len(body) > 100000 else 1 + at % 37)
        out.append(b"%x\r\n" % size + body[at : at + size] + b"\r\n")
        at += size
    return b"".join(out) + b"0\r\n\r\n"


# --- Structured mutations (on a Draft) -----------------------------------------------------------
# Each is (name, values, apply): a case picks one value at random and applies it; the sweep at
# the start of the sequence applies every value once to an otherwise valid request.

Size = Callable[[int], bytes]  # a Content-Length value computed from the real body size
_CONTROL = (b"\r", b"\n", b"\x00", b"\r\n", b"\x01", b"\x7f", b"\x1b[31m", b"\x0b", b"\x0c")
_INVALID_UTF8 = (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80\x80")
_DEEP = b"[" * 5000 + b"]" * 5000

METHODS = (b"GET", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH", b"CONNECT", b"TRACE", b"post")
METHODS += (b"", b"P0ST\x00", b"PO ST", b"G\xc3\xa9T", b"X" * 50, b"X" * 9000, b"\tPOST")
TARGETS: tuple[Callable[[bytes], bytes], ...] = (
    lambda t: t + b"?Qualifier=",
    lambda t: t + b"?Qualifier=%00",
    lambda t: t + b"?Qualifier=" + b"a" * 300,
    lambda t: t + b"?Qualifier=..%2F..",
    lambda t: t + b"?Qualifier=$LATEST&Qualifier=1",
    lambda t: t + b"?Qualifier=%ff%fe&%%=&=",
    lambda t: b"http://127.0.0.1" + t,
    lambda t: t.replace(b"/", b"//", 2),
    lambda t: t + b"/" + b"a" * 200,
    lambda t: t + b"/" + b"a" * 9000,
    lambda t: t + b"/" + b"a" * 70000,
    lambda t: b"*",
    lambda t: b"/",
    lambda t: b"%",
    lambda t: b"/../../etc/passwd",
    lambda t: t.replace(b"function", b"\xff"),
    lambda t: t.replace(b"function", b"%00"),
    lambda t: t.replace(b"function", b"a:b:c:d:e:f:g:h"),
    lambda t: t.replace(b"function", b"arn:aws:lambda:us-east-1:123456789012:function:function:9"),
    lambda t: t + b"\x00",
    lambda t: t + b"\x1b[31m",
    lambda t: t.replace(b"invocation", b"invocation/%2e%2e", 1),
)
VERSIONS = (b"HTTP/1.0", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.2", b"http/1.1", b"HTTP/11", b"")
VERSIONS += (b"HTTP/1.1 extra", b"HTTP/1.1\x00", b"HTTP/" + b"9" * 300, b"HTTP/1.1\t", b"HTTPS/1.1")
HEADER_NAMES = (b"", b"Bad Name", b"Bad\x00Name", b"X-\xff", b"(paren)", b"Colon:Name", b" Lead")
HEADER_NAMES += (b"Trailing ", b"X-" + b"n" * 9000, b"\xe2\x82\xac", b"\tTab")
EOLS = (b"\n", b"\r", b"\n\r", b"\r\r\n")
FOLDS = (b"first\r\n second", b"first\r\n X-Evil: 1", b"first\r\n\tsecond", b"\r\n x")
CONTENT_LENGTHS: tuple[Size, ...] = (
    lambda n: b"-1",
    lambda n: b"-0",
    lambda n: b"+%d" % n,
    lambda n: b" %d " % n,
    lambda n: b"0x10",
    lambda n: b"1e3",
    lambda n: b"",
    lambda n: b"%d" % (n + 5),
    lambda n: b"%d" % max(n - 3, 0),
    lambda n: b"9" * 30,
    lambda n: b"99999999999",
    lambda n: b"%d, %d" % (n, n),
    lambda n: b"\xd9\xa1",
    lambda n: b"6291457",
    lambda n: b"%d\x00" % n,
)
TRANSFER_ENCODINGS = (b"gzip", b"chunked, chunked", b"identity", b"gzip, chunked", b"chunked, gzip")
TRANSFER_ENCODINGS += (b"Chunked", b" chunked", b"chunked\x00", b"xchunked", b"")
CHUNKINGS: tuple[Callable[[bytes, bytes], bytes], ...] = (  # (hex size, body) -> chunked body
    lambda n, b: b"zz\r\n" + b + b"\r\n0\r\n\r\n",
    lambda n, b: b"-" + n + b"\r\n" + b + b"\r\n0\r\n\r\n",
    lambda n, b: b"f" * 40 + b"\r\n" + b,
    lambda n, b: n + b"\r\n" + b + b"0\r\n\r\n",
    lambda n, b: n + b";ext=1;x\r\n" + b + b"\r\n0\r\n\r\n",
    lambda n, b: n + b"\r\n" + b + b"\r\n0\r\nX-Trailer: 1\r\n\r\n",
    lambda n, b: n + b"\r\n" + b + b"\r\n0\r\nBad Trailer\x00: 1\r\n\r\n",
    lambda n, b: b" " + n + b" \r\n" + b + b"\r\n0\r\n\r\n",
    lambda n, b: b"0x" + n + b"\r\n" + b + b"\r\n0\r\n\r\n",
    lambda n, b: n + b"\n" + b + b"\n0\n\n",
    lambda n, b: n + b"\r\n" + b + b"\r\n",
    lambda n, b: b"1" * 2000 + b"\r\n",
    lambda n, b: n + b";" + b"e" * 5000 + b"\r\n" + b + b"\r\n0\r\n\r\n",
    lambda n, b: n + b"\r\n" + b + b"\r\n0\r\n" + b"T: v\r\n" * 5000 + b"\r\n",
)
LONG_LINES = (8000, 8191, 8192, 9000, 70000)
MANY_HEADERS = (100, 1000, 5000)


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


LAMBDA_HEADERS: tuple[tuple[str, bytes], ...] = tuple(
    (name, value)
    for name, values in (
        (inv.HEADER_INVOCATION_TYPE, (b"event", b"", b"Event ", b"DryRun,Event", b"X" * 5000)),
        (inv.HEADER_INVOCATION_TYPE, (b"\xc3\x89vent", b"Event\t", b"RequestResponse, Event")),
        (inv.HEADER_CLIENT_CONTEXT, (_b64(b"[1, 2]"), _b64(b"{bad"), b"not base64!", b"====")),
        (inv.HEADER_CLIENT_CONTEXT, (_b64(b'{"a": "' + b"x" * 4000 + b'"}'), _b64(_DEEP))),
        (inv.HEADER_CLIENT_CONTEXT, (_b64(b"\xff\xfe"), b"e30", _b64(b"null"), _b64(b'"t"'))),
        (inv.HEADER_CLIENT_CONTEXT, (b" " + _b64(b"{}"), _b64(b'{"custom": ' * 50 + b"1"))),
        (inv.HEADER_CLIENT_CONTEXT, (_b64(b'{"a": 1e99999}'), _b64(b"{}") + b" ", _b64(b"\0{}"))),
        (inv.HEADER_CLIENT_CONTEXT, (_b64(b'{"custom": {"k": ' + b"9" * 5000 + b"}}"),)),
        (inv.HEADER_TRACE_ID, (b"Root=", b"garbage", b"Root=1-2-3;Parent=;Sampled=9", b"a" * 9000)),
        (inv.HEADER_TRACE_ID, (b"Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=a:0", b";;;=")),
        (inv.HEADER_TRACE_ID, (b"Root=1-\x01-2", b"Root=1-5759e988-bd862e3fe1be46a9;" * 300)),
        (inv.HEADER_LOG_TYPE, (b"tail", b"", b"Tail, Tail", b"None", b"T" * 300)),
        (inv.HEADER_REQUEST_ID_IN, (b"not-a-uuid", b"", b"0" * 36, b"a" * 5000, b"{}")),
        (inv.HEADER_REQUEST_ID_IN, (b"00000000-0000-0000-0000-000000000000", b"../../x")),
        (inv.HEADER_TENANT_ID, (b"", b"t" * 300, b"tenant\x01", b"\xc3\xa9")),
        (rt.HEADER_FUNCTION_ERROR_TYPE, (b"", b"X" * 5000, b"Runtime.\x01", b"a b c")),
        (rt.HEADER_INVOCATION_ID, (b"", b"nope", b"0" * 5000)),
        (rt.HEADER_RESPONSE_MODE, (b"streaming", b"Streaming", b"buffered", b"")),
        (rt.HEADER_XRAY_ERROR_CAUSE, (b"{", _b64(_DEEP), _DEEP, b"x" * 9000)),
        ("Expect", (b"100-continue", b"100-Continue", b"200-ok")),
        ("Connection", (b"close", b"keep-alive", b"upgrade", b"close, close")),
        ("Content-Type", (b"", b"text/plain", b"application/json; charset=latin-1", b"\xff")),
    )
    for value in values
)
BODIES: tuple[bytes, ...] = (
    b"[" * 100 + b"]" * 100,
    b"[" * 1000 + b"]" * 1000,
    b"[" * 100000 + b"]" * 100000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b"[" * 5000,
    b"1" * 5000,
    b"-" + b"9" * 4400,
    b'"\\ud800"',
    b"NaN",
    b"[1e99999, -Infinity]",
    b"",
    b"not json",
    b'{"a": 1}{"b": 2}',
    b"\xef\xbb\xbf{}",
    b'{"action": "echo", "pad": "' + b"x" * 1048577 + b'"}',
    b'{"action": "echo", "pad": "' + b"x" * 6291456 + b'"}',
    b"x" * 6291457,
    b'"' + b"\\u0000" * 1000 + b'"',
    b'{"action": ["echo"]}',
)


def _method(rng: random.Random, draft: Draft, value: bytes) -> None:
    draft.method = value


def _target(rng: random.Random, draft: Draft, value: Callable[[bytes], bytes]) -> None:
    draft.target = value(draft.target)


def _version(rng: random.Random, draft: Draft, value: bytes) -> None:
    draft.version = value


def _header_control(rng: random.Random, draft: Draft, value: bytes) -> None:
    name = rng.choice((inv.HEADER_TRACE_ID, inv.HEADER_CLIENT_CONTEXT, "X-Fuzz", "Host")).encode()
    draft.headers.insert(rng.randrange(len(draft.headers) + 1), (name, b"a" + value + b"Inj: 1"))


def _header_name(rng: random.Random, draft: Draft, value: bytes) -> None:
    draft.headers.insert(rng.randrange(len(draft.headers) + 1), (value, b"v"))


def _eol(rng: random.Random, draft: Draft, value: bytes) -> None:
    draft.eol = value


def _fold(rng: random.Random, draft: Draft, value: bytes) -> None:
    draft.headers.append((b"X-Folded", value))


def _content_length(rng: random.Random, draft: Draft, value: Size) -> None:
    draft.headers.append((b"Content-Length", value(len(draft.body))))
    draft.framing = "none"


def _duplicate_length(rng: random.Random, draft: Draft, value: int) -> None:
    size = len(draft.body)
    draft.headers += [
        (b"Content-Length", b"%d" % size),
        (b"content-length", b"%d" % (size + value)),
    ]
    draft.framing = "none"


def _transfer_encoding(rng: random.Random, draft: Draft, value: bytes) -> None:
    draft.headers.append((b"Transfer-Encoding", value))
    if rng.random() < 0.5:
        draft.headers.append((b"Content-Length", b"%d" % len(draft.body)))
    draft.body, draft.framing = _chunked(draft.body), "none"


def _chunking(rng: random.Random, draft: Draft, value: Callable[[bytes, bytes], bytes]) -> None:
    body = draft.body or b"{}"
    draft.framing, draft.chunks = "chunked", [value(b"%x" % len(body), body)]


def _long_line(rng: random.Random, draft: Draft, value: int) -> None:
    draft.headers.append((b"X-Long", b"v" * value))


def _many_headers(rng: random.Random, draft: Draft, value: int) -> None:
    draft.headers += [(b"X-Many-%d" % n, b"v") for n in range(value)]


def _invalid_utf8(rng: random.Random, draft: Draft, value: bytes) -> None:
    if rng.random() < 0.5:
        at = rng.randrange(len(draft.body) + 1)
        draft.body = draft.body[:at] + value + draft.body[at:]
    else:
        name = rng.choice((inv.HEADER_TRACE_ID, inv.HEADER_REQUEST_ID_IN, "X-Fuzz")).encode()
        draft.headers.append((name, b"x" + value))


def _truncate_body(rng: random.Random, draft: Draft, value: int) -> None:
    draft.headers.append((b"Content-Length", b"%d" % (len(draft.body) + value)))
    draft.framing = "none"


def _lambda_header(rng: random.Random, draft: Draft, value: tuple[str, bytes]) -> None:
    draft.headers.append((value[0].encode(), value[1]))


def _body(rng: random.Random, draft: Draft, value: bytes) -> None:
    draft.body = value


Apply = Callable[[random.Random, Draft, Any], None]
# The sweep follows this order: the values most likely to reach deep code come first.
_STRUCTURED: tuple[tuple[str, Sequence[Any], Apply], ...] = (
    ("body", BODIES, _body),
    ("lambda_header", LAMBDA_HEADERS, _lambda_header),
    ("method", METHODS, _method),
    ("target", TARGETS, _target),
    ("version", VERSIONS, _version),
    ("header_control", _CONTROL, _header_control),
    ("header_name", HEADER_NAMES, _header_name),
    ("bare_lf", EOLS, _eol),
    ("obs_fold", FOLDS, _fold),
    ("content_length", CONTENT_LENGTHS, _content_length),
    ("duplicate_length", (0, 1, -1), _duplicate_length),
    ("transfer_encoding", TRANSFER_ENCODINGS, _transfer_encoding),
    ("chunk_mangle", CHUNKINGS, _chunking),
    ("long_line", LONG_LINES, _long_line),
    ("many_headers", MANY_HEADERS, _many_headers),
    ("invalid_utf8", _INVALID_UTF8, _invalid_utf8),
    ("truncate_body", (1, 10, 100), _truncate_body),
)
# Every (mutation, value) pair once, in order: the first cases of every sequence.
_SWEEP = [(number, value) for number, (_, values, _) in enumerate(_STRUCTURED) for value in values]
# Mutations after which the request is still framed completely: an answer is due at once.
_FRAMING_KEPT = {
    "method",
    "target",
    "version",
    "header_control",
    "header_name",
    "obs_fold",
    "long_line",
    "many_headers",
    "invalid_utf8",
    "lambda_header",
    "body",
}


# --- Byte-level mutations (on the serialised request) --------------------------------------------

_INTERESTING = (b"\r", b"\n", b"\x00", b"\xff", b" ", b":", b"\t", b"\r\n", b"\r\n\r\n", b"%")


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]


def _insert(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(_INTERESTING) + data[at:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[at + rng.randint(1, 16) :]


def _duplicate(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[at : at + rng.randint(1, 64)] * rng.randint(2, 4) + data[at:]


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


_BYTE_LEVEL: list[tuple[str, Callable[[random.Random, bytes], bytes]]] = [
    ("flip", _flip),
    ("flip", _flip),
    ("insert", _insert),
    ("insert", _insert),
    ("delete", _delete),
    ("duplicate", _duplicate),
    ("truncate", _truncate),
]


SWEEP_CASES = 2 * len(_SWEEP)
