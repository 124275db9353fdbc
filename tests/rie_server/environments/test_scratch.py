"""Scratch directories carry the emulator's pid; a dead emulator's are swept, nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lambdarig.rie_server.environments.scratch import make_scratch, process_alive, sweep_stale


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_alive(child.pid)
    return child.pid


def test_scratch_names_carry_the_owner_pid(tmp_path: Path) -> None:
    scratch = make_scratch(tmp_path)
    assert scratch.parent == tmp_path
    assert scratch.name.startswith(f"lambdarig-opt-{os.getpid()}-")


def test_only_dead_emulators_directories_are_swept(tmp_path: Path) -> None:
    dead = dead_pid()
    stale = tmp_path / f"lambdarig-opt-{dead}-abc123"
    (stale / "opt" / "python").mkdir(parents=True)
    (stale / "opt" / "python" / "big.bin").write_bytes(b"x")
    mine = make_scratch(tmp_path)
    parent_pid = os.getppid()  # alive: the test runner's parent
    alive = tmp_path / f"lambdarig-opt-{parent_pid}-xyz"
    alive.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / f"lambdarig-opt-{dead}-link"
    link.symlink_to(target)
    others = [
        tmp_path / f"lambdarig-opt-{dead}",  # no random part: not ours
        tmp_path / f"lambdarig-optx-{dead}-abc",
        tmp_path / f"lambdarig-image-{dead}-abc",
        tmp_path / f"prefix-lambdarig-opt-{dead}-abc",
    ]
    for other in others:
        other.mkdir()
    file_named_like_ours = tmp_path / f"lambdarig-opt-{dead}-file"
    file_named_like_ours.write_text("")

    assert sweep_stale(tmp_path) == [stale]
    assert not stale.exists()
    assert mine.is_dir() and alive.is_dir() and target.is_dir() and link.is_symlink()
    assert all(other.is_dir() for other in others)
    assert file_named_like_ours.is_file()
    assert sweep_stale(tmp_path / "missing") == []


def test_process_alive() -> None:
    assert process_alive(os.getpid())
    assert process_alive(1)  # exists, may be another user's
    assert process_alive(0) and process_alive(-5)  # never "dead": never swept
    assert not process_alive(dead_pid())
