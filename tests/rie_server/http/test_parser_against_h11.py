"""Our HTTP/1.1 request parser against h11, its test oracle (modelled on h11's own
``test_against_stdlib_http``): every request of the corpus below is accepted or refused by
``http.parser`` exactly as h11 does, with the same status where both refuse, and parsed to the
same method, target, version, headers and body where both accept.

We keep our parser (it is ~50 µs per exchange cheaper than h11, measured on the benchmark
machine) but hold it to h11's strictness. Where we answer differently on purpose, the case
names one of ``DELIBERATE`` below, which says why; the test then checks that the difference is
still there and still the one documented, so the list cannot go stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import h11
import pytest

from lambdarig.rie_server.http.parser import BadRequest, HttpRequest, RequestParser

# Every deliberate difference from h11, and why. A case names the one it exercises.
DELIBERATE = {
    "bare-lf": (
        "A bare LF is not a line terminator: refused with 400 (issue 8). h11 reads it as one "
        "(RFC 9112 §2.2 MAY); refusing it means no peer in front of us can read a request's "
        "framing one way while we read it another (request smuggling)."
    ),
    "te-and-cl": (
        "Content-Length and Transfer-Encoding together: refused with 400, which RFC 9112 §6.3 "
        "allows ('ought to be handled as an error': the classic smuggling request). h11 lets "
        "Transfer-Encoding win."
    ),
    "http-version": (
        "An HTTP major version other than 1: answered 505 (RFC 9110 §15.6.6). h11 parses any "
        "'HTTP/d.d' and leaves the version to the application; we have only HTTP/1.x handlers."
    ),
    "leading-crlf": (
        "Empty lines before a request line are skipped, as RFC 9112 §2.2 says a server SHOULD "
        "(and Go's net/http, which aws-lambda-rie runs on, does). h11 refuses them."
    ),
    "control-char": (
        "A control character other than HTAB in a field value is refused with 400 (RFC 9110 §5.5; "
        "Go's net/http does the same): nothing we read may carry one to a runtime or a log. h11 "
        "refuses only NUL and the whitespace controls."
    ),
    "chunk-size-digits": (
        "A chunk size has 1 to 16 hex digits (2**64 - 1, Go's net/http's limit; issue 8). h11 "
        "allows 20."
    ),
    "content-length-zeros": (
        "Leading zeros in Content-Length are accepted however many (RFC 9110 §8.6: 1*DIGIT; "
        "issue 8); only the significant digits are limited (20, as h11). h11 counts the zeros."
    ),
    "limits": (
        "Our size limits (request line and header line 8190 bytes, chunk-size line 1024): the "
        "oracle runs with its limit raised, so it accepts what ours refuses."
    ),
}


class Parsed(NamedTuple):
    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]  # (name as first received, values joined by ", ")
    body: bytes


class Verdict(NamedTuple):
    requests: tuple[Parsed, ...]  # complete requests, in order
    status: int | None  # the refusal's status, or None (accepted, or waiting for more)


@dataclass(frozen=True)
class Case:
    id: str
    data: bytes
    differs: str | None = None  # a DELIBERATE key
    ours: int | None = None  # our status where we differ (None: we accept)


# --- the two parsers, each reduced to a Verdict --------------------------------------------------


def h11_verdict(data: bytes) -> Verdict:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=10**7)
    conn.receive_data(data)
    requests: list[Parsed] = []
    head: h11.Request | None = None
    body: list[bytes] = []
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            return Verdict(tuple(requests), exc.error_status_hint)
        if event is h11.NEED_DATA:
            return Verdict(tuple(requests), None)
        if isinstance(event, h11.Request):
            head, body = event, []
        elif isinstance(event, h11.Data):
            body.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            assert head is not None
            requests.append(from_h11(head, b"".join(body)))
            # 404 declines a CONNECT or an Upgrade, so the connection stays HTTP.
            conn.send(h11.Response(status_code=404, headers=[("Content-Length", "0")]))
            conn.send(h11.EndOfMessage())
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return Verdict(tuple(requests), None)  # Connection: close, HTTP/1.0
            conn.start_next_cycle()


def from_h11(request: h11.Request, body: bytes) -> Parsed:
    joined: dict[bytes, tuple[str, str]] = {}
    for raw_name, value in request.headers.raw_items():
        key = raw_name.lower()
        text = value.decode("utf-8", "surrogateescape")
        found = joined.get(key)
        joined[key] = (
            (raw_name.decode(), text) if found is None else (found[0], f"{found[1]}, {text}")
        )
    target = request.target.decode("ascii")
    if not target.startswith("/") and "://" in target:  # ours keeps an absolute-form's path
        target = "/" + target.partition("://")[2].partition("/")[2]
    version = "HTTP/" + request.http_version.decode()
    return Parsed(request.method.decode(), target, version, tuple(joined.values()), body)


def our_verdict(data: bytes, step: int) -> Verdict:
    parser = RequestParser(keep_bytes=10**7)
    requests: list[Parsed] = []
    try:
        for start in range(0, len(data), step):
            parser.feed(data[start : start + step])
            request = parser.next_request()
            while request is not None:
                requests.append(from_ours(request))
                if not request.keep_alive:
                    return Verdict(tuple(requests), None)
                request = parser.next_request()
    except BadRequest as exc:
        return Verdict(tuple(requests), exc.status)
    return Verdict(tuple(requests), None)


def from_ours(request: HttpRequest) -> Parsed:
    headers = tuple(request.headers.items())
    return Parsed(request.method, request.target, request.version, headers, request.body)


# --- the corpus ---------------------------------------------------------------------------------

CRLF = b"\r\n"
HOST = b"Host: example.com"


def request(*lines: bytes, body: bytes = b"", start: bytes = b"GET / HTTP/1.1") -> bytes:
    return CRLF.join((start, *lines)) + CRLF + CRLF + body


def post(*lines: bytes, body: bytes = b"") -> bytes:
    return request(HOST, *lines, body=body, start=b"POST /f HTTP/1.1")


def chunked(*chunks: bytes) -> bytes:
    return post(b"Transfer-Encoding: chunked", body=b"".join(chunks))


def method_cases() -> Iterator[Case]:
    good = [b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"M-SEARCH", b"get"]
    good += [b"X!#$%&'*+.^_`|~9"]
    for method in good:
        yield Case(f"method {method!r}", request(HOST, start=method + b" / HTTP/1.1"))
    for method in [b"G(T", b'GE"T', b"", b"G\xc3\x89T", b"G\tT", b"G,T", b"G/T"]:
        yield Case(f"method {method!r}", request(HOST, start=method + b" / HTTP/1.1"))


def target_cases() -> Iterator[Case]:
    targets = [b"/", b"/a/b?c=d&e", b"*", b"http://example.com/p?q=1", b"http://example.com"]
    targets += [b"example.com:443", b"/%20x", b"/a#frag", b"//two", b"/" + b"a" * 4000]
    targets += [b"/\x7f", b"/\x80", b"/a b", b"/\x00", b"/\ta", b"", b"/\x01", b"/\xff"]
    for target in targets:
        start = b"GET " + target + b" HTTP/1.1"
        yield Case(f"target {target[:20]!r} ({len(target)})", request(HOST, start=start))


def version_cases() -> Iterator[Case]:
    yield Case("HTTP/1.0 without Host", request(start=b"GET / HTTP/1.0"))
    yield Case("HTTP/1.0 with Host", request(HOST, start=b"GET / HTTP/1.0"))
    yield Case("HTTP/1.2 without Host", request(start=b"GET / HTTP/1.2"))
    for version in [b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.1"]:
        yield Case(
            f"version {version!r}",
            request(HOST, start=b"GET / " + version),
            differs="http-version",
            ours=505,
        )
    bad = [b"HTTP/1", b"HTTP/1.1.1", b"http/1.1", b"HTTP/11.1", b"HTTPS/1.1", b"HTTP /1.1"]
    bad += [b"HTTP/1.x", b"HTTP/1.1 ", b"HTTP/1.1\t", b""]
    for version in bad:
        yield Case(f"version {version!r}", request(HOST, start=b"GET / " + version))
    for start in [b"GET  / HTTP/1.1", b" GET / HTTP/1.1", b"GET /", b"GET", b"GET\t/\tHTTP/1.1"]:
        yield Case(f"request line {start!r}", request(HOST, start=start))


def host_cases() -> Iterator[Case]:
    yield Case("HTTP/1.1 without Host", request(b"Accept: */*"))
    yield Case("two Host headers", request(HOST, b"host: other"))
    yield Case("two Host headers in HTTP/1.0", request(HOST, HOST, start=b"GET / HTTP/1.0"))
    yield Case("empty Host", request(b"Host:"))
    yield Case("Host with a port", request(b"Host: 127.0.0.1:9001"))


def name_cases() -> Iterator[Case]:
    names = [b"X-Ok!#$%&'*+.^_`|~", b"Name ", b"Name\t", b"", b"X Y", b"X(Y)", b'X"Y', b"X\x00"]
    names += [b"X\x7f", b"X\xc3\xa9", b"X/Y", b"X@Y", b"X[Y]", b"X{Y}", b"X=Y", b"X?Y", b"\x01X"]
    for name in names:
        yield Case(f"name {name!r}", request(HOST, name + b": v"))
    for line in [b"NoColon", b"X:v", b"X:", b"X: ", b"X:\t\tv\t\t", b"X: a  \t b", b"X:::"]:
        yield Case(f"header line {line!r}", request(HOST, line))
    yield Case("repeated header joined", request(HOST, b"X-A: 1", b"x-a: 2", b"X-A:"))


VALUE_BYTES = {
    0x00: "control-char",  # h11 refuses NUL too: only the ones it lets through differ
    0x01: "control-char",
    0x08: "control-char",
    0x09: None,
    0x0B: None,
    0x0C: None,
    0x0D: None,
    0x0A: None,
    0x1F: "control-char",
    0x20: None,
    0x7F: "control-char",
    0x80: None,
    0xFF: None,
}


def value_cases() -> Iterator[Case]:
    """Each interesting byte at the start, middle and end of a header value (a small fuzz)."""
    for byte, reason in VALUE_BYTES.items():
        for where, value in [("start", b"%cab"), ("middle", b"a%cb"), ("end", b"ab%c")]:
            data = request(HOST, b"X: " + value % byte, b"Y: z")
            differs = reason if byte != 0x00 else None
            if byte == 0x0A and where == "end":  # h11: "X: ab", then LF CRLF ends the head
                differs = "bare-lf"
            yield Case(
                f"value byte {byte:#04x} at {where}",
                data,
                differs=differs,
                ours=400 if differs else None,
            )
    for value in [b"caf\xc3\xa9", b"\xc3(", b'"quoted, with comma"', b"a\tb", b"\t"]:
        yield Case(f"value {value!r}", request(HOST, b"X: " + value))


def fold_cases() -> Iterator[Case]:
    folds = [
        (b"X: a", b" b"),
        (b"X: a", b"\tb"),
        (b"X: a ", b"  b", b"\t c"),
        (b"X: a", b"   "),
        (b"Content-Length:", b" 5"),
        (b"X: a", b" b\x00"),
        (b"X: a", b" b\x01"),
        (b"X:", b" a"),
    ]
    for lines in folds:
        body = b"hello" if lines[0].startswith(b"Content-Length") else b""
        differs = "control-char" if lines[-1].endswith(b"\x01") else None
        yield Case(
            f"obs-fold {b'|'.join(lines)!r}",
            request(HOST, *lines, body=body),
            differs=differs,
            ours=400 if differs else None,
        )
    yield Case("continuation line first", request(b" X: y", HOST))
    yield Case("continuation of Host", request(b"Host: a", b" b"))


def content_length_cases() -> Iterator[Case]:
    values = {
        b"0": b"",
        b"5": b"hello",
        b"05": b"hello",
        b"0" * 19 + b"5": b"hello",
        b" 5\t": b"hello",
        b"5,5": b"hello",
        b"5, 5": b"hello",
        b"5 , 5,5": b"hello",
        b"99999999999999999999": b"partial",
    }
    for value, body in values.items():
        yield Case(f"Content-Length {value[:24]!r}", post(b"Content-Length: " + value, body=body))
    refused = [b"+5", b"-1", b"0x5", b"5.0", b"1e3", b"1_0", b"5 5", b"5,6", b"5,", b",5", b""]
    refused += [b"\xd9\xa5", b"\xc2\xb2", b"1" + b"0" * 20, b"1" * 4400, b"five"]
    for value in refused:
        yield Case(
            f"Content-Length {value[:24]!r} ({len(value)})", post(b"Content-Length: " + value)
        )
    for zeros in (21, 4400):
        value = b"0" * (zeros - 2) + b"25"
        yield Case(
            f"Content-Length with {zeros} digits, leading zeros",
            post(b"Content-Length: " + value, body=b"x" * 25),
            differs="content-length-zeros",
        )
    yield Case(
        "two equal Content-Length", post(b"Content-Length: 3", b"content-length: 3", body=b"abc")
    )
    yield Case("two Content-Length", post(b"Content-Length: 3", b"Content-Length: 4", body=b"abcd"))
    yield Case(
        "equal Content-Length, other spelling", post(b"Content-Length: 3", b"Content-Length: 03")
    )
    yield Case("body still to come", post(b"Content-Length: 10", body=b"short"))
    pipelined = b"abc" + request(HOST, start=b"GET /next HTTP/1.1")
    yield Case("body then a pipelined request", post(b"Content-Length: 3", body=pipelined))
    yield Case("body then garbage", post(b"Content-Length: 3", body=b"abcGARBAGE\r\n\r\n"))


def transfer_encoding_cases() -> Iterator[Case]:
    body = b"5\r\nhello\r\n0\r\n\r\n"
    for value in [b"chunked", b"Chunked", b"CHUNKED", b" chunked \t"]:
        yield Case(f"Transfer-Encoding {value!r}", post(b"Transfer-Encoding: " + value, body=body))
    for value in [b"gzip", b"gzip, chunked", b"chunked, gzip", b"chunked, chunked", b"identity"]:
        yield Case(f"Transfer-Encoding {value!r}", post(b"Transfer-Encoding: " + value, body=body))
    for value in [b"", b"chunked;q=1", b"chun ked", b"chunked\x01"]:
        differs = "control-char" if value.endswith(b"\x01") else None
        yield Case(
            f"Transfer-Encoding {value!r}",
            post(b"Transfer-Encoding: " + value, body=body),
            differs=differs,
            ours=400 if differs else None,
        )
    yield Case(
        "two Transfer-Encoding headers",
        post(b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked", body=body),
    )
    for lines in [
        (b"Transfer-Encoding: chunked", b"Content-Length: 3"),
        (b"Content-Length: 3", b"Transfer-Encoding: chunked"),
        (b"Content-Length: 0", b"Transfer-Encoding: chunked"),
    ]:
        yield Case(f"both {lines!r}", post(*lines, body=body), differs="te-and-cl", ours=400)
    data = request(HOST, b"Transfer-Encoding: chunked", body=body, start=b"POST / HTTP/1.0")
    yield Case("chunked in HTTP/1.0", data)


def chunk_cases() -> Iterator[Case]:
    end = b"0\r\n\r\n"
    sizes = {
        b"A": b"0123456789",
        b"a": b"0123456789",
        b"0005": b"hello",
        b"0" * 15 + b"5": b"hello",
        b"5 ": b"hello",
        b"5\t": b"hello",
        b"5;ext": b"hello",
        b"5;ext=v": b"hello",
        b'5;e="q"': b"hello",
        b"5;\x00\x7f": b"hello",
        b"5;a\rb": b"hello",
    }
    for size, data in sizes.items():
        yield Case(f"chunk size {size!r}", chunked(size + CRLF + data + CRLF + end))
    for size in [b"0x5", b"+5", b"-1", b"1_0", b" 5", b"5 ;ext", b"", b"g", b"0" * 21 + b"5"]:
        yield Case(f"chunk size {size!r}", chunked(size + CRLF + b"hello" + CRLF + end))
    for digits in (17, 20):
        size = b"0" * (digits - 1) + b"5"
        yield Case(
            f"chunk size of {digits} digits",
            chunked(size + CRLF + b"hello" + CRLF + end),
            differs="chunk-size-digits",
            ours=400,
        )
    yield Case(
        "chunk extension of 2000 bytes",
        chunked(b"5;" + b"e" * 2000 + CRLF + b"hello" + CRLF + end),
        differs="limits",
        ours=400,
    )
    yield Case("bare LF after a chunk size", chunked(b"5\nhello\r\n" + end))
    yield Case("bare LF after a chunk's data", chunked(b"5\r\nhello\n" + end))
    yield Case("garbage after a chunk's data", chunked(b"5\r\nhelloxx\r\n" + end))
    yield Case("CR then garbage after data", chunked(b"5\r\nhello\rx"))
    yield Case("no CRLF yet after data", chunked(b"5\r\nhello"))
    yield Case("several chunks", chunked(b"1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n" + end))
    yield Case("last chunk with an extension", chunked(b"1\r\na\r\n0;last\r\n\r\n"))
    yield Case("no last chunk yet", chunked(b"1\r\na\r\n"))
    for trailers in [
        b"X: y\r\n",
        b"X: y\r\nZ: w\r\n",
        b"bad\r\n",
        b"X: a\x00\r\n",
        b"X: a\r\n b\r\n",
        b"Content-Length: x\r\n",
        b"Transfer-Encoding: gzip\r\n",
        b"Content-Length: 9\r\n",
    ]:
        yield Case(f"trailers {trailers!r}", chunked(b"1\r\na\r\n0\r\n" + trailers + CRLF))
    yield Case(
        "trailers ending with bare LF",
        chunked(b"1\r\na\r\n0\r\nX: y\n\n"),
        differs="bare-lf",
        ours=400,
    )
    yield Case("chunked, then a pipelined request", chunked(b"0\r\n\r\n") + request(HOST))


def line_ending_cases() -> Iterator[Case]:
    """Bare LF and bare CR where CRLF belongs (issue 8's smuggling request among them)."""
    lf = Case("LF line endings throughout", b"GET / HTTP/1.1\nHost: x\n\n", "bare-lf", 400)
    yield lf
    yield Case("LF after the request line", b"GET / HTTP/1.1\nHost: x\r\n\r\n", "bare-lf", 400)
    yield Case("LF ending the head", b"GET / HTTP/1.1\r\nHost: x\r\n\n", "bare-lf", 400)
    yield Case("LF CRLF ending the head", b"GET / HTTP/1.1\r\nHost: x\n\r\n", "bare-lf", 400)
    smuggle = b"POST / HTTP/1.1\r\nHost: x\nContent-Length: 5\r\n\r\nhello"
    smuggle += b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    yield Case("bare LF hiding a Content-Length", smuggle, "bare-lf", 400)
    yield Case("bare CR after the request line", b"GET / HTTP/1.1\rHost: x\r\n\r\n")
    yield Case("CR CR LF", request(HOST, b"X: a\r"))
    yield Case("bare CR inside a value", request(HOST, b"X: a\rb"))
    yield Case("leading LF", b"\n" + request(HOST))
    yield Case("leading CRLF", CRLF + request(HOST), "leading-crlf")
    yield Case("two leading CRLF", CRLF * 2 + request(HOST), "leading-crlf")
    yield Case("leading TLS hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    yield Case("leading NUL", b"\x00" + request(HOST))
    yield Case("CRLF between pipelined", request(HOST) + CRLF + request(HOST), "leading-crlf")


def example_cases() -> Iterator[Case]:
    """RFC 9112's own examples and what real clients send to the two APIs."""
    yield Case(
        "RFC 9112 §2.1",
        b"GET /hello.txt HTTP/1.1\r\nUser-Agent: curl/7.64.1\r\nHost: www.example.com\r\n"
        b"Accept-Language: en, mi\r\n\r\n",
    )
    yield Case(
        "RFC 9112 §3.2.1", request(b"Host: www.example.org", start=b"GET /where?q=now HTTP/1.1")
    )
    yield Case(
        "RFC 9112 §3.2.2",
        request(
            b"Host: www.example.org",
            start=b"GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1",
        ),
    )
    yield Case(
        "RFC 9112 §3.2.3",
        request(b"Host: www.example.com", start=b"CONNECT www.example.com:80 HTTP/1.1"),
    )
    yield Case(
        "RFC 9112 §3.2.4", request(b"Host: www.example.org:8001", start=b"OPTIONS * HTTP/1.1")
    )
    yield Case(
        "RFC 9112 §7.1 chunked with a trailer",
        chunked(
            b"4\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n"
        ),
    )
    yield Case(
        "boto3 Invoke",
        b"POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n"
        b"Accept-Encoding: identity\r\nX-Amz-Invocation-Type: RequestResponse\r\n"
        b"User-Agent: Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1\r\n"
        b"X-Amz-Date: 20240101T000000Z\r\nX-Amz-Content-SHA256: e3b0c44298fc1c149afbf4c8996fb92\r\n"
        b"Authorization: AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/lambda/aws4_request, "
        b"SignedHeaders=host;x-amz-date, Signature=abc\r\n"
        b"amz-sdk-invocation-id: 5f1b8d3c-1b6e-4f5e-9a8e-000000000000\r\n"
        b"amz-sdk-request: attempt=1\r\nContent-Length: 2\r\n\r\n{}",
    )
    yield Case(
        "awslambdaric /next",
        b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n"
        b"User-Agent: aws-lambda-python/3.12-2.0.0\r\nAccept: */*\r\n\r\n",
    )
    yield Case(
        "curl with Expect",
        post(b"User-Agent: curl/8.5.0", b"Expect: 100-continue", b"Content-Length: 2", body=b"{}"),
    )
    yield Case("two pipelined GETs", request(HOST) + request(HOST, start=b"GET /b HTTP/1.1"))
    yield Case("Connection: close", request(HOST, b"Connection: close"))
    yield Case("long header line", request(HOST, b"X: " + b"v" * 9000), differs="limits", ours=400)
    yield Case(
        "long request line",
        request(HOST, start=b"GET /" + b"a" * 9000 + b" HTTP/1.1"),
        differs="limits",
        ours=414,
    )


FUZZ_BASE = b"POST /p?q HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"
FUZZ_SPOTS = {  # where a byte goes: after the first occurrence of this prefix
    "method": b"PO",
    "target": b"POST /p",
    "version": b"POST /p?q HTTP",
    "name": b"POST /p?q HTTP/1.1\r\nHo",
    "before colon": b"POST /p?q HTTP/1.1\r\nHost",
    "after colon": b"POST /p?q HTTP/1.1\r\nHost:",
    "length": b"POST /p?q HTTP/1.1\r\nHost: h\r\nContent-Length: ",
    "after length": b"POST /p?q HTTP/1.1\r\nHost: h\r\nContent-Length: 2",
}
FUZZ_BYTES = b'\x00\x01\t\n\r "(,:;\x7f\x80\xff'


FUZZ_DIFFERS = {
    ("after colon", 0x01): "control-char",
    ("after colon", 0x7F): "control-char",
    ("after colon", 0x0A): "bare-lf",  # h11: "Host:", then " h" folded onto it
    ("after length", 0x0A): "bare-lf",  # h11: LF CRLF ends the head
}


def fuzz_cases() -> Iterator[Case]:
    """Each byte of ``FUZZ_BYTES`` put in each spot of one valid request."""
    seen: set[bytes] = set()
    for spot, prefix in FUZZ_SPOTS.items():
        for byte in FUZZ_BYTES:
            data = prefix + bytes([byte]) + FUZZ_BASE[len(prefix) :]
            if data not in seen:  # "::" is the same request whichever colon came first
                seen.add(data)
                differs = FUZZ_DIFFERS.get((spot, byte))
                ours = 400 if differs else None
                yield Case(f"fuzz {byte:#04x} in {spot}", data, differs, ours)


CORPUS = [
    *method_cases(),
    *target_cases(),
    *version_cases(),
    *host_cases(),
    *name_cases(),
    *value_cases(),
    *fold_cases(),
    *content_length_cases(),
    *transfer_encoding_cases(),
    *chunk_cases(),
    *line_ending_cases(),
    *example_cases(),
    *fuzz_cases(),
]


def test_the_corpus_is_large_and_its_cases_distinct() -> None:
    ids = [case.id for case in CORPUS]
    assert len(CORPUS) >= 150 and len(set(ids)) == len(ids)
    datas = [case.data for case in CORPUS]
    assert len(set(datas)) == len(datas)
    assert {case.differs for case in CORPUS} - {None} == set(DELIBERATE)  # each one used


def test_the_corpus_holds_valid_and_invalid_requests() -> None:
    verdicts = [h11_verdict(case.data) for case in CORPUS]
    assert sum(v.status is None for v in verdicts) >= 60
    assert sum(v.status is not None for v in verdicts) >= 60


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.id)
def test_our_parser_answers_as_h11(case: Case) -> None:
    oracle = h11_verdict(case.data)
    whole = our_verdict(case.data, step=len(case.data))
    assert our_verdict(case.data, step=1) == whole  # however the bytes arrive
    if case.differs is None:
        assert whole == oracle
        return
    assert whole != oracle, f"no longer differs from h11 ({case.differs}): drop the mark"
    assert whole.status == case.ours, DELIBERATE[case.differs]
