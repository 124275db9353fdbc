"""Fixture handlers used by the runtime-client tests (both sides load them by name)."""

import collections
import decimal
import logging

NOT_CALLABLE = 5
Point = collections.namedtuple("Point", "x y")


def echo(event, context):
    return event


def _deeper(message):
    raise ValueError(message)


def raises(event, context):
    _deeper("boom \u00e9")


def raises_empty(event, context):
    raise RuntimeError()


def returns_set(event, context):
    return {1, 2}


def returns_bytes(event, context):
    return b"\x00raw\xff"


def returns_exotic(event, context):
    return {"d": decimal.Decimal("1.10"), "p": Point(1, 2), "nan": float("nan"), "u": "h\u00e9"}


def describe_context(event, context):
    return {
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "remaining_positive": context.get_remaining_time_in_millis() > 0,
        "tenant": context.tenant_id,
    }


def logs_and_returns(event, context):
    logging.getLogger().error("inside %s", "handler")
    context.log("raw context line\n")
    return "done"


async def async_echo(event, context):
    import asyncio

    await asyncio.sleep(0)
    return {"async": event}


async def async_raises(event, context):
    raise KeyError("missing")
