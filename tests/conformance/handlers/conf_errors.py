"""Exceptions of every shape raised from a handler; the event's "kind" selects one."""

import json
import sys


class CustomError(Exception):
    pass


class WithStr(Exception):
    def __str__(self):
        return "custom __str__ ✓"


def level3(kind):
    if kind == "nested":
        raise RuntimeError("deep down")
    return level3_unreachable


def level2(kind):
    return level3(kind)


def level1(kind):
    return level2(kind)


def recurse(depth):
    return recurse(depth + 1)


def handler(event, context):
    kind = event["kind"]
    if kind == "value":
        raise ValueError("boom")
    if kind == "nested":
        return level1(kind)
    if kind == "unicode":
        raise ValueError("ünïcödé ✓ 日本 \U0001f600")
    if kind == "custom":
        raise CustomError("custom class")
    if kind == "custom_str":
        raise WithStr()
    if kind == "chained":
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("wrapped") from exc
    if kind == "implicit_chain":
        try:
            1 / 0
        except ZeroDivisionError:
            raise TypeError("during handling")
    if kind == "empty":
        raise Exception()
    if kind == "multiline":
        raise ValueError("line one\nline two\ttabbed")
    if kind == "keyerror":
        return {}["absent"]
    if kind == "args":
        raise ValueError("a", 2)
    if kind == "stdlib":
        return json.loads("{not json")
    if kind == "recursion":
        return recurse(0)
    if kind == "exit":
        sys.exit(3)
    raise AssertionError(f"unknown kind {kind}")


not_callable = {"i am": "not a function"}
