"""Bounds on a layer's unzipped bytes and entries, checked before and while it is laid out.

``zipfile.ZipFile`` reads a zip's whole central directory into memory when it opens it, one object
per entry; ``count_entries`` walks the central directory on disk first, without keeping anything,
so a zip declaring millions of entries is refused before it costs memory. ``Budget`` holds the
bytes left for a function's layers together: the declared sizes are charged before a layer is
extracted, then every byte written is counted again (declared sizes can lie) and the copy stops as
soon as the limit is passed.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import IO, Protocol

from lambdarig.rie_server.errors import LayerError, LayoutCancelled

# Lambda's quota: a function and all its layers take at most 250 MB (262,144,000 bytes) unzipped
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, "Lambda quotas").
UNZIPPED_LIMIT_BYTES = 262_144_000
# Far above real layers (numpy, scipy and pandas together are about 15,000 files).
MAX_ENTRIES = 100_000
# A central directory of MAX_ENTRIES entries with long names and extra fields stays below this.
MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024

_END = struct.Struct("<4s4H2LH")  # end of central directory record
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_CENTRAL_ENTRY = struct.Struct("<4s6H3L5HLL")  # one central directory file header (46 bytes)
_MAX_COMMENT = 0xFFFF


class Cancel(Protocol):
    """Asked between chunks whether to stop (``threading.Event`` is one)."""

    def is_set(self) -> bool: ...


def check_cancel(cancel: Cancel | None) -> None:
    """Raise LayoutCancelled when ``cancel`` is set."""
    if cancel is not None and cancel.is_set():
        raise LayoutCancelled("laying out the layers was cancelled (the emulator is stopping)")


def _bad(layer: Path, why: str) -> LayerError:
    return LayerError(f"layer {layer}: expected a zip file or a directory: {why}")


def _central_directory(layer: Path, f: IO[bytes], size: int) -> tuple[int, int]:
    """``(offset, length)`` of the central directory, found as ``zipfile`` finds it."""
    tail_length = min(size, _END.size + _MAX_COMMENT)
    f.seek(size - tail_length)
    tail = f.read(tail_length)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _END.size > len(tail):
        raise _bad(layer, "no end of central directory record")
    _, _, _, _, entries, length, offset, _ = _END.unpack_from(tail, at)
    end = size - tail_length + at
    if entries != 0xFFFF and length != 0xFFFFFFFF and offset != 0xFFFFFFFF:
        return end - length, length
    f.seek(max(end - _ZIP64_LOCATOR.size, 0))
    locator = f.read(_ZIP64_LOCATOR.size)
    record_at = end - _ZIP64_LOCATOR.size - _ZIP64_END.size
    if len(locator) < _ZIP64_LOCATOR.size or locator[:4] != b"PK\x06\x07" or record_at < 0:
        raise _bad(layer, "a zip64 end record without its locator")
    f.seek(record_at)
    record = f.read(_ZIP64_END.size)
    if len(record) < _ZIP64_END.size or record[:4] != b"PK\x06\x06":
        raise _bad(layer, "a zip64 locator without its end record")
    length = _ZIP64_END.unpack(record)[8]
    return record_at - length, length


def count_entries(layer: Path, max_entries: int = MAX_ENTRIES) -> int:
    """Entries in the zip ``layer``, counted on disk; LayerError past ``max_entries`` or for a
    central directory over ``MAX_CENTRAL_DIRECTORY_BYTES`` or that is not one."""
    try:
        with open(layer, "rb") as f:
            offset, length = _central_directory(layer, f, os.fstat(f.fileno()).st_size)
            if offset < 0:
                raise _bad(layer, "its central directory starts before the file")
            if length > MAX_CENTRAL_DIRECTORY_BYTES:
                raise LayerError(
                    f"layer {layer}: expected a central directory of at most "
                    f"{MAX_CENTRAL_DIRECTORY_BYTES:,} bytes, it declares {length:,}"
                )
            f.seek(offset)
            count = walked = 0
            while walked < length:
                header = f.read(_CENTRAL_ENTRY.size)
                if len(header) < _CENTRAL_ENTRY.size or header[:4] != b"PK\x01\x02":
                    raise _bad(layer, f"a broken central directory after {count} entries")
                fields = _CENTRAL_ENTRY.unpack(header)
                skip = fields[10] + fields[11] + fields[12]  # name, extra field, comment
                f.seek(skip, os.SEEK_CUR)
                walked += _CENTRAL_ENTRY.size + skip
                count += 1
                if count > max_entries:
                    raise LayerError(
                        f"layer {layer}: expected at most {max_entries:,} entries in a layer, "
                        f"it has more"
                    )
            return count
    except OSError as exc:
        raise _bad(layer, str(exc)) from exc


def _megabytes(n: int) -> str:
    return f"{n:,} bytes ({n / 1_048_576:.1f} MB)"


class Budget:
    """The unzipped bytes the layers of one function may still take."""

    def __init__(self, limit: int = UNZIPPED_LIMIT_BYTES) -> None:
        self.limit = limit
        self.used = 0

    def _refuse(self, layer: Path, size: str) -> LayerError:
        return LayerError(
            f"layer {layer}: expected at most {_megabytes(self.limit)} unzipped for a function "
            f"and all its layers (Lambda's limit), {size}"
        )

    def declare(self, layer: Path, size: int) -> None:
        """Before laying ``layer`` out: refuse it if its declared ``size`` does not fit."""
        if self.used + size > self.limit:
            before = f" after {_megabytes(self.used)} in the layers before it" if self.used else ""
            raise self._refuse(layer, f"it declares {_megabytes(size)}{before}")

    def copy(self, layer: Path, source: IO[bytes], target: IO[bytes], cancel: Cancel | None) -> int:
        """Copy ``source`` to ``target`` in chunks, charging every byte; LayerError as soon as
        the limit is passed, LayoutCancelled when ``cancel`` is set. Returns the bytes copied."""
        copied = 0
        while True:
            check_cancel(cancel)
            chunk = source.read(CHUNK_BYTES)
            if not chunk:
                return copied
            copied += len(chunk)
            self.used += len(chunk)
            if self.used > self.limit:
                raise self._refuse(
                    layer,
                    f"it unzips to more ({self.used:,} bytes so far) than its entries declare",
                )
            target.write(chunk)
