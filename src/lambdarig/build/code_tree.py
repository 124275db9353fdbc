"""Copy a user's code directory into an artifact (an image's build context) without taking more
than the directory holds.

A symbolic link whose target resolves inside the directory stays a link (made relative, so it
points at the same file wherever the copy lands, e.g. ``/var/task``). A link that resolves outside
it, at the time of the copy, is refused: following it would ship whatever it points at on the build
machine (``config.py -> ~/.aws/credentials``). With ``follow_links=True`` such a link is replaced
by a copy of what it points at. Sockets, FIFOs and devices are refused (a FIFO would block the
copy). Byte-code caches are skipped.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lambdarig.build.errors import LayerSourceError

SKIPPED_DIRS = frozenset({"__pycache__"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class Link:
    """A symbolic link found under the code directory."""

    relative: Path  # the link, relative to the code directory
    target: str  # what the link says (``os.readlink``)
    resolved: Path  # where it leads on this machine, all links followed
    inside: bool  # ``resolved`` is the code directory or below it


def _skipped(name: str, is_dir: bool) -> bool:
    return name in SKIPPED_DIRS if is_dir else name.endswith(SKIPPED_SUFFIXES)


def _walk(root: Path, relative: Path = Path()) -> Iterator[tuple[Path, os.stat_result]]:
    """``(relative path, lstat)`` of every entry under ``root``, parents first, links not
    followed, caches skipped, sorted by name."""
    with os.scandir(root / relative) as entries:
        found = sorted(entries, key=lambda entry: entry.name)
    for entry in found:
        info = entry.stat(follow_symlinks=False)
        is_dir = stat.S_ISDIR(info.st_mode)
        if _skipped(entry.name, is_dir):
            continue
        yield relative / entry.name, info
        if is_dir:
            yield from _walk(root, relative / entry.name)


def _link(root: Path, relative: Path) -> Link:
    path = root / relative
    resolved = Path(os.path.realpath(path))
    inside = resolved == root or root in resolved.parents
    return Link(relative, os.readlink(path), resolved, inside)


def _refuse_outside(code_dir: Path, link: Link) -> LayerSourceError:
    return LayerSourceError(
        f"expected links in the code directory {code_dir} to stay inside it, got "
        f"{link.relative.as_posix()} -> {link.target} which resolves to {link.resolved} "
        "(remove the link or copy the file in; --follow-links copies what it points at)"
    )


def check_code_dir(code_dir: Path, *, follow_links: bool = False) -> None:
    """Raise LayerSourceError when ``code_dir`` is missing or :func:`copy_code_dir` would refuse
    it (a link leading outside without ``follow_links``, a special file)."""
    if not code_dir.is_dir():
        raise LayerSourceError(f"expected the function's code directory at {code_dir}, none there")
    root = code_dir.resolve()
    for relative, info in _walk(root):
        _check_entry(code_dir, root, relative, info, follow_links)


def _check_entry(
    code_dir: Path, root: Path, relative: Path, info: os.stat_result, follow_links: bool
) -> Link | None:
    if stat.S_ISLNK(info.st_mode):
        link = _link(root, relative)
        if not link.inside and not follow_links:
            raise _refuse_outside(code_dir, link)
        if not link.inside and not link.resolved.exists():
            raise LayerSourceError(
                f"expected {link.relative.as_posix()} -> {link.target} in {code_dir} to point "
                "at a file or directory to copy (--follow-links), it points at nothing"
            )
        return link
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        raise LayerSourceError(
            f"expected regular files, directories and links in {code_dir}, got a special file "
            f"(socket, FIFO or device) {relative.as_posix()}"
        )
    return None


def copy_code_dir(code_dir: Path, dest: Path, *, follow_links: bool = False) -> None:
    """Copy ``code_dir`` to ``dest`` (created; must not exist) as described in the module
    docstring. Raises LayerSourceError before anything is copied."""
    check_code_dir(code_dir, follow_links=follow_links)
    root = code_dir.resolve()
    dest.mkdir(parents=True)
    for relative, info in _walk(root):
        target = dest / relative
        link = _check_entry(code_dir, root, relative, info, follow_links)
        if link is not None and link.inside:
            os.symlink(os.path.relpath(link.resolved, (root / relative).parent), target)
        elif link is not None and link.resolved.is_dir():
            _copy_followed(code_dir, link, target)
        elif link is not None:
            shutil.copy2(link.resolved, target)
        elif stat.S_ISDIR(info.st_mode):
            target.mkdir()
        else:
            shutil.copy2(root / relative, target)


def _copy_followed(code_dir: Path, link: Link, target: Path) -> None:
    """``--follow-links`` of a directory outside: a plain copy, its own links followed."""
    try:
        shutil.copytree(
            link.resolved, target, ignore=shutil.ignore_patterns(*SKIPPED_DIRS, "*.pyc", "*.pyo")
        )
    except (OSError, shutil.Error) as exc:
        raise LayerSourceError(
            f"expected to copy {link.resolved} for {link.relative.as_posix()} in {code_dir} "
            f"(--follow-links): {exc}"
        ) from exc
