"""What ``--layer`` and ``--image`` add around one function's environments: the layers laid out
as ``/opt`` (again on ``--watch``), the runtime environment and extensions directory that follow
from them, and the container factory: ``Artifacts``, owned by a ``FunctionHost``.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import threading
from typing import TYPE_CHECKING

from lambdarig.rie_server.config import EmulatorConfig

if TYPE_CHECKING:
    from pathlib import Path

    from lambdarig.rie_server.environments.containers import ContainerFactory
    from lambdarig.rie_server.environments.supervisor import ProcessFactory


class Artifacts:
    """What ``--layer`` and ``--image`` add around the environments: an ``/opt`` laid out from the
    layers (under ``scratch.make_scratch``, removed by ``close``; a killed emulator's is swept by
    the next emulator: at its start when it lays layers out, else when it stops, so that a start
    without layers loads no ``tempfile``) and, for images, the container factory. Layers are laid
    out in a worker thread, so the event loop keeps answering, and ``cancel`` stops a layout
    half-way."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._tmp: Path | None = None
        self._layouts = 0
        self._cancel = threading.Event()
        self._layout: asyncio.Future[Path] | None = None
        self.opt_dir: Path | None = None
        self.process_factory: ProcessFactory | None = None
        self._containers: ContainerFactory | None = None

    async def prepare(self) -> None:
        """Lay out the layers and connect to Docker; raises ``EmulatorError`` subclasses."""
        if self._config.layers:
            # Only layers need scratch space (``scratch`` loads tempfile, shutil, pathlib).
            from lambdarig.rie_server.environments.scratch import make_scratch, sweep_stale

            sweep_stale()
            self._tmp = make_scratch()
            await self.relayout()
        if self._config.image is not None:
            from lambdarig.rie_server.environments.containers import ContainerFactory

            self._containers = ContainerFactory(self._config.image, opt_dir=self.opt_dir)
            self.process_factory = self._containers

    def runtime_env(self) -> dict[str, str]:
        """The configured runtime environment plus, for local processes, the layers' paths
        (``python3.X/site-packages`` for ``layer_python``, else the emulator's own version)."""
        env = dict(self._config.runtime_env)
        if self.opt_dir is not None and self._config.image is None:
            own = f"{sys.version_info[0]}.{sys.version_info[1]}"
            version = self._config.layer_python or own
            from lambdarig.rie_server.environments.layers import layer_environment

            env.update(layer_environment(self.opt_dir, version, base=env))
        return env

    def extensions_dir(self) -> str | None:
        """``<opt>/extensions`` of the laid-out layers, else the configured directory (process
        mode; in container mode ``ContainerFactory.open_sandbox`` finds the image's)."""
        if self._config.image is not None:
            return None
        if self.opt_dir is None:
            return self._config.extensions_dir
        return str(self.opt_dir / "extensions")

    async def relayout(self) -> None:
        """Lay the layers out (again, for ``--watch``) into a new directory: environments still
        running keep the ``/opt`` they started with until ``close``. Raises ``LayerError``, or
        ``LayoutCancelled`` after ``cancel``."""
        if self._tmp is None:
            return
        from pathlib import Path  # layers only (``self._tmp`` is set): off the common path

        self._layouts += 1
        layers = [Path(layer) for layer in self._config.layers]
        name = "opt" if self._layouts == 1 else f"opt-{self._layouts}"
        from lambdarig.rie_server.environments.layers import (
            prepare_opt,  # only with layers: loads zipfile
        )

        work = functools.partial(prepare_opt, layers, self._tmp / name, cancel=self._cancel)
        self._layout = asyncio.get_running_loop().run_in_executor(None, work)
        # Shielded: a cancelled caller leaves the thread running; close() waits for it to stop.
        self.opt_dir = await asyncio.shield(self._layout)

    def cancel(self) -> None:
        """Stop a layout in progress (within one chunk) and refuse new ones."""
        self._cancel.set()

    async def close(self) -> None:
        """Stop any layout, remove leftover containers and the laid-out ``/opt`` (idempotent)."""
        self.cancel()
        if self._layout is not None:
            await asyncio.wait({self._layout})  # the thread removes what it wrote, then ends
            if not self._layout.cancelled():
                self._layout.exception()  # retrieved: its caller has reported it, or is gone
        if self._containers is not None:
            self._containers.close()
            self._containers = None
        if not self._config.layers:  # the sweep (see the class): with layers, ``prepare`` did it
            from lambdarig.rie_server.environments.scratch import sweep_stale

            sweep_stale()
        if self._tmp is not None:
            import shutil  # loaded by ``scratch`` already

            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
