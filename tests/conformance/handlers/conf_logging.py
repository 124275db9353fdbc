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
    elif kind == "stdout_api":
        sys.stdout.buffer.write(b"raw bytes to stdout.buffer\n")
        sys.stdout.buffer.flush()
        sys.stderr.write("written to stderr without print\n")
        print("flushed", flush=True)
        return {
            "encoding": sys.stdout.encoding,
            "errors": sys.stdout.errors,
            "isatty": sys.stdout.isatty(),
            "stderr_encoding": sys.stderr.encoding,
        }
    elif kind == "set_level":
        logging.getLogger().setLevel(logging.INFO)
        logging.info("info after setLevel(INFO)")
        logger.debug("still filtered")
        return [logging.getLevelName(logging.getLogger().level), len(logging.getLogger().handlers)]
    elif kind == "reformat":
        # A common pattern in Lambda code: restyle the runtime's own handler.
        for handler_ in logging.getLogger().handlers:
            handler_.setFormatter(logging.Formatter("%(levelname)s|%(aws_request_id)s|%(message)s"))
        logger.warning("restyled")
    elif kind == "raise":
        raise KeyError("logged failure")
    return "done"
