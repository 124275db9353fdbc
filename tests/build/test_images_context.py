"""The offline build context of function images (no Docker needed: wheels come from a local dir)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambdarig.build.errors import ImageBuildError, LayerSourceError
from lambdarig.build.images import prepare_context
from tests.build.wheelfactory import make_wheel

FUNCTION = Path(__file__).parents[1] / "images" / "fixtures" / "function"


@pytest.fixture
def offline(tmp_path: Path) -> list[str]:
    house = tmp_path / "house"
    make_wheel(house, "awslambdaric", "4.2.2", {"awslambdaric/__init__.py": ""})
    make_wheel(house, "alpha", "1.0", {"alpha/__init__.py": ""})
    return ["--no-index", "--find-links", str(house)]


def test_context_holds_everything_the_dockerfile_copies(tmp_path: Path, offline: list[str]) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha\n")
    context = prepare_context(FUNCTION, tmp_path / "ctx", python_version="3.12",
                              requirements=requirements, pip_args=offline)  # fmt: skip
    own = context / "lambdarig-context"
    assert (context / "function" / "app.py").is_file()
    assert "FROM ${BASE_IMAGE} AS install" in (context / "Dockerfile").read_text()
    assert (own / "lambdarig" / "runtime_client" / "__init__.py").is_file()
    assert (own / "lambdarig" / "rie_server" / "__init__.py").is_file()
    assert not list(own.rglob("__pycache__"))
    assert list((own / "runtime-wheels").iterdir()) == []
    assert [w.name for w in (own / "function-wheels").iterdir()] == ["alpha-1.0-py3-none-any.whl"]
    assert (own / "install_wheels.py").read_text().startswith('"""Unpack wheels')
    assert os.access(own / "lambda-entrypoint.sh", os.X_OK)


def test_awslambdaric_variant_adds_awslambdaric(tmp_path: Path, offline: list[str]) -> None:
    context = prepare_context(FUNCTION, tmp_path / "ctx", python_version="3.11",
                              variant="awslambdaric", pip_args=offline)  # fmt: skip
    wheels = sorted(w.name for w in (context / "lambdarig-context" / "runtime-wheels").iterdir())
    assert wheels == ["awslambdaric-4.2.2-py3-none-any.whl"]
    assert "LAMBDARIG_RUNTIME_MODULE=awslambdaric" in (context / "Dockerfile").read_text()
    assert list((context / "lambdarig-context" / "function-wheels").iterdir()) == []
    assert 'CMD ["app.handler"]' in (context / "Dockerfile").read_text()


def test_handler_becomes_the_cmd(tmp_path: Path, offline: list[str]) -> None:
    context = prepare_context(FUNCTION, tmp_path / "ctx", python_version="3.12",
                              pip_args=offline, handler="pkg/sub.mod.run")  # fmt: skip
    assert (context / "Dockerfile").read_text().endswith('CMD ["pkg/sub.mod.run"]\n')
    with pytest.raises(ImageBuildError, match=r"expected a handler like module.function"):
        prepare_context(FUNCTION, tmp_path / "bad", python_version="3.12",
                        handler='app.handler"]\nRUN rm -rf /')  # fmt: skip


def test_context_refusals(tmp_path: Path, offline: list[str]) -> None:
    with pytest.raises(ImageBuildError, match=r"among \['lambdarig', 'awslambdaric'\], got 'go'"):
        prepare_context(FUNCTION, tmp_path / "a", python_version="3.12", variant="go")
    with pytest.raises(LayerSourceError, match="expected the function's code directory at"):
        prepare_context(tmp_path / "none", tmp_path / "b", python_version="3.12")
    with pytest.raises(LayerSourceError, match="expected a requirements file at"):
        prepare_context(FUNCTION, tmp_path / "c", python_version="3.12",
                        requirements=tmp_path / "none.txt")  # fmt: skip


def test_a_missing_code_dir_is_refused_before_any_engine_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambdarig.cli import main

    # The base image does not exist either: the code directory must be what is reported.
    argv = ["image", "build", str(tmp_path / "none"), "--tag", "x", "--base", "no/such:image"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"lambdarig: error: expected the function's code directory at {tmp_path / 'none'}, "
        "none there\n"
    )


@pytest.fixture
def linked_code(tmp_path: Path) -> Path:
    """A code directory with a link to a secret outside it, and links that stay inside."""
    secret = tmp_path / "home" / ".aws" / "credentials"
    secret.parent.mkdir(parents=True)
    secret.write_text("aws_secret_access_key = SECRET\n")
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (code / "pkg" / "data.txt").write_text("data\n")
    (code / "alias.py").symlink_to("app.py")
    (code / "pkg" / "up.py").symlink_to(code / "app.py")  # absolute, but inside
    (code / "pkgdir").symlink_to("pkg")
    (code / "config.ini").symlink_to(secret)
    return code


def test_a_link_leading_outside_the_code_dir_is_refused(tmp_path: Path, linked_code: Path) -> None:
    with pytest.raises(LayerSourceError) as refused:
        prepare_context(linked_code, tmp_path / "ctx", python_version="3.12")
    message = str(refused.value)
    assert message.startswith(
        f"expected links in the code directory {linked_code} to stay inside it, got "
        f"config.ini -> {tmp_path / 'home' / '.aws' / 'credentials'} which resolves to "
    )
    assert "--follow-links" in message
    assert not (tmp_path / "ctx").exists()  # refused before anything is copied
    # A relative link climbing out with '..' is refused the same way.
    (linked_code / "config.ini").unlink()
    (linked_code / "pkg" / "escape.txt").symlink_to("../../home/.aws/credentials")
    with pytest.raises(LayerSourceError, match=r"got pkg/escape\.txt -> \.\./\.\./home/"):
        prepare_context(linked_code, tmp_path / "ctx2", python_version="3.12")


def test_links_inside_the_code_dir_stay_links(tmp_path: Path, linked_code: Path) -> None:
    (linked_code / "config.ini").unlink()
    function = prepare_context(linked_code, tmp_path / "ctx", python_version="3.12") / "function"
    assert os.readlink(function / "alias.py") == "app.py"
    assert os.readlink(function / "pkg" / "up.py") == "../app.py"  # made relative
    assert os.readlink(function / "pkgdir") == "pkg"
    assert (function / "pkgdir" / "data.txt").read_text() == "data\n"


def test_follow_links_copies_what_an_outside_link_points_at(
    tmp_path: Path, linked_code: Path
) -> None:
    outside_dir = tmp_path / "shared"
    (outside_dir / "__pycache__").mkdir(parents=True)
    (outside_dir / "util.py").write_text("U = 1\n")
    (linked_code / "shared").symlink_to(outside_dir)
    context = prepare_context(linked_code, tmp_path / "ctx", python_version="3.12",
                              follow_links=True)  # fmt: skip
    function = context / "function"
    assert not (function / "config.ini").is_symlink()
    assert (function / "config.ini").read_text() == "aws_secret_access_key = SECRET\n"
    assert not (function / "shared").is_symlink()
    assert (function / "shared" / "util.py").read_text() == "U = 1\n"
    assert not (function / "shared" / "__pycache__").exists()
    assert os.readlink(function / "alias.py") == "app.py"  # inside links still stay links
    (linked_code / "dangling").symlink_to(tmp_path / "nothing")
    with pytest.raises(LayerSourceError, match=r"dangling -> .*points at nothing"):
        prepare_context(linked_code, tmp_path / "ctx2", python_version="3.12", follow_links=True)


def test_special_files_are_refused(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    os.mkfifo(code / "pipe")  # copying it would block the build forever
    with pytest.raises(
        LayerSourceError, match=r"got a special file \(socket, FIFO or device\) pipe"
    ):
        prepare_context(code, tmp_path / "ctx", python_version="3.12")


def test_an_outside_link_is_one_line_before_any_engine_call(
    tmp_path: Path, linked_code: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lambdarig.cli import main

    argv = ["image", "build", str(linked_code), "--tag", "x", "--base", "no/such:image"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"lambdarig: error: expected links in the code directory {linked_code} to stay inside "
        "it, got config.ini -> "
    )
    assert err.count("\n") == 1
