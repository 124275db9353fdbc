"""http11_grammar (through the sans-IO parser): issue 8's findings, each sent as bytes.

The differential test against h11 (``test_http11_against_h11.py``) covers the grammar broadly;
these name each finding and pin the status and the message a client gets.
"""

from __future__ import annotations

import pytest

from lambdarig.rie_server.http import parser as parser_module
from lambdarig.rie_server.http.grammar import request_line
from lambdarig.rie_server.http.parser import BadRequest, HttpRequest, RequestParser


def parse(data: bytes, step: int = 0) -> list[HttpRequest]:
    parser = RequestParser(1000)
    found: list[HttpRequest] = []
    step = step or len(data)
    for start in range(0, len(data), step):
        parser.feed(data[start : start + step])
        request = parser.next_request()
        while request is not None:
            found.append(request)
            request = parser.next_request()
    return found


def refusal(data: bytes, step: int = 0) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        parse(data, step)
    return caught.value


def test_a_bare_lf_inside_a_header_line_cannot_smuggle_a_request() -> None:
    # Read as "Host: x\nContent-Length: 5" (no body), "hello..." became the next request.
    data = (
        b"POST / HTTP/1.1\r\nHost: x\nContent-Length: 5\r\n\r\n"
        b"helloGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    for step in (1, len(data)):
        refused = refusal(data, step)
        assert refused.status == 400 and "bare" in str(refused)  # CR or LF inside, or LF ending


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\nHost: x\n\n",
        b"GET / HTTP/1.1\r\nHost: x\n\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\n",
    ],
)
def test_lf_line_endings_are_refused_at_once_not_left_waiting(data: bytes) -> None:
    # No CRLF CRLF ever arrives: the old parser waited for more bytes forever.
    refused = refusal(data, step=1)
    assert (refused.status, "expected CRLF line endings, got a bare LF") == (400, str(refused)[:41])


@pytest.mark.parametrize("value", [b"a\rb", b"a\x00b", b"a\x01b", b"a\x7f", b"\x1bx"])
def test_control_characters_in_a_header_value_are_refused(value: bytes) -> None:
    refused = refusal(b"GET / HTTP/1.1\r\nHost: x\r\nX-Trace: " + value + b"\r\n\r\n")
    assert refused.status == 400


@pytest.mark.parametrize("name", [b"X Y", b"X(Y)", b"X\xc3\xa9", b"X\x00", b"", b'X"'])
def test_header_names_are_tokens(name: bytes) -> None:
    assert refusal(b"GET / HTTP/1.1\r\nHost: x\r\n" + name + b": v\r\n\r\n").status == 400


@pytest.mark.parametrize("size", [b"0x5", b"1_0", b"+5", b"-1", b" 5", b"0" * 17, b"5 ;x"])
def test_chunk_sizes_are_1_to_16_hex_digits_only(size: bytes) -> None:
    data = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    refused = refusal(data + size + b"\r\nhello\r\n0\r\n\r\n")
    assert refused.status == 400 and "expected a chunk size of 1 to 16 hex digits" in str(refused)
    (request,) = parse(data + b"0" * 15 + b"5;ext=1 \r\nhello\r\n0\r\n\r\n")
    assert request.body == b"hello"


def test_chunk_size_lines_are_capped_even_when_complete() -> None:
    data = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    line = b"5;" + b"e" * 2000 + b"\r\nhello\r\n0\r\n\r\n"
    for step in (1, len(data + line)):
        refused = refusal(data + line, step)
        assert "expected a chunk-size line of at most 1024 bytes" in str(refused)


def test_huge_content_lengths_are_400_and_leading_zeros_are_fine() -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: "
    # 4,301 digits is past int()'s str limit: the old parser raised ValueError from int().
    refused = refusal(head + b"1" * 4400 + b"\r\n\r\n")
    assert (refused.status, str(refused)) == (
        400,
        "expected a Content-Length of at most 20 digits, got 4400",
    )
    (request,) = parse(head + b"0" * 4400 + b"25\r\n\r\n" + b"x" * 25)
    assert (request.content_length, request.body) == (25, b"x" * 25)
    assert request.headers["content-length"] == "0" * 4400 + "25"


def test_an_http11_request_needs_exactly_one_host() -> None:
    assert "expected a Host header" in str(refusal(b"GET / HTTP/1.1\r\n\r\n"))
    assert "one Host header" in str(refusal(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"))
    (request,) = parse(b"GET / HTTP/1.0\r\n\r\n")
    assert request.version == "HTTP/1.0"


def test_obs_fold_is_unfolded_to_one_space() -> None:
    (request,) = parse(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n \t b\r\n\r\n")
    assert request.headers["x"] == "a b"
    assert refusal(b"GET / HTTP/1.1\r\n X: a\r\nHost: x\r\n\r\n").status == 400


def test_a_repeated_head_means_the_same_each_time_and_a_changed_one_is_checked_anew() -> None:
    # The parser reuses the meaning of a head repeated byte for byte (a runtime's /next): the
    # repeat is framed and checked as the first was, and one byte more is parsed (and refused).
    head = b"POST /r HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n"
    first, second = parse(head + b"ok" + head + b"no")
    assert (first.body, second.body) == (b"ok", b"no")
    assert first.headers == second.headers and second.headers["Content-Length"] == "2"
    assert (second.method, second.target, second.version) == ("POST", "/r", "HTTP/1.1")
    bad = head.replace(b"Host: x", b"Host: x\x01")
    assert refusal(head + b"ok" + bad + b"no").status == 400
    assert refusal(head + b"ok" + head.replace(b"Host: x\r\n", b"")).status == 400  # no Host


def test_heads_that_alternate_each_mean_what_they_say(monkeypatch: pytest.MonkeyPatch) -> None:
    # A runtime alternates its /next with answers whose paths differ each time: the parser keeps
    # the first heads it saw and lets a new one take the last place; each means what it says.
    poll = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"
    answers = [
        b"POST /2018-06-01/runtime/invocation/%d/response HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 1\r\n\r\n%d" % (n, n)
        for n in range(4)
    ]
    sent = b"".join(poll + answer for answer in answers) + poll
    requests = parse(sent)
    assert [(r.method, r.target, r.body) for r in requests] == [
        step
        for n in range(4)
        for step in (
            ("GET", "/2018-06-01/runtime/invocation/next", b""),
            ("POST", f"/2018-06-01/runtime/invocation/{n}/response", str(n).encode()),
        )
    ] + [("GET", "/2018-06-01/runtime/invocation/next", b"")]
    parsed: list[bytes] = []  # the request lines parsed, not taken from a known head

    def counted(line: bytes) -> tuple[str, str, str]:
        parsed.append(line)
        return request_line(line)

    monkeypatch.setattr(parser_module, "request_line", counted)
    parser = RequestParser(1024)
    parser.feed(sent)
    while parser.next_request() is not None:
        pass
    assert parsed.count(poll.split(b"\r\n")[0]) == 1  # the poll was parsed once, then known
    assert len(parsed) == 5  # and each answer once
    assert len(parser._known) == 2 and poll[:-4] in parser._known  # the poll kept, bounded


def test_a_body_means_the_same_whether_it_came_with_its_head_or_after_it() -> None:
    # A body that arrived whole with its head is taken at once (the usual request); one that
    # comes later, in pieces, or longer than what is kept goes the long way: the same requests.
    head = b"POST /r HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
    sent = b"".join(
        [
            head % 5 + b"\r\nhello",
            head % 0 + b"\r\n",
            head % 3 + b"Expect: 100-continue\r\n\r\nabc",
            head % 1200 + b"\r\n" + b"z" * 1200,  # over the parser's 1000 bytes kept
            b"GET /n HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
    )

    def seen(step: int) -> list[tuple[object, ...]]:
        return [
            (r.method, r.target, r.body, r.content_length, r.received, dict(r.headers.items()))
            for r in parse(sent, step)
        ]

    whole = seen(0)
    assert [(body[:6], length, received) for _, _, body, length, received, _ in whole] == [
        (b"hello", 5, 5),
        (b"", 0, 0),
        (b"abc", 3, 3),
        (b"zzzzzz", 1200, 1200),
        (b"", 0, 0),
    ]
    assert len(whole[3][2]) == 1000  # kept up to keep_bytes, the rest counted
    for step in (1, 7, 64):
        assert seen(step) == whole, step


def test_a_repeated_head_asks_for_100_continue_each_time() -> None:
    # What a known head meant is reused; whether its body is still to come is judged anew.
    head = b"POST /r HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    parser = RequestParser(1000)
    bodies = []
    for body in (b"ok", b"no"):
        parser.feed(head)
        assert parser.next_request() is None and parser.expects_continue
        parser.continue_sent()
        parser.feed(body)
        request = parser.next_request()
        assert request is not None and not parser.expects_continue
        assert (request.content_length, request.headers["expect"]) == (2, "100-continue")
        bodies.append(request.body)
    parser.feed(head + b"ok")  # with its body at once: nothing to ask for
    assert parser.next_request() is not None and not parser.expects_continue
    assert bodies == [b"ok", b"no"]
    assert head[:-4] in parser._known  # its meaning was reused, not parsed again
