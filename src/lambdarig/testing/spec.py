"""What to run (:class:`FunctionSpec`) and session-wide choices (:class:`HarnessSettings`)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lambdarig import invoke_api
from lambdarig.testing.errors import HarnessConfigError

RUNTIMES = ("lambdarig", "awslambdaric")


@dataclass(frozen=True)
class FunctionSpec:
    """What to run; hashable, so the plugin can start each distinct function once per session."""

    handler: str
    code: Path
    env: tuple[tuple[str, str], ...] = ()
    timeout: float = 3
    memory: int = 128
    layers: tuple[str, ...] = ()
    runtime: str | tuple[str, ...] = "lambdarig"
    image: str | None = None
    name: str = invoke_api.DEFAULT_FUNCTION_NAME
    emulator_args: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        handler: str,
        code: str | Path = ".",
        env: Mapping[str, str] | None = None,
        timeout: float = 3,
        memory: int = 128,
        layers: Sequence[str | Path] = (),
        runtime: str | Sequence[str] = "lambdarig",
        image: str | None = None,
        name: str = invoke_api.DEFAULT_FUNCTION_NAME,
        emulator_args: Sequence[str] = (),
    ) -> FunctionSpec:
        """Normalise user arguments; raises :class:`HarnessConfigError` naming a bad one."""
        code_path = Path(code).resolve()
        if image is None and not code_path.is_dir():
            raise HarnessConfigError(f"expected code= to be a directory, got {str(code)!r}")
        if isinstance(runtime, str) and runtime not in RUNTIMES:
            raise HarnessConfigError(
                f"expected runtime= to be one of {', '.join(RUNTIMES)} or a command list, "
                f"got {runtime!r}"
            )
        if timeout <= 0 or memory <= 0:
            raise HarnessConfigError(
                f"expected a positive timeout and memory, got {timeout}, {memory}"
            )
        return cls(
            handler=handler,
            code=code_path,
            env=tuple(sorted((env or {}).items())),
            timeout=timeout,
            memory=memory,
            layers=tuple(str(Path(layer).resolve()) for layer in layers),
            runtime=runtime if isinstance(runtime, str) else tuple(runtime),
            image=image,
            name=name,
            emulator_args=tuple(emulator_args),
        )


EMULATOR_ENV = "LAMBDARIG_EMULATOR"
AWSLAMBDARIC_PYTHON_ENV = "LAMBDARIG_AWSLAMBDARIC_PYTHON"
DEFAULT_EMULATOR = (sys.executable, "-m", "lambdarig.rie_server")


@dataclass(frozen=True)
class HarnessSettings:
    """Session-wide choices. ``base_env`` is the environment the emulator (and so the runtime)
    starts from: empty by default (hermetic, as in Lambda; commands must then be absolute paths);
    :meth:`from_environ` inherits the caller's, as the plugin and the CLI do.
    """

    base_env: Mapping[str, str] = field(default_factory=dict)
    emulator: tuple[str, ...] = DEFAULT_EMULATOR
    python: str = sys.executable
    awslambdaric_python: str | None = None
    default_runtime: str | None = None  # --lambda-runtime: overrides runtime="lambdarig"
    start_timeout: float = 30.0

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str],
        emulator: str | None = None,
        awslambdaric_python: str | None = None,
        default_runtime: str | None = None,
    ) -> HarnessSettings:
        """Settings inheriting ``environ``; explicit arguments win over ``$LAMBDARIG_EMULATOR``
        (a shell-style command) and ``$LAMBDARIG_AWSLAMBDARIC_PYTHON``."""
        command = emulator or environ.get(EMULATOR_ENV)
        return cls(
            base_env=dict(environ),
            emulator=tuple(shlex.split(command)) if command else DEFAULT_EMULATOR,
            awslambdaric_python=awslambdaric_python or environ.get(AWSLAMBDARIC_PYTHON_ENV),
            default_runtime=default_runtime,
        )

    @property
    def is_aws_rie(self) -> bool:
        return Path(self.emulator[0]).name.startswith("aws-lambda-rie")


def format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
