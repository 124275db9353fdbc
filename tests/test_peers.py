"""tests/peers.py: where the AWS peers come from, and what happens when they are missing."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from tests import peers


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAMBDARIG_CACHE", str(tmp_path))
    monkeypatch.delenv("LAMBDARIG_FETCH_PEERS", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


def fake_sam_wheel(cache: Path) -> None:
    wheel = cache / "wheels" / peers.SAM_CLI_WHEEL
    wheel.parent.mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(peers.RIE_MEMBER, "#!/bin/sh\necho fake rie\n")
        archive.writestr(peers.SAM_EVENTS_PREFIX + "sqs/ReceiveMessage.json", '{"Records": []}')
        archive.writestr("samcli/other.py", "")


def test_missing_peers_are_none_when_fetching_is_not_allowed(empty_cache: Path) -> None:
    assert peers.sam_cli_wheel() is None
    assert peers.rie_binary() is None
    assert peers.sam_sample_events_dir() is None
    assert peers.awslambdaric_python() is None
    assert not (empty_cache / "wheels").exists()


def test_require_skips_locally(empty_cache: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="LAMBDARIG_FETCH_PEERS=1"):
        peers.require_rie()


def test_require_fails_under_ci_when_the_fetch_fails(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # the download fails at once, without network
    with pytest.raises(pytest.fail.Exception, match="required under CI=true"):
        peers.require_rie()


def test_rie_and_events_are_extracted_from_the_cached_wheel(empty_cache: Path) -> None:
    fake_sam_wheel(empty_cache)
    rie = peers.require_rie()
    assert rie == empty_cache / "peers" / "aws-lambda-rie-x86_64"
    assert os.access(rie, os.X_OK) and rie.read_text().startswith("#!/bin/sh")
    events = peers.require_sam_events()
    assert (events / "sqs" / "ReceiveMessage.json").read_text() == '{"Records": []}'
    assert not (events / "other.py").exists()
