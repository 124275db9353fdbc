"""``lambdarig serve -t``: a layer's ``python/lib/python3.X/site-packages`` is on the path of the
Python that really runs the function (its ``Runtime``'s when installed, else the current one), and
``python/`` on every Python's, as on the service; a layer built only for other minors is not
imported, and a warning line says so (real layers, real runtimes).

Needs no other Python: ``OTHER`` is an installed minor when there is one (pyenv or ``PATH``), and
otherwise a minor that falls back to the current interpreter, so its layer is a fake one."""

from __future__ import annotations

import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lambdarig.cli.layer_pythons import site_packages_versions
from lambdarig.cli.runtimes import SUPPORTED_MINORS, python_for
from tests.rie_server.emulator_process import Running, emulator

SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")
CURRENT = f"3.{sys.version_info[1]}"


def _other() -> tuple[str, str]:
    """(another supported minor, the minor that runs a function whose Runtime is that one)."""
    others = [f"3.{minor}" for minor in SUPPORTED_MINORS if f"3.{minor}" != CURRENT]
    for version in others:
        python, warning = python_for(f"python{version}", os.environ)
        if warning is None and python != sys.executable:
            return version, version
    return others[0], CURRENT


OTHER, OTHER_RUNS = _other()

TEMPLATE = f"""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    CodeUri: src/
    Handler: app.handler
    Timeout: 30
    Layers: [!Ref CurrentLayer, !Ref OtherLayer]
Resources:
  CurrentLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/current/
  OtherLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/other/
  OnCurrent:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python{CURRENT}
  OnOther:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python{OTHER}
"""

APP = """\
import importlib.util, sys

def handler(event, context):
    names = ("sp_current", "sp_other", "plain")
    return {
        "python": "%d.%d" % sys.version_info[:2],
        "found": [name for name in names if importlib.util.find_spec(name) is not None],
    }
"""


def _module(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("layers") / "app"
    _module(root / "src" / "app.py", APP)
    current = root / "layers" / "current" / "python"
    _module(current / "lib" / f"python{CURRENT}" / "site-packages" / "sp_current.py", "")
    _module(current / "plain.py", "")  # python/: every Python's
    other = root / "layers" / "other" / "python"
    _module(other / "lib" / f"python{OTHER}" / "site-packages" / "sp_other.py", "")
    template = root / "template.yaml"
    template.write_text(TEMPLATE)
    argv = ["-t", str(template), "--port", "0", "--http-port", "0"]
    with emulator(argv, root.parent, cwd=root.parent, entry=SERVE) as running:
        yield running


def _invoke(running: Running, name: str) -> dict[str, object]:
    url = f"{running.url}/2015-03-31/functions/{name}/invocations"
    answer = httpx.post(url, content=b"{}", timeout=60)
    assert answer.status_code == 200 and "x-amz-function-error" not in answer.headers, answer.text
    body: dict[str, object] = answer.json()
    return body


def _mismatch(layer: str, only: str, function: str, runs: str) -> str:
    return (
        f"lambdarig: warning: layer {layer} has only python/lib/python{only}/site-packages; "
        f"{function} runs python{runs}, which does not import them"
    )


def test_the_runtimes_own_site_packages_are_on_its_path(project: Running) -> None:
    assert _invoke(project, "OnCurrent") == {
        "python": CURRENT,
        "found": ["sp_current", "plain"],
    }
    assert _mismatch("OtherLayer", OTHER, "OnCurrent", CURRENT) in project.stderr_lines


def test_the_python_that_really_runs_picks_the_site_packages(project: Running) -> None:
    """OnOther's Runtime is python{OTHER}: run by it when installed (its layer's site-packages
    only), else by the current Python (with a warning), which must not import OTHER's."""
    expected = ["sp_other", "plain"] if OTHER_RUNS == OTHER else ["sp_current", "plain"]
    assert _invoke(project, "OnOther") == {"python": OTHER_RUNS, "found": expected}
    mismatched = ("CurrentLayer", CURRENT) if OTHER_RUNS == OTHER else ("OtherLayer", OTHER)
    assert _mismatch(*mismatched, "OnOther", OTHER_RUNS) in project.stderr_lines
    if OTHER_RUNS != OTHER:
        warning = f"lambdarig: warning: python{OTHER} is not installed, running python{CURRENT}"
        assert f"{warning} instead (OnOther)" in project.stderr_lines


def test_site_packages_versions_of_folders_and_zips(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    for version in ("3.9", "3.12"):
        (folder / "python" / "lib" / f"python{version}" / "site-packages").mkdir(parents=True)
    (folder / "python" / "lib" / "python3.x" / "site-packages").mkdir(parents=True)
    assert site_packages_versions(folder) == {"3.9", "3.12"}
    archive = tmp_path / "layer.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("python/lib/python3.11/site-packages/m.py", "")
        zipped.writestr("python/plain.py", "")
    assert site_packages_versions(archive) == {"3.11"}
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    assert site_packages_versions(tmp_path / "broken.zip") == set()
