"""Which Python a template function's layers were built for.

On the service a layer's ``python/`` is on the path of every Python runtime, and its
``python/lib/python3.X/site-packages`` only on the path of ``python3.X``
(https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html, "Layer paths for each Lambda
runtime"). The emulator puts the site-packages of the interpreter that really runs the function on
the path (``EmulatorConfig.layer_python``); a layer whose ``site-packages`` are all for other
minors is then not imported, as on the service, and ``mismatches`` says so in one line.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from lambdarig.project.model import Function

_SITE_PACKAGES = re.compile(r"^python/lib/python(3\.\d+)/site-packages/")


def site_packages_versions(layer: Path) -> set[str]:
    """The ``3.X`` of each ``python/lib/python3.X/site-packages`` in ``layer`` (a folder or a zip;
    an unreadable zip has none here: laying it out reports it)."""
    if layer.is_dir():
        return {
            path.parent.name[len("python") :]
            for path in layer.glob("python/lib/python3.*/site-packages")
            if path.is_dir() and re.fullmatch(r"python3\.\d+", path.parent.name)
        }
    from lambdarig.rie_server.environments.zip_bounds import MAX_ENTRIES, count_entries
    from lambdarig.rie_server.errors import EmulatorError

    try:
        count_entries(layer, MAX_ENTRIES)  # before zipfile reads the central directory
        with zipfile.ZipFile(layer) as archive:
            names: Iterable[str] = archive.namelist()
            return {m.group(1) for m in map(_SITE_PACKAGES.match, names) if m is not None}
    except (OSError, zipfile.BadZipFile, EmulatorError):
        return set()


def mismatches(function: Function, version: str) -> list[str]:
    """One warning line per layer of ``function`` whose ``site-packages`` are only for other
    Pythons than ``version`` (``3.X``: the interpreter that runs it)."""
    warnings = []
    for layer in function.layers:
        found = sorted(site_packages_versions(layer.content), key=lambda v: int(v.split(".")[1]))
        if found and version not in found:
            dirs = ", ".join(f"python/lib/python{v}/site-packages" for v in found)
            warnings.append(
                f"lambdarig: warning: layer {layer.logical_id} has only {dirs}; "
                f"{function.logical_id} runs python{version}, which does not import them"
            )
    return warnings
