"""Build function images with the Docker SDK, from a build context prepared offline on the host.

``prepare_context`` lays out a directory that ``image_files/<variant>.Dockerfile`` builds without
any network access from inside the build: the lambdarig package, the emulator's dependency wheels
(and awslambdaric's, for that variant) and the function's requirements, all downloaded on the host
for the image's platform and Python version. ``build_image`` runs the build through the Docker SDK,
reporting progress line by line, and measures the image and its base image.

Every image a build makes carries the label ``org.lambdarig.build=<build id>``: when the build ends
(built or failed) the untagged ones, its build stage, are removed by that label, as is the image the
tag named before if lambdarig built it; no other image on the engine is touched.
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lambdarig
from lambdarig.build import wheels
from lambdarig.build.code_tree import check_code_dir, copy_code_dir
from lambdarig.build.deps import check_python_version, download_wheels_cached
from lambdarig.build.errors import ImageBuildError, LayerSourceError

DEFAULT_BASE_IMAGE = "python:3.12-slim"
# Without a registry: build a Debian base with images/base/build-base.sh (in lambdarig's
# repository) and build on it.
OFFLINE_BASE_HINT = (
    "to build without a registry, make a base with images/base/build-base.sh bookworm (from "
    "lambdarig's repository) and pass --base lambdarig-base:bookworm"
)
# Every image a build makes carries BUILD_LABEL=<that build's id> (the Dockerfiles' LABEL, fed by
# the LAMBDARIG_BUILD build argument): what a build leaves dangling is found, and removed, by it.
BUILD_LABEL = "org.lambdarig.build"
VARIANTS = ("lambdarig", "awslambdaric")
# Neither the runtime client nor the emulator needs anything beyond the standard library; only
# the awslambdaric variant brings wheels of its own.
VARIANT_REQUIREMENTS = {"lambdarig": (), "awslambdaric": ("awslambdaric",)}
IMAGE_FILES = Path(__file__).with_name("image_files")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
DEFAULT_HANDLER = "app.handler"
_DEFAULT_CMD = f'CMD ["{DEFAULT_HANDLER}"]'
_HANDLER = re.compile(r"[A-Za-z0-9_./-]+\.[A-Za-z0-9_]+")


def _cmd(handler: str) -> str:
    if not _HANDLER.fullmatch(handler):
        raise ImageBuildError(
            f"expected a handler like module.function (letters, digits, _ . / -), got {handler!r}"
        )
    return f'CMD ["{handler}"]'


@dataclass(frozen=True)
class ImageBuild:
    """A built image and what it weighs."""

    tag: str
    image_id: str
    size_bytes: int
    base_image: str
    base_size_bytes: int | None  # None when the base image is not in the local engine
    build_id: str = ""  # the value of BUILD_LABEL on the images this build made


def prepare_context(
    code_dir: Path,
    context: Path,
    *,
    python_version: str,
    variant: str = "lambdarig",
    requirements: Path | None = None,
    arch: str = "x86_64",
    pip_args: Sequence[str] = (),
    handler: str = DEFAULT_HANDLER,
    wheel_cache: Path | None = None,
    follow_links: bool = False,
    progress: Callable[[str], None] = lambda _line: None,
) -> Path:
    """Fill ``context`` (created) with everything the Dockerfile of ``variant`` needs; return it.
    ``handler`` becomes the image's ``CMD``; ``wheel_cache`` keeps downloads for the next build
    (see ``deps.download_wheels_cached``); ``progress`` is told what is being downloaded.

    ``code_dir`` is copied as ``code_tree.copy_code_dir`` copies: links that stay inside it stay
    links; a link leading outside it is refused unless ``follow_links`` (then what it points at is
    copied).

    Blocks while pip downloads wheels on the host. Raises LayerSourceError (no code dir, a link
    leading outside it, no requirements file), ImageBuildError (unknown variant), DependencyError
    (pip failed).
    """
    if variant not in VARIANTS:
        raise ImageBuildError(f"expected an image variant among {list(VARIANTS)}, got {variant!r}")
    check_code_dir(code_dir, follow_links=follow_links)
    if requirements is not None and not requirements.is_file():
        raise LayerSourceError(f"expected a requirements file at {requirements}, none there")
    check_python_version(python_version)
    cmd = _cmd(handler)
    copy_code_dir(code_dir, context / "function", follow_links=follow_links)
    own = context / "lambdarig-context"
    shutil.copytree(Path(lambdarig.__file__).parent, own / "lambdarig", ignore=_IGNORED)
    shutil.copyfile(wheels.__file__, own / "install_wheels.py")
    shutil.copyfile(IMAGE_FILES / "lambda-entrypoint.sh", own / "lambda-entrypoint.sh")
    (own / "lambda-entrypoint.sh").chmod(0o755)
    dockerfile = (IMAGE_FILES / f"{variant}.Dockerfile").read_text()
    (context / "Dockerfile").write_text(dockerfile.replace(_DEFAULT_CMD, cmd))
    fetch = functools.partial(
        _fetch, python_version=python_version, arch=arch, pip_args=pip_args, cache=wheel_cache
    )
    runtime = VARIANT_REQUIREMENTS[variant]
    if runtime:
        what = f"the runtime's wheels ({', '.join(runtime)})"
        progress(fetch(runtime, own / "runtime-wheels", what))
    else:
        (own / "runtime-wheels").mkdir()
        progress("the runtime's wheels: none (lambdarig needs only the standard library)")
    function_wheels = own / "function-wheels"
    function_wheels.mkdir()
    if requirements is not None:
        what = f"the function's requirements ({requirements})"
        progress(fetch(["-r", str(requirements)], function_wheels, what))
    return context


def _fetch(
    requirements: Sequence[str],
    dest: Path,
    what: str,
    *,
    python_version: str,
    arch: str,
    pip_args: Sequence[str],
    cache: Path | None,
) -> str:
    """Download ``requirements`` into ``dest``; return a progress line saying what was done."""
    wheels, cached = download_wheels_cached(
        requirements, dest, cache=cache, python_version=python_version, arch=arch, pip_args=pip_args
    )
    source = "from the wheel cache" if cached else f"pip download for Python {python_version}"
    return f"{what}: {len(wheels)} wheels ({source}, {arch})"


def _docker_client(client: Any | None) -> Any:
    if client is not None:
        return client
    try:
        import docker
    except ImportError as exc:
        raise ImageBuildError(
            "expected the docker SDK to build images (pip install 'lambdarig[docker]'), it is "
            "not installed"
        ) from exc
    try:
        return docker.from_env()
    except docker.errors.DockerException as exc:
        raise ImageBuildError(f"expected a reachable Docker engine, got: {exc}") from exc


def ensure_image(image: str, client: Any | None = None) -> None:
    """Make sure the engine has ``image``: pull it when it is not local. Raises ImageBuildError."""
    docker_client = _docker_client(client)
    import docker

    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound:
        try:
            docker_client.images.pull(image)
        except docker.errors.DockerException as exc:
            reason = " ".join(str(exc).split())  # one line, whatever the engine said
            raise ImageBuildError(
                f"expected the base image {image} in the local engine or pullable from its "
                f"registry, the pull failed: {reason}; {OFFLINE_BASE_HINT}"
            ) from exc


def python_version_of(image: str, client: Any | None = None) -> str:
    """Ask ``image``'s ``python3`` for its ``3.X`` version (runs a throwaway container, removed)."""
    docker_client = _docker_client(client)
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    container = None
    try:
        container = docker_client.containers.create(
            image, ["python3", "-c", code], entrypoint=[], network_mode="none"
        )
        container.start()
        status = int(container.wait().get("StatusCode", -1))
        output = bytes(container.logs(stdout=True, stderr=True)).decode(errors="replace").strip()
    except Exception as exc:  # docker.errors.* : image missing, no python3, engine failure
        raise ImageBuildError(
            f"expected {image} to have a python3 to ask its version (or pass --python 3.X): {exc}"
        ) from exc
    finally:
        if container is not None:
            container.remove(force=True)
    if status != 0:
        raise ImageBuildError(
            f"expected {image}'s python3 to print its version, it exited {status}: {output}"
        )
    return check_python_version(output)


# Docker's architecture names -> Lambda's (the wheels' platform follows the base image).
_DOCKER_ARCHES = {"amd64": "x86_64", "arm64": "arm64"}


def lambda_arch_of(image: str, client: Any | None = None) -> str:
    """Lambda's name (``x86_64``/``arm64``) for a local image's architecture. Raises
    ImageBuildError for an image Lambda cannot run."""
    docker_client = _docker_client(client)
    found = str(docker_client.images.get(image).attrs.get("Architecture", ""))
    try:
        return _DOCKER_ARCHES[found]
    except KeyError:
        raise ImageBuildError(
            f"expected a base image for {' or '.join(sorted(_DOCKER_ARCHES))} (Lambda's "
            f"architectures), {image} is for {found!r}"
        ) from None


def image_size(image: str, client: Any | None = None) -> int | None:
    """Size in bytes of a local image, or None when the engine does not have it."""
    docker_client = _docker_client(client)
    import docker

    try:
        return int(docker_client.images.get(image).attrs["Size"])
    except docker.errors.ImageNotFound:
        return None


def _stream_build(
    docker_client: Any, context: Path, tag: str, buildargs: dict[str, str]
) -> Iterator[str]:
    """Yield the build's output lines; raise ImageBuildError after the stream ends on an error
    (draining it first, so the engine connection is released)."""
    chunks = docker_client.api.build(
        path=str(context),
        tag=tag,
        buildargs=buildargs,
        rm=True,
        forcerm=True,
        decode=True,
        network_mode="none",  # proof that nothing is fetched from inside the build
    )
    error: str | None = None
    for chunk in chunks:
        if error is None and ("errorDetail" in chunk or "error" in chunk):
            error = str(chunk.get("errorDetail", {}).get("message") or chunk.get("error"))
        text = str(chunk.get("stream", "")).rstrip("\n")
        if text.strip():
            yield text
    if error is not None:
        raise ImageBuildError(f"expected the image {tag} to build, the engine said: {error}")


def build_image(
    code_dir: Path,
    tag: str,
    *,
    base_image: str = DEFAULT_BASE_IMAGE,
    python_version: str | None = None,
    variant: str = "lambdarig",
    requirements: Path | None = None,
    arch: str | None = None,
    pip_args: Sequence[str] = (),
    handler: str = DEFAULT_HANDLER,
    wheel_cache: Path | None = None,
    follow_links: bool = False,
    client: Any | None = None,
    progress: Callable[[str], None] = print,
) -> ImageBuild:
    """Build ``tag`` from ``code_dir`` on ``base_image``; ``progress`` gets what is downloaded and
    each build output line. ``wheel_cache``, ``follow_links``: see ``prepare_context``.

    ``python_version`` defaults to the base image's own (asked via a throwaway container), ``arch``
    (the wheels' platform) to the base image's architecture. Blocks until the build ends; then
    removes what the build left untagged (``remove_build_leftovers``). Raises ImageBuildError
    (also when ``base_image`` cannot be pulled: the message says how to build one offline),
    LayerSourceError or DependencyError.
    """
    # Before any engine call: say what is wrong with the input first.
    check_code_dir(code_dir, follow_links=follow_links)
    docker_client = _docker_client(client)
    ensure_image(base_image, docker_client)
    version = python_version or python_version_of(base_image, docker_client)
    arch = arch or lambda_arch_of(base_image, docker_client)
    with tempfile.TemporaryDirectory(prefix="lambdarig-image-") as scratch:
        progress(f"preparing the build context in {scratch} (wheels for Python {version}, {arch})")
        context = prepare_context(
            code_dir,
            Path(scratch, "context"),
            python_version=version,
            variant=variant,
            requirements=requirements,
            arch=arch,
            pip_args=pip_args,
            handler=handler,
            wheel_cache=wheel_cache,
            follow_links=follow_links,
            progress=progress,
        )
        build_id = secrets.token_hex(8)
        buildargs = {"BASE_IMAGE": base_image, "PYTHON_VERSION": version}
        buildargs["LAMBDARIG_BUILD"] = build_id
        previous = _image_id(docker_client, tag)
        try:
            for line in _stream_build(docker_client, context, tag, buildargs):
                progress(line)
        finally:
            remove_build_leftovers(docker_client, build_id, replaced=previous)
    return _measure(docker_client, tag, base_image, build_id)


def remove_build_leftovers(docker_client: Any, build_id: str, replaced: str | None = None) -> None:
    """Remove the untagged images the build ``build_id`` left (its build stage; a failed build's
    steps), and ``replaced``, the image the tag named before, if the build untagged it and
    lambdarig built it. Images of other builds, and anything lambdarig did not build, stay."""
    import docker

    with contextlib.suppress(docker.errors.APIError):
        docker_client.images.prune(filters={"dangling": True, "label": f"{BUILD_LABEL}={build_id}"})
    if replaced is None:
        return
    with contextlib.suppress(docker.errors.APIError):  # gone already, or a container uses it
        old = docker_client.images.get(replaced)
        if not old.tags and BUILD_LABEL in (old.labels or {}):
            docker_client.images.remove(old.id)


def _image_id(docker_client: Any, image: str) -> str | None:
    import docker

    try:
        return str(docker_client.images.get(image).id)
    except docker.errors.ImageNotFound:
        return None


def _measure(docker_client: Any, tag: str, base_image: str, build_id: str) -> ImageBuild:
    image = docker_client.images.get(tag)
    return ImageBuild(
        tag=tag,
        image_id=str(image.id),
        size_bytes=int(image.attrs["Size"]),
        base_image=base_image,
        base_size_bytes=image_size(base_image, docker_client),
        build_id=build_id,
    )
