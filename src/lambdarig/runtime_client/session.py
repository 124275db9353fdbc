"""What one runtime process holds open while it serves: the log sink and a Runtime API client.

Used by the single-process runtime (:mod:`lambdarig.runtime_client.cli`) and by each worker of a
multi-concurrent one (:mod:`lambdarig.runtime_client.concurrency`).
"""

from __future__ import annotations

from lambdarig.runtime_client.client import RuntimeAPIClient
from lambdarig.runtime_client.logs import setup_logging
from lambdarig.runtime_client.transport import SocketTransport

TYPE_CHECKING = False  # typing is not imported at run time (cold start)
if TYPE_CHECKING:
    from lambdarig.runtime_client.config import RuntimeConfig


class RuntimeSession:
    """The log sink and a Runtime API client over a socket, for one runtime process.

    Opening sets up logging (:func:`lambdarig.runtime_client.logs.setup_logging`); leaving the
    ``with`` block closes the connection and the sink.
    """

    def __init__(
        self, config: RuntimeConfig, client_type: type[RuntimeAPIClient] = RuntimeAPIClient
    ) -> None:
        self.sink = setup_logging(config)
        self.client = client_type(SocketTransport(config.runtime_api))

    def __enter__(self) -> RuntimeSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.transport.close()
        self.sink.close()
