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
