"""``sam local start-api`` as the reference of benchmarks/http_front.py, offline.

Three pieces, each cleaned up by the context manager that makes it:

- ``sam``: aws-sam-cli (the version tests/peers.py pins) in a cached venv, ``peers/sam-venv`` under
  ``$LAMBDARIG_CACHE`` or ``~/.cache/lambdarig`` (installed on first use: the cached wheel, its
  dependencies from PyPI).
- The image sam asks for. For a ZIP function with ``Runtime: python3.X`` on x86_64, samcli
  (``samcli/local/docker/lambda_image.py``, ``LambdaImage.build``) wants the base image
  ``public.ecr.aws/lambda/python:3.X-x86_64`` and builds on it, with the aws-lambda-rie binary it
  ships (``ADD aws-lambda-rie-x86_64 /var/rapid/`` then a ``RUN mv`` and ``chmod``), the image
  ``public.ecr.aws/lambda/python:3.X-rapid-x86_64``; ``--skip-pull-image`` makes that build use
  the local base image instead of pulling it. Each function container then runs
  ``/var/rapid/aws-lambda-rie --log-level error`` with no command, so the emulator starts
  ``/var/runtime/bootstrap`` with the handler in ``AWS_LAMBDA_FUNCTION_HANDLER``; the code is
  mounted read-only at ``/var/task``, the working directory. When AWS's base image is not in the
  engine (this machine cannot pull), :func:`sam_images` builds a stand-in under that name from
  ``benchmarks/sam_standin/`` on lambdarig's offline Debian base (``lambdarig-base:bookworm`` for
  Python 3.11, ``lambdarig-base:trixie`` for 3.13; ``images/base/build-base.sh``), labelled
  ``org.lambdarig.build=<run id>`` like every image lambdarig builds. The rapid image sam builds
  on it inherits that label. Both are removed at the end unless ``--keep-images``; an AWS image
  found in the engine is used as it is and never removed.
- ``sam local start-api`` itself (:func:`sam_api`): started in its own session, stopped with
  SIGINT (sam then removes its containers), and any container it left (label
  ``sam.cli.container.type=lambda``, made from this run's rapid image, not there before) removed.

How the stand-in differs from AWS's image: see benchmarks/http_front.py.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests import peers

BUILD_LABEL = "org.lambdarig.build"  # lambdarig.build.images.BUILD_LABEL
SAM_CONTAINER_LABEL = "sam.cli.container.type=lambda"
IMAGE_REPO = "public.ecr.aws/lambda/python"
STANDIN_DIR = Path(__file__).resolve().parent / "sam_standin"
# Python version of the function -> lambdarig's offline base image with that Python.
STANDIN_BASES = {"3.11": "lambdarig-base:bookworm", "3.13": "lambdarig-base:trixie"}
SAM_READY = re.compile(r"Running on (http://\S+)")
SAM_START_TIMEOUT_S = 180.0
DOCKER_TIMEOUT_S = 300.0


class SamUnavailable(Exception):
    """sam cannot be measured here; the message says why (it becomes the fallback row's note)."""


def docker(*args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    """``docker ARGS`` (bounded); its stdout. Raises SamUnavailable with stderr when it fails."""
    try:
        done = subprocess.run(
            ["docker", *args],
            capture_output=True,
            text=True,
            timeout=DOCKER_TIMEOUT_S,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SamUnavailable(
            f"`docker {args[0]}` did not finish in {DOCKER_TIMEOUT_S:g} s"
        ) from None
    if check and done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-10:])
        raise SamUnavailable(f"`docker {args[0]}` exited {done.returncode}: {tail}")
    return done.stdout


def _label(image: str) -> str | None:
    """The image's ``org.lambdarig.build`` label: None if the engine has no such image, "" if
    the image has no such label (not built by lambdarig)."""
    found = docker("image", "inspect", "--format", "{{json .Config.Labels}}", image, check=False)
    if not found.strip():
        return None
    match = re.search(rf'"{re.escape(BUILD_LABEL)}":"([^"]*)"', found)
    return match.group(1) if match else ""


def python_version(preferred: str) -> str:
    """The function's Python version for the sam rows: ``preferred`` when an image for it can be
    had (AWS's, or a stand-in on a lambdarig base), else another one that can; checks Docker."""
    if platform.machine() != "x86_64":
        raise SamUnavailable(
            f"the stand-in image is built for x86_64 only, not {platform.machine()}"
        )
    if shutil.which("docker") is None:
        raise SamUnavailable("the docker CLI is not installed (sam needs a Docker engine)")
    docker("info", "--format", "{{.ServerVersion}}")
    order = [preferred, *(version for version in STANDIN_BASES if version != preferred)]
    for version in order:
        if _label(f"{IMAGE_REPO}:{version}-x86_64") == "":
            return version  # AWS's own base image is in the engine
        if version in STANDIN_BASES and _label(STANDIN_BASES[version]) is not None:
            return version
    raise SamUnavailable(
        "no Lambda Python base image and no lambdarig base to build a stand-in on "
        "(images/base/build-base.sh bookworm)"
    )


def sam_executable() -> Path:
    sam = peers.sam_cli(fetch=True)
    if sam is None:
        raise SamUnavailable(
            f"aws-sam-cli=={peers.SAM_CLI_VERSION} could not be installed into "
            f"{peers.cache_dir() / 'peers' / 'sam-venv'} (pip's output is above)"
        )
    return sam


@dataclass(frozen=True)
class SamImages:
    base: str  # what sam asks for: public.ecr.aws/lambda/python:3.X-x86_64
    rapid: str  # what sam builds on it: ...:3.X-rapid-x86_64
    description: str  # for the output: AWS's image or the stand-in


def _remove_ours(*images: str) -> None:
    """Remove those of ``images`` that lambdarig built (left by an earlier ``--keep-images``)."""
    for image in images:
        if _label(image):
            docker("rmi", "--force", image)


def _build_standin(version: str, tag: str, run_id: str, scratch: Path) -> None:
    from lambdarig.build.deps import download_wheels_cached
    from lambdarig.build.errors import DependencyError
    from lambdarig.build.wheels import WheelError, unpack_wheels

    context = scratch / "standin"
    shutil.copytree(STANDIN_DIR, context)
    try:
        download_wheels_cached(
            [f"awslambdaric=={peers.AWSLAMBDARIC_VERSION}"],
            scratch / "wheels",
            cache=peers.cache_dir() / "bench" / "wheelhouse",
            python_version=version,
        )
        unpack_wheels(scratch / "wheels", context / "runtime")
    except (DependencyError, WheelError) as exc:
        raise SamUnavailable(f"no awslambdaric wheels for the stand-in image: {exc}") from None
    args = ["--build-arg", f"BASE_IMAGE={STANDIN_BASES[version]}"]
    args += ["--build-arg", f"PYTHON_VERSION={version}", "--build-arg", f"LAMBDARIG_BUILD={run_id}"]
    # the legacy builder: the engine may have no buildx; nothing in the build needs a network
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    docker("build", "--quiet", "--network", "none", *args, "--tag", tag, str(context), env=env)


@contextlib.contextmanager
def sam_images(version: str, keep: bool) -> Iterator[SamImages]:
    """The base image sam asks for (a stand-in built now unless AWS's is there); at the end the
    images this run made, the stand-in and sam's rapid image, are removed unless ``keep``."""
    base, rapid = f"{IMAGE_REPO}:{version}-x86_64", f"{IMAGE_REPO}:{version}-rapid-x86_64"
    run_id = f"bench-sam-{uuid.uuid4().hex[:12]}"
    standin = _label(base) != ""
    if standin:
        _remove_ours(rapid, base)  # sam must build its rapid image on this run's stand-in
    rapid_existed = _label(rapid) is not None
    try:
        if standin:
            with tempfile.TemporaryDirectory(prefix="lambdarig-bench-standin-") as scratch:
                _build_standin(version, base, run_id, Path(scratch))
            description = (
                f"stand-in {base} on {STANDIN_BASES[version]} (label {BUILD_LABEL}={run_id})"
            )
        else:
            description = f"AWS's {base} found in the engine"
        if rapid_existed:  # sam reuses it as it is, whatever it was built on
            description += f"; sam reuses the {rapid} it found in the engine"
        yield SamImages(base, rapid, description)
    finally:
        if not keep:
            if not rapid_existed:
                docker("rmi", "--force", rapid, check=False)
            if standin:
                docker("rmi", "--force", base, check=False)
            label = f"label={BUILD_LABEL}={run_id}"
            leftovers = docker("images", "-aq", "--filter", label, check=False)
            for image in dict.fromkeys(leftovers.split()):
                docker("rmi", "--force", image, check=False)


def _sam_containers(rapid: str) -> set[str]:
    listed = docker("ps", "-aq", "--filter", f"label={SAM_CONTAINER_LABEL}", "--filter",
                    f"ancestor={rapid}", check=False)  # fmt: skip
    return set(listed.split())


@contextlib.contextmanager
def sam_api(
    sam: Path, template: Path, port: int, rapid: str, warm: bool, log_path: Path
) -> Iterator[str]:
    """``sam local start-api`` of ``template`` on ``port``; yields its base URL once it listens.
    Stopped with SIGINT (then SIGKILL); the containers it started and left are removed."""
    before = _sam_containers(rapid)
    argv = [str(sam), "local", "start-api", "-t", str(template), "--port", str(port)]
    argv += ["--host", "127.0.0.1", "--skip-pull-image"]
    argv += ["--layer-cache-basedir", str(log_path.parent / "sam-layers")]
    if warm:
        argv += ["--warm-containers", "EAGER"]
    scratch = log_path.parent / "sam-tmp"  # sam's build lock files go to TMPDIR
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "TMPDIR": str(scratch)}
    # sam's config dir (default ~/.aws-sam: metadata.json, layers-pkg/) in the run's directory
    env["__SAM_CLI_APP_DIR"] = str(log_path.parent / "sam-app")
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            argv, cwd=template.parent, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=log, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + SAM_START_TIMEOUT_S
        while not (ready := SAM_READY.search(log_path.read_text(errors="replace"))):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
                raise SamUnavailable(f"`sam local start-api` did not start:\n{tail}")
            time.sleep(0.1)  # polling sam's log for its "Running on" line
        yield ready.group(1)
    finally:
        _stop(process)
        for container in _sam_containers(rapid) - before:
            docker("rm", "--force", container, check=False)


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGINT, 30.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
