"""Listing an image's /opt/extensions from a ``get_archive`` stream: what a hostile image's tar
can hold (nested entries, bad names, non-executables, many entries) never becomes an extension."""

from __future__ import annotations

import io
import tarfile

import pytest

from lambdarig.rie_server.environments.container_execs import executables_in_archive
from lambdarig.rie_server.extensions.protocol import valid_name


def _archive(*members: tuple[str, int, bytes | None]) -> list[bytes]:
    """A tar of ``(name, mode, data)`` (``None``: a symlink), cut into small chunks."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, mode, data in members:
            info = tarfile.TarInfo(name)
            info.mode = mode
            if data is None:
                info.type, info.linkname = tarfile.SYMTYPE, "/bin/true"
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    return [raw[i : i + 700] for i in range(0, len(raw), 700)]


def test_only_executables_directly_in_the_directory_with_valid_names() -> None:
    chunks = _archive(
        ("extensions", 0o755, b""),
        ("extensions/b-ext", 0o755, b"#!/bin/sh\n" * 500),
        ("extensions/a-ext", 0o700, b"#!/bin/sh\n"),
        ("extensions/linked", 0o777, None),
        ("extensions/not-executable", 0o644, b"data"),
        ("extensions/nested/deep", 0o755, b"#!/bin/sh\n"),
        ("extensions/bad\nname", 0o755, b"#!/bin/sh\n"),
        ("../escape", 0o755, b"#!/bin/sh\n"),
    )
    assert executables_in_archive(chunks, valid_name) == ["a-ext", "b-ext", "linked"]


def test_an_empty_directory_lists_nothing_a_truncated_stream_raises_tar_error() -> None:
    assert executables_in_archive(_archive(("extensions", 0o755, b"")), valid_name) == []
    chunks = _archive(("extensions/x", 0o755, b"y" * 5000))
    with pytest.raises(tarfile.TarError):  # the factory reports it as a ProcessStartError
        executables_in_archive(chunks[:2], valid_name)


def test_reading_stops_after_the_member_limit() -> None:
    many = [(f"extensions/e{n}", 0o755, b"") for n in range(10_005)]
    found = executables_in_archive(_archive(*many), valid_name)
    assert len(found) == 10_000  # the first 10,000 members; the rest is read, not listed
