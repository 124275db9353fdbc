"""Log output of every kind; the event's "kind" selects one."""

import logging
import sys

logger = logging.getLogger("conf.logger")
logging.getLogger().warning("module-level warning at init")
print("module-level print at init")


def handler(event, context):
    kind = event["kind"]
    if kind == "print":
        print("printed line")
        print("two\nlines")
        print("to stderr", file=sys.stderr)
    elif kind == "levels":
        root = logging.getLogger()
        root.debug("debug message")
        root.info("info message")
        root.warning("warning message")
        root.error("error message")
        root.critical("critical message")
        logger.warning("named logger %s %d", "args", 7)
        root.log(5, "level five")
        root.log(25, "level twenty-five")
    elif kind == "exc_info":
        try:
            raise ValueError("logged exception")
        except ValueError:
            logger.exception("caught it")
    elif kind == "extra":
        logger.warning(
            "with extras", extra={"orderId": 17, "nested": {"a": [1]}, "none_value": None}
        )
    elif kind == "unicode":
        logger.warning("ünïcödé ✓ 日本")
    elif kind == "context_log":
        context.log("raw context log\n")
        context.log("no newline")
        context.log(12345)
        print()
    elif kind == "raise":
        raise KeyError("logged failure")
    return "done"
