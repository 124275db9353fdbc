from __future__ import annotations

import threading

import pytest

from lambdarig.testing.reports import LogBook, Report, parse_end, parse_report, parse_start

SERVICE = (
    "REPORT RequestId: 1f0e\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 30 MB\tInit Duration: 12.34 ms\t"
)
RIE = (
    "REPORT RequestId: abc\tInit Duration: 0.24 ms\tDuration: 33.59 ms\tBilled Duration: 34 ms\t"
    "Memory Size: 3008 MB\tMax Memory Used: 3008 MB\t"
)


def test_parse_report_service_format() -> None:
    assert parse_report(SERVICE) == Report("1f0e", 1.23, 2, 128, 30, 12.34)


def test_parse_report_rie_format_puts_init_duration_first() -> None:
    assert parse_report(RIE) == Report("abc", 33.59, 34, 3008, 3008, 0.24)


def test_parse_report_status_and_error_type() -> None:
    line = SERVICE.replace(
        "Init Duration: 12.34 ms\t", "Status: error\tError Type: Runtime.ExitError"
    )
    report = parse_report(line)
    assert report is not None
    assert (report.status, report.error_type, report.init_duration_ms) == (
        "error",
        "Runtime.ExitError",
        None,
    )


def test_parse_report_names_the_missing_field() -> None:
    with pytest.raises(ValueError, match="expected a numeric 'Billed Duration' field"):
        parse_report("REPORT RequestId: x\tDuration: 1.00 ms\tMemory Size: 1 MB")


def test_parse_other_lines() -> None:
    assert parse_report("hello") is None
    assert parse_start("START RequestId: r1 Version: $LATEST") == "r1"
    assert parse_end("END RequestId: r1") == "r1"
    assert parse_start("END RequestId: r1") is None


def _feed(book: LogBook, *lines: str) -> None:
    for line in lines:
        book.feed(line)


def test_logbook_attributes_lines_to_their_invocation() -> None:
    book = LogBook()
    _feed(
        book,
        "init line",
        "START RequestId: a Version: $LATEST",
        "out a",
        "END RequestId: a",
        SERVICE.replace("1f0e", "a"),
    )
    mark = book.mark()
    _feed(
        book,
        "START RequestId: b Version: $LATEST",
        "out b1",
        "out b2",
        "END RequestId: b",
        RIE.replace("abc", "b"),
    )
    first = book.wait_invocation("a", 0, timeout=0)
    second = book.wait_invocation(None, mark, timeout=0)
    assert first is not None and second is not None
    assert (first.lines, first.init_lines) == (["out a"], ["init line"])
    assert (second.request_id, second.lines, second.init_lines) == ("b", ["out b1", "out b2"], [])
    assert second.report is not None and second.report.duration_ms == 33.59


def test_logbook_takes_a_partial_line_off_the_platform_line_it_was_glued_to() -> None:
    """aws-lambda-rie copies the runtime's bytes as they come: output without a trailing newline
    ends up in front of the next START or END line."""
    book = LogBook()
    _feed(
        book,
        "init without newlineSTART RequestId: a Version: $LATEST",
        "out a",
        "ValueError: boomEND RequestId: a",
        RIE.replace("abc", "a"),
        "START RequestId: b Version: $LATEST",
        "mentions END RequestId: b in the middle",
        "END RequestId: b",
        RIE.replace("abc", "b"),
    )
    first = book.wait_invocation("a", 0, timeout=0)
    second = book.wait_invocation("b", 0, timeout=0)
    assert first is not None and second is not None
    assert first.init_lines == ["init without newline"]
    assert first.lines == ["out a", "ValueError: boom"] and first.report is not None
    assert second.lines == ["mentions END RequestId: b in the middle"]


def test_logbook_waits_for_the_report_line() -> None:
    book = LogBook()
    _feed(book, "START RequestId: a Version: $LATEST", "out")
    feeder = threading.Timer(0.05, _feed, (book, "END RequestId: a", RIE.replace("abc", "a")))
    feeder.start()
    try:
        found = book.wait_invocation("a", 0, timeout=5)
    finally:
        feeder.join()
    assert found is not None and found.report is not None and found.lines == ["out"]


def test_logbook_without_report_returns_partial_logs() -> None:
    book = LogBook()
    assert book.wait_invocation(None, 0, timeout=0) is None
    _feed(book, "START RequestId: a Version: $LATEST", "out")
    found = book.wait_invocation("a", 0, timeout=0.01)
    assert found is not None and found.report is None and found.lines == ["out"]
