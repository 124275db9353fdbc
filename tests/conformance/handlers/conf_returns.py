"""Return values of every kind; the event's "kind" selects one. Also echoes the decoded event."""

import datetime
import decimal

print("conf_returns imported")

VALUES = {
    "dict": lambda: {"b": 1, "a": [1, 2.5, True, None], "nested": {"x": "y"}},
    "list": lambda: [3, "two", 1.0],
    "tuple": lambda: (1, 2),
    "str": lambda: "ok",
    "none": lambda: None,
    "int": lambda: 42,
    "float": lambda: 0.1,
    "bool": lambda: False,
    "bytes": lambda: b"\x00raw bytes\xff",
    "decimal": lambda: {"price": decimal.Decimal("1.10"), "big": decimal.Decimal("1e400")},
    "decimal_nan": lambda: [decimal.Decimal("NaN")],
    "nan": lambda: [float("nan"), float("inf"), float("-inf")],
    "unicode": lambda: {"text": "héllo ✓ 日本 \U0001f600"},
    "set": lambda: {1, 2},
    "datetime": lambda: {"at": datetime.datetime(2024, 1, 2, 3, 4, 5)},
    "object": lambda: object(),
    "dict_int_keys": lambda: {1: "one", 2: "two"},
    "large": lambda: "x" * (1024 * 1024),
    "too_large": lambda: "y" * (7 * 1024 * 1024),
}


def handler(event, context):
    return VALUES[event["kind"]]()


def echo(event, context):
    return {
        "type": type(event).__name__,
        "event": event if not isinstance(event, bytes) else event.decode("utf-8", "replace"),
    }


def echo_raw(event, context):
    return event


def echo_size(event, context):
    return {"keys": len(event), "chars": sum(len(v) for v in event.values())}
