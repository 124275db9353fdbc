"""The control plane's pagination (``Marker``, ``MaxItems``, ``NextMarker``), as the service pages
its lists: https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html"""

from __future__ import annotations

import base64

import pytest

from lambdarig.rie_server.invoke.pages import Page, encode_marker, paginate

ITEMS = [f"item-{index}" for index in range(7)]


def pages_of(size: str, cap: int | None = None) -> list[list[str]]:
    walked: list[list[str]] = []
    query = {"MaxItems": size}
    while True:
        page = paginate(ITEMS, ITEMS, query, cap)
        assert isinstance(page, Page), page
        walked.append(list(page.items))
        if page.next_marker is None:
            return walked
        query = {"MaxItems": size, "Marker": page.next_marker}


def test_markers_walk_every_item_once() -> None:
    assert pages_of("3") == [ITEMS[:3], ITEMS[3:6], ITEMS[6:]]
    assert pages_of("7") == [ITEMS]
    assert pages_of("10000") == [ITEMS]


def test_the_cap_bounds_a_page_whatever_max_items_says() -> None:
    assert pages_of("10000", cap=4) == [ITEMS[:4], ITEMS[4:]]
    many = [str(index) for index in range(120)]
    page = paginate(many, many, {})
    assert isinstance(page, Page)
    assert (len(page.items), page.next_marker) == (50, encode_marker("50"))


def test_an_empty_marker_is_the_first_page() -> None:
    page = paginate(ITEMS, ITEMS, {"Marker": "", "MaxItems": "2"})
    assert isinstance(page, Page) and list(page.items) == ITEMS[:2]


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (
            "0",
            "Value '0' at 'maxItems' failed to satisfy constraint: Member must have value "
            "greater than or equal to 1",
        ),
        ("-5", "Member must have value greater than or equal to 1"),
        ("10001", "Member must have value less than or equal to 10000"),
        ("99999999999999999999", "Member must be an integer"),
        ("", "Member must be an integer"),
        ("2.5", "Member must be an integer"),
        ("\u0663", "Member must be an integer"),  # a non-ASCII digit
    ],
)
def test_a_bad_max_items_is_a_validation_exception(value: str, detail: str) -> None:
    refused = paginate(ITEMS, ITEMS, {"MaxItems": value})
    assert isinstance(refused, tuple)
    status, error_type, message = refused
    assert (status, error_type) == (400, "ValidationException")
    assert message.startswith("1 validation error detected: ") and detail in message


@pytest.mark.parametrize(
    "marker",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"item-3").decode(),  # not one of ours
        encode_marker("item-99"),  # ours, for an item that is not listed
        base64.urlsafe_b64encode(b"lambdarig:\xff").decode(),  # not UTF-8
        "\x00\x1b[31m",
        "\u00e9",
        "A" * 5000,
    ],
)
def test_a_forged_marker_is_invalid_parameter_value(marker: str) -> None:
    refused = paginate(ITEMS, ITEMS, {"Marker": marker})
    assert isinstance(refused, tuple)
    status, error_type, message = refused
    assert (status, error_type) == (400, "InvalidParameterValueException")
    assert marker not in message
