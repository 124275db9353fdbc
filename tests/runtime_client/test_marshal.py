"""marshal: simplejson-compatible encoding/decoding with the stdlib only."""

from __future__ import annotations

import collections
import decimal
import enum
from pathlib import Path

import pytest

from lambdarig.runtime_client import marshal
from tests.runtime_client.handlers.probe import probe

Point = collections.namedtuple("Point", "x y")


class Color(enum.IntEnum):
    RED = 1


def test_plain_values_use_simplejson_separators() -> None:
    assert marshal.dumps({"a": [1, 2.5, None, True]}, True) == '{"a": [1, 2.5, null, true]}'


def test_decimal_is_emitted_verbatim_and_nan_decimal_as_nan() -> None:
    values = [decimal.Decimal("1.10"), decimal.Decimal("NaN"), decimal.Decimal("1E+2")]
    assert marshal.dumps(values, True) == "[1.10, NaN, 1E+2]"


def test_non_finite_floats_are_allowed() -> None:
    assert marshal.dumps([float("nan"), float("-inf")], True) == "[NaN, -Infinity]"


def test_namedtuple_is_an_object_and_nested_bytes_are_text() -> None:
    assert marshal.dumps([Point(1, 2), b"raw"], True) == '[{"x": 1, "y": 2}, "raw"]'


def test_int_enum_is_its_number() -> None:
    assert marshal.dumps({Color.RED: Color.RED}, True) == '{"1": 1}'


@pytest.mark.parametrize(
    ("ensure_ascii", "expected"),
    [(True, '"h\\u00e9\\ud83d\\ude00"'), (False, '"h\u00e9\U0001f600"')],
)
def test_ensure_ascii_rule(ensure_ascii: bool, expected: str) -> None:
    assert marshal.dumps("h\u00e9\U0001f600", ensure_ascii) == expected


def test_unserialisable_value_message() -> None:
    with pytest.raises(TypeError, match="^Object of type set is not JSON serializable$"):
        marshal.dumps({"a": {1}}, True)


def test_circular_reference() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="^Circular reference detected$"):
        marshal.dumps(loop, True)


def test_loads_skips_bom_and_rejects_nan() -> None:
    assert marshal.loads(b"\xef\xbb\xbf{}") == {}
    with pytest.raises(ValueError, match=r"^Expecting value: line 1 column 6 \(char 5\)$"):
        marshal.loads(b'{"a":NaN}')


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a":1,}', "Illegal trailing comma before end of object: line 1 column 7 (char 6)"),
        (b"1 2", "Extra data: line 1 column 3 - line 1 column 4 (char 2 - 3)"),
        (b'"\x01"', "Invalid control character '\\x01' at: line 1 column 2 (char 1)"),
        (
            b"{",
            "Expecting property name enclosed in double quotes or '}': line 1 column 2 (char 1)",
        ),
    ],
)
def test_loads_error_messages_are_simplejsons(body: bytes, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        marshal.loads(body)
    assert str(caught.value) == message


def test_nesting_too_deep_uses_simplejsons_wording() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(
        RecursionError, match="^maximum recursion depth exceeded while encoding a JSON object$"
    ):
        marshal.dumps(deep, True)
    with pytest.raises(RecursionError, match="decoding a JSON array from a string$"):
        marshal.loads(b"[" * 100_000 + b"]" * 100_000)


def test_shared_containers_are_not_cycles() -> None:
    shared = [1]
    assert marshal.dumps({"a": shared, "b": shared}, True) == '{"a": [1], "b": [1]}'


def test_loads_is_utf8_only() -> None:
    with pytest.raises(UnicodeDecodeError):
        marshal.loads('"x"'.encode("utf-16"))


# --- against awslambdaric (simplejson) ------------------------------------------------------------

DUMPS_EXPRESSIONS = [
    "{'a': 1, 'b': [1.5, None, True, False]}",
    "__import__('collections').namedtuple('NT', 'a b')(1, 2)",
    "[__import__('decimal').Decimal(s) for s in ('1.10', 'NaN', 'sNaN', '-0', '1E+2', '-Inf')]",
    "{__import__('decimal').Decimal('1'): 1}",
    "{1.5: 1, 2: 2, None: 3, True: 4, float('nan'): 5}",
    "{1}",
    "[b'x', {b'k': b'v'}]",
    "'h\\u00e9\\U0001f600\\u2028\\x7f\\x00\\ud800'",
    "[float('nan'), float('inf'), -float('inf'), 1e100, 0.1, 10**30]",
    "__import__('enum').IntEnum('E', 'A').A",
    "__import__('datetime').datetime(2020, 1, 1)",
    "(lambda l: (l.append(l), l)[1])([])",
    "{(1, 2): 3}",
    "type('X', (), {'_asdict': lambda self: {'q': 1}})()",
    "[__import__('collections').OrderedDict(a=1), ()]",
    "{'k': [__import__('decimal').Decimal('3'), {'n': (1, 2)}]}",
    "[b'\\xff']",
    "{b'k': 1, True: 2, 1: 3}",
    "__import__('types').MappingProxyType({'a': 1})",
    "[1e-7, -0.0, 123456789012345678.0, float('1e400')]",
    "type('S', (str,), {'__str__': lambda s: 'X'})('v')",
    "[type('F', (float,), {'__repr__': lambda s: 'R'})(2.5), type('I', (int,), {})(3)]",
    "__import__('functools').reduce(lambda a, _: [a], range(100000), [])",
    "__import__('functools').reduce(lambda a, _: {'k': a}, range(100000), {})",
    "__import__('functools').reduce(lambda a, _: [a], range(10**5), "
    "[__import__('decimal').Decimal()])",
    "(lambda shared: [shared, shared])([1])",
]
LOADS_BODIES = [
    b"",
    b"{",
    b'{"a":1,}',
    b"\xff",
    b"\xef\xbb\xbf{}",
    b"[1,2",
    b"nul",
    b"1 2",
    b'{"a":NaN}',
    b"[-Infinity]",
    b'"\x01"',
    b"  ",
    b'{"a" 1}',
    b"[1,]",
    b'["\\x"]',
    b'["\\u12"]',
    b'"abc',
    b'{"a":1 "b"}',
    b"[1 2]",
    b'{"a":}',
    b'\n\n  {"a": [1, 2, {"b": tru}]}',
    b"-",
    b"-01",
    b"1.",
    b"1e",
    b'{"a": 1.5e3, "b": "\\ud83d\\ude00", "c": [true, false, null]}',
    '"x"'.encode("utf-16"),
    b"1" * 5000,
    b"[" * 100000 + b"]" * 100000,
    b'{"a":' * 100000 + b"1" + b"}" * 100000,
    b'{"a": 1, "a": 2}',
    b"1.0e+400",
    b'"\\u0000\\ud834\\udd1e"',
    b"\xef\xbb\xbf\xef\xbb\xbf{}",
    b"\xed\xa0\x80",
]


@pytest.mark.peers
@pytest.mark.parametrize("execution_env", ["", "AWS_Lambda_python3.12"])
def test_same_bytes_as_awslambdaric(awslambdaric_python: Path, execution_env: str) -> None:
    cases = [{"op": "dumps", "expr": e} for e in DUMPS_EXPRESSIONS]
    cases += [{"op": "loads", "expr": repr(b)} for b in LOADS_BODIES]
    env = {"AWS_EXECUTION_ENV": execution_env} if execution_env else {}
    theirs, _ = probe(awslambdaric_python, "ric", cases, env)
    ours, _ = probe(awslambdaric_python, "ours", cases, env)
    for case, expected, actual in zip(cases, theirs, ours):
        assert actual == expected, case
