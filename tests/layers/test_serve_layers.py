"""`lambdarig-rie --layer` in process mode, through the harness: layers laid out in order as /opt,
their python/ paths importable, zip-slip refused at start-up."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from lambdarig.testing import EmulatorStartError, FunctionSpec, LambdaFunction

FUNCTION = Path(__file__).parents[1] / "images" / "fixtures" / "function"


def _layer_zip(path: Path, entries: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in entries.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, text)
    return path


def test_layers_in_order_reach_the_function(tmp_path: Path) -> None:
    first = _layer_zip(tmp_path / "one.zip", {"python/layered.py": "VALUE = 'first'\n"})
    second = _layer_zip(
        tmp_path / "two.zip",
        {
            "python/lib/python3.99/site-packages/unused.py": "",
            "python/layered.py": "VALUE = 'second'\n",
        },
    )
    spec = FunctionSpec.build("app.handler", code=FUNCTION, layers=[first, second])
    with LambdaFunction(spec) as fn:
        assert fn.invoke({"action": "opt"}).payload == {"layered": "second"}


def test_zip_slip_layer_is_refused_at_start(tmp_path: Path) -> None:
    evil = _layer_zip(tmp_path / "evil.zip", {"../escape.py": "X = 1\n"})
    spec = FunctionSpec.build("app.handler", code=FUNCTION, layers=[evil])
    with pytest.raises(EmulatorStartError) as refused:
        LambdaFunction(spec).start()
    assert "which escapes it with '..'" in str(refused.value)
    assert not (tmp_path / "escape.py").exists()
