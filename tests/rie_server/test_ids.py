from __future__ import annotations

import uuid

from lambdarig.rie_server import ids


def test_uuid4_is_a_canonical_version_4_uuid() -> None:
    for _ in range(600):  # crosses several refills of the pool
        text = ids.uuid4()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_ids_do_not_repeat_across_refills() -> None:
    seen = {ids.uuid4() for _ in range(1000)} | {ids.random_hex(20) for _ in range(1000)}
    assert len(seen) == 2000


def test_random_bytes_have_the_asked_length_even_past_the_pool() -> None:
    assert [len(ids.random_bytes(n)) for n in (1, 16, 4095, 4096, 7)] == [1, 16, 4095, 4096, 7]
    assert len(ids.random_hex(20)) == 40


def test_new_trace_id_format() -> None:
    trace = ids.new_trace_id(0x5759E988)
    root, parent, sampled = trace.split(";")
    assert root.startswith("Root=1-5759e988-") and len(root) == len("Root=1-") + 8 + 1 + 24
    assert parent.startswith("Parent=") and len(parent) == len("Parent=") + 16
    assert sampled == "Sampled=0"
