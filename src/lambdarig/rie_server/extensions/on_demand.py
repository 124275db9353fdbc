"""One runtime generation's Extensions API, created on first need: ``OnDemandExtensions``.

Most functions run without extensions: their emulator should not load the Extensions API
(``host``, ``backend``, ``state``, ``protocol``). So each new runtime process gets an
``OnDemandExtensions``, and its ``host.ExtensionHost`` is made (``host()``) only when an
extension may exist: an extensions directory is there (or a container's sandbox, which names
the image's), or a request arrives under ``/2020-01-01/extension/`` (a runtime registering an
internal extension, or any request there: the host answers it exactly as it always did). Once
the runtime polled ``/next`` registration is closed, also for a host made after that.

``Failure`` (an extension failed the init) lives here, so that the environment can handle it
without loading the rest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from lambdarig.rie_server.extensions.host import ExtensionHost, Sandbox
    from lambdarig.rie_server.extensions.state import Extension
    from lambdarig.rie_server.http.server import Deferred, HttpReply, HttpRequest
    from lambdarig.rie_server.telemetry.on_demand import OnDemandTelemetry


class Failure(Exception):
    """An extension failed the init: ``error_type`` is ``Extension.*``."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class OnDemandExtensions:
    """The Extensions API and extensions of one runtime generation; ``host`` is ``None`` until
    needed (``present`` says whether it is from the start). The ``RuntimeApiServer``'s
    ``ExtensionsBackend``.

    ``extensions_dir``: where the extensions are (process mode); ``sandbox``: the container the
    generation runs in (container mode); ``env``: the runtime's variables (the ``/register``
    answer's function name, version, handler); ``on_line``: the extensions' output;
    ``telemetry``: told of each registration.
    """

    def __init__(
        self,
        extensions_dir: str | None,
        sandbox: Sandbox | None,
        env: Mapping[str, str],
        function_arn: str,
        on_line: Callable[[str], None],
        telemetry: OnDemandTelemetry | None,
    ) -> None:
        self._extensions_dir = extensions_dir
        self._sandbox = sandbox
        self._env = env
        self._function_arn = function_arn
        self._on_line = on_line
        self._telemetry = telemetry
        self._closed = False  # the runtime polled /next
        self.host: ExtensionHost | None = None

    @property
    def present(self) -> bool:
        """Extensions may be launched: a sandbox, or an extensions directory."""
        if self._sandbox is not None:
            return True
        directory = self._extensions_dir
        return directory is not None and os.path.isdir(directory)

    def get(self) -> ExtensionHost:
        """The host, made now if it was not (not launched: ``ExtensionHost.launch``). Runs on
        the event loop."""
        host = self.host
        if host is None:
            host = self.host = self._create()
            if self._closed:
                host.api.close_registration()
        return host

    def _create(self) -> ExtensionHost:
        from lambdarig.rie_server.extensions import host as extensions

        sandbox = self._sandbox
        host = extensions.ExtensionHost(
            sandbox.executables if sandbox else extensions.find_extensions(self._extensions_dir),
            extensions.register_info(self._env),
            extensions.account_of(self._function_arn),
            self._on_line,
        )
        if self._telemetry is not None:  # only this process's extensions may subscribe
            host.api.on_registered = self._telemetry.extension_registered
        return host

    def lookup(self, identifier: str) -> Extension | None:
        """``ExtensionsApi.lookup`` (``None`` while there is no host: nobody registered)."""
        host = self.host
        return None if host is None else host.api.lookup(identifier)

    # --- runtime.server.ExtensionsBackend ------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpReply | Deferred:
        """A request under ``/2020-01-01/extension/``: to the host (made now if needed)."""
        return self.get().api.handle(request)

    def close_registration(self) -> None:
        """The runtime polled ``/next``: no extension may register any more."""
        self._closed = True
        if self.host is not None:
            self.host.api.close_registration()
