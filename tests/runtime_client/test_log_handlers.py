"""log_handlers: awslambdaric's root handler, request-id filter, text and JSON formats."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator

import pytest

from lambdarig.runtime_client import log_handlers, sinks
from tests.runtime_client.samples import make_config


class ListSink(sinks.LogSink):
    def __init__(self, json_format: bool = False) -> None:
        super().__init__(json_format)
        self.records: list[tuple[str, bytes | None]] = []

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        self.records.append((msg, frame_type))


@pytest.fixture
def logger(monkeypatch: pytest.MonkeyPatch) -> Iterator[logging.Logger]:
    """A private logger (not the root) so tests never touch pytest's logging setup."""
    monkeypatch.setattr(logging.Formatter, "converter", logging.Formatter.converter)
    log = logging.getLogger(f"lambdarig-test-{time.monotonic_ns()}")
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)


def test_text_format_carries_the_request_id(logger: logging.Logger) -> None:
    sink = ListSink()
    log_handlers.install_handler(make_config(), sink, logger)
    sinks.set_request_context("req-7", None)
    logger.warning("hello %s", "world")
    ((message, frame_type),) = sink.records
    assert re.fullmatch(
        r"\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-7\thello world\n", message
    )
    assert frame_type is None  # no level configured: the plain handler sends no frame type


def test_request_id_is_per_context(logger: logging.Logger) -> None:
    import contextvars

    sink = ListSink()
    log_handlers.install_handler(make_config(), sink, logger)
    sinks.set_request_context("outer", None)
    contextvars.copy_context().run(
        lambda: (sinks.set_request_context("inner", None), logger.error("x"))
    )
    logger.error("y")
    assert [m.split("\t")[2] for m, _ in sink.records] == ["inner", "outer"]


def test_threads_see_the_request_id_only_in_a_copied_context(logger: logging.Logger) -> None:
    """Documented difference: awslambdaric's module global is visible from every thread."""
    import contextvars
    import threading

    sink = ListSink()
    log_handlers.install_handler(make_config(), sink, logger)
    sinks.set_request_context("req-t", None)
    plain = threading.Thread(target=logger.error, args=("plain",))
    copied = threading.Thread(target=contextvars.copy_context().run, args=(logger.error, "copied"))
    for thread in (plain, copied):
        thread.start()
        thread.join()
    assert [m.split("\t")[2:] for m, _ in sink.records] == [["", "plain\n"], ["req-t", "copied\n"]]


def test_level_setting_and_frame_types(logger: logging.Logger) -> None:
    sink = ListSink()
    log_handlers.install_handler(make_config(AWS_LAMBDA_LOG_LEVEL="TRACE"), sink, logger)
    assert logger.level == logging.DEBUG
    for level in (5, logging.DEBUG, logging.INFO, 25, logging.ERROR, 70):
        logger.log(level, "m")
    assert [f.hex() for _, f in sink.records if f] == [  # level 5 is below DEBUG: dropped
        "a55a000b",
        "a55a000f",
        "a55a000f",
        "a55a0017",
        "a55a001b",
    ]


def test_unknown_level_name_selects_frame_types_but_sets_no_level(logger: logging.Logger) -> None:
    config = make_config()
    config.log_level = "VERBOSE"  # what awslambdaric keeps for an unknown AWS_LAMBDA_LOG_LEVEL
    sink = ListSink()
    handler = log_handlers.install_handler(config, sink, logger)
    assert type(handler) is log_handlers.LambdaLoggerHandlerWithFrameType
    assert logger.level == logging.NOTSET


def test_json_format(logger: logging.Logger) -> None:
    sink = ListSink(json_format=True)
    log_handlers.install_handler(make_config(AWS_LAMBDA_LOG_FORMAT="json"), sink, logger)
    sinks.set_request_context("req-9", "tenant-1")
    try:
        raise KeyError("k")
    except KeyError as exc:
        line = exc.__traceback__.tb_lineno + 3 if exc.__traceback__ else 0
        logger.exception({"structured": True}, extra={"order_id": 42, "skip": None})
    ((message, frame_type),) = sink.records
    record = json.loads(message)
    assert message.endswith("}\n") and frame_type == bytes.fromhex("a55a0016")
    assert list(record) == [
        "timestamp",
        "level",
        "message",
        "logger",
        "stackTrace",
        "errorType",
        "errorMessage",
        "requestId",
        "location",
        "tenantId",
        "order_id",
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["timestamp"])
    assert record["message"] == {"structured": True} and record["errorType"] == "KeyError"
    assert record["errorMessage"] == "'k'" and record["location"].endswith(
        f":test_json_format:{line}"
    )
