"""Lambda's size limits on layers as the emulator lays them out: 250 MB unzipped for all layers
together (declared sizes checked first, written bytes counted while streaming), a bounded number
of entries, cancellation half-way, and nothing left behind by a refused or cancelled layout."""

from __future__ import annotations

import io
import threading
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from lambdarig.rie_server.environments.layers import prepare_opt
from lambdarig.rie_server.environments.zip_bounds import (
    CHUNK_BYTES,
    MAX_ENTRIES,
    UNZIPPED_LIMIT_BYTES,
    Budget,
    count_entries,
)
from lambdarig.rie_server.errors import LayerError, LayoutCancelled
from tests.layers.zipbombs import many_files_zip, understate_sizes, zeros_zip


def test_the_limit_is_the_services_250_mb() -> None:
    assert UNZIPPED_LIMIT_BYTES == 262_144_000 == 250 * 1024 * 1024
    assert MAX_ENTRIES == 100_000


def test_a_zip_bomb_is_refused_from_its_declared_size_before_anything_is_written(
    tmp_path: Path,
) -> None:
    bomb = zeros_zip(tmp_path / "bomb.zip", UNZIPPED_LIMIT_BYTES + 1)
    assert bomb.stat().st_size < 1024 * 1024  # small on disk
    with pytest.raises(LayerError) as refused:
        prepare_opt([bomb], tmp_path / "opt")
    assert str(refused.value) == (
        f"layer {bomb}: expected at most 262,144,000 bytes (250.0 MB) unzipped for a function "
        "and all its layers (Lambda's limit), it declares 262,144,001 bytes (250.0 MB)"
    )
    assert not (tmp_path / "opt").exists()


def test_a_legal_layer_at_the_limit_is_laid_out_streaming(tmp_path: Path) -> None:
    layer = zeros_zip(tmp_path / "full.zip", UNZIPPED_LIMIT_BYTES)
    tracemalloc.start()
    try:
        opt = prepare_opt([layer], tmp_path / "opt")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (opt / "python" / "zeros.bin").stat().st_size == UNZIPPED_LIMIT_BYTES
    assert peak < 16 * CHUNK_BYTES  # streamed in chunks, never the whole 250 MB member at once


def test_the_limit_is_shared_by_all_the_layers(tmp_path: Path) -> None:
    first = zeros_zip(tmp_path / "first.zip", 600, "python/a.bin")
    directory = tmp_path / "second"
    (directory / "python").mkdir(parents=True)
    (directory / "python" / "b.bin").write_bytes(bytes(500))
    with pytest.raises(LayerError) as refused:
        prepare_opt([first, directory], tmp_path / "opt", limit=1000)
    assert str(refused.value).startswith(f"layer {directory}: expected at most 1,000 bytes")
    assert str(refused.value).endswith(
        "it declares 500 bytes (0.0 MB) after 600 bytes (0.0 MB) in the layers before it"
    )
    assert not (tmp_path / "opt").exists()
    assert prepare_opt([first, directory], tmp_path / "opt", limit=1100).is_dir()


def test_understated_sizes_are_caught_while_streaming(tmp_path: Path) -> None:
    liar = understate_sizes(zeros_zip(tmp_path / "liar.zip", 5 * CHUNK_BYTES), 10)
    with zipfile.ZipFile(liar) as archive:
        assert archive.infolist()[0].file_size == 10  # what the central directory claims
    with pytest.raises(LayerError, match=rf"layer {liar}: expected a readable zip, entry "):
        prepare_opt([liar], tmp_path / "opt", limit=1000)
    assert not (tmp_path / "opt").exists()


def test_the_copy_counts_every_byte_and_stops_at_the_limit() -> None:
    # Whatever the reader believes (a lying zip, a file growing under a directory layer), the
    # bytes written are what is charged: the copy stops one chunk past the limit at most.
    budget = Budget(limit=3 * CHUNK_BYTES)
    budget.declare(Path("liar.zip"), 10)
    written = io.BytesIO()
    with pytest.raises(LayerError, match=r"it unzips to more \(4,194,304 bytes so far\) than its"):
        budget.copy(Path("liar.zip"), io.BytesIO(bytes(10 * CHUNK_BYTES)), written, None)
    assert len(written.getvalue()) == 3 * CHUNK_BYTES


def test_the_number_of_entries_is_bounded_before_zipfile_reads_them(tmp_path: Path) -> None:
    layer = many_files_zip(tmp_path / "many.zip", 11)
    with pytest.raises(LayerError) as refused:
        prepare_opt([layer], tmp_path / "opt", max_entries=10)
    assert (
        str(refused.value) == f"layer {layer}: expected at most 10 entries in a layer, it has more"
    )
    assert not (tmp_path / "opt").exists()
    directory = tmp_path / "dir"
    for n in range(11):
        (directory / f"d{n}").mkdir(parents=True)
    with pytest.raises(LayerError, match=r"expected at most 10 entries in a layer, it has more"):
        prepare_opt([directory], tmp_path / "opt", max_entries=10)
    assert prepare_opt([layer], tmp_path / "opt", max_entries=11).is_dir()


def test_entries_are_counted_in_zip64_archives(tmp_path: Path) -> None:
    layer = many_files_zip(tmp_path / "zip64.zip", 0x10000 + 5)  # needs the zip64 end record
    assert count_entries(layer) == 0x10000 + 5
    with pytest.raises(LayerError, match="expected at most 65,540 entries"):
        count_entries(layer, 0x10000 + 4)


def test_broken_central_directories_are_refused(tmp_path: Path) -> None:
    layer = many_files_zip(tmp_path / "broken.zip", 3)
    data = bytearray(layer.read_bytes())
    data[data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 1)] = ord("X")  # 2nd entry
    layer.write_bytes(bytes(data))
    with pytest.raises(LayerError, match=r"a broken central directory after 1 entries"):
        prepare_opt([layer], tmp_path / "opt")
    (tmp_path / "tail.zip").write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(LayerError, match=r"no end of central directory record"):
        prepare_opt([tmp_path / "tail.zip"], tmp_path / "opt")


class _PausingCancel:
    """A cancel token that, at the layout's ``pause_at``-th question, tells the test and waits
    for its answer: the test cancels the layout half-way, deterministically."""

    def __init__(self, pause_at: int) -> None:
        self.pause_at = pause_at
        self.calls = 0
        self.asked = threading.Event()
        self.answer = threading.Event()
        self.cancelled = False

    def is_set(self) -> bool:
        self.calls += 1
        if self.calls == self.pause_at:
            self.asked.set()
            assert self.answer.wait(10)
        return self.cancelled


def test_a_cancelled_layout_stops_half_way_and_removes_what_it_wrote(tmp_path: Path) -> None:
    first = many_files_zip(tmp_path / "first.zip", 3, "python/first")
    second = zeros_zip(tmp_path / "second.zip", 20 * CHUNK_BYTES)
    # Asked before each entry and each chunk: 3 empty files take 6 questions, then the second
    # layer's entry and its first chunk; the 9th question comes after one chunk was written.
    token = _PausingCancel(pause_at=9)
    errors: list[BaseException] = []

    def lay_out() -> None:
        try:
            prepare_opt([first, second], tmp_path / "opt", cancel=token)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=lay_out)
    worker.start()
    assert token.asked.wait(10)
    assert (tmp_path / "opt" / "python" / "first" / "f2.py").is_file()
    assert (tmp_path / "opt" / "python" / "zeros.bin").stat().st_size == CHUNK_BYTES
    token.cancelled = True
    token.answer.set()
    worker.join(10)
    assert not worker.is_alive()
    assert [type(e) for e in errors] == [LayoutCancelled]
    assert not (tmp_path / "opt").exists()


def test_a_refused_layout_empties_a_directory_it_did_not_create(tmp_path: Path) -> None:
    opt = tmp_path / "opt"
    opt.mkdir()
    ok = many_files_zip(tmp_path / "ok.zip", 2)
    bomb = zeros_zip(tmp_path / "bomb.zip", 2000)
    with pytest.raises(LayerError):
        prepare_opt([ok, bomb], opt, limit=1000)
    assert opt.is_dir() and not list(opt.iterdir())
