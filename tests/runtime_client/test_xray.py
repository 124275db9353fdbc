"""xray: the error cause JSON sent with function errors."""

from __future__ import annotations

import json

from lambdarig import runtime_api as wire
from lambdarig.runtime_client import xray


def test_cause_layout_and_key_order() -> None:
    frames = [("/var/task/app.py", 3, "handler", "x()"), ("/var/task/lib.py", 9, "x", "raise")]
    cause = xray.error_cause("ValueError", "boom", "/var/task", frames)
    assert cause == (
        '{"working_directory": "/var/task", "exceptions": [{"message": "boom", '
        '"type": "ValueError", "stack": [{"label": "handler", "path": "/var/task/app.py", '
        '"line": 3}, {"label": "x", "path": "/var/task/lib.py", "line": 9}]}], '
        '"paths": ["/var/task/app.py", "/var/task/lib.py"]}'
    )


def test_paths_are_unique_in_first_seen_order() -> None:
    frames = [("/b.py", 1, "f", None), ("/a.py", 2, "g", None), ("/b.py", 3, "h", None)]
    cause = xray.error_cause("E", "m", "/", frames)
    assert cause is not None and json.loads(cause)["paths"] == ["/b.py", "/a.py"]


def test_ensure_ascii_follows_the_marshaller_rule() -> None:
    assert '"h\\u00e9"' in (xray.error_cause("E", "h\u00e9", "/", []) or "")
    assert '"h\u00e9"' in (xray.error_cause("E", "h\u00e9", "/", [], ensure_ascii=False) or "")


def test_cause_of_one_mebibyte_or_more_is_dropped() -> None:
    overhead = len(xray.error_cause("E", "", "/", []) or "")
    limit = wire.MAX_XRAY_CAUSE_SIZE
    assert xray.error_cause("E", "x" * (limit - overhead - 1), "/", []) is not None
    assert xray.error_cause("E", "x" * (limit - overhead), "/", []) is None
