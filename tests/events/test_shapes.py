from __future__ import annotations

from tests.events.shapes import shape_diff


def test_identical_values_have_no_difference() -> None:
    event = {"a": [{"b": 1, "c": None}], "d": "x"}
    assert shape_diff(event, event) == set()


def test_missing_extra_and_type_differences_are_reported_with_paths() -> None:
    ours = {"a": [{"b": "1"}], "extra": True}
    sam = {"a": [{"b": 1, "gone": {}}]}
    assert shape_diff(ours, sam) == {"~a[].b: ours string, sam number", "-a[].gone", "+extra"}


def test_map_paths_compare_value_types_only() -> None:
    ours = {"headers": {"x-mine": "1"}}
    sam = {"headers": {"Accept": "text/html"}}
    assert shape_diff(ours, sam, frozenset({"headers"})) == set()
    assert shape_diff({"headers": {"x": ["1"]}}, sam, frozenset({"headers"})) == {
        "~headers{}: ours ['array'], sam ['string']"
    }
