"""The head of a streamed Function URL answer (sans-IO).

A function behind a Function URL with ``InvokeMode: RESPONSE_STREAM`` sets its status, headers
and cookies by streaming under the content type
``application/vnd.awslambda.http-integration-response``: a JSON prelude
``{"statusCode": ..., "headers": {...}, "cookies": [...]}``, 8 NUL bytes, then the body
(https://docs.aws.amazon.com/lambda/latest/dg/config-rs-write-functions.html). A stream under any
other content type has no prelude: it is answered 200 with the function's content type, the
stream as the body (``plain_head``).

``PreludeReader.feed`` takes the stream's chunks as they arrive until the prelude is complete.
The prelude is hostile input: at most ``MAX_PRELUDE_BYTES`` before the delimiter, JSON of the
shape above, header names that are tokens and values and cookies without control characters
(``responses.stream_head``); anything else raises ``Malformed``, answered as the Function URL's
error.
"""

from __future__ import annotations

from lambdarig import runtime_api
from lambdarig.rie_server.fronts.responses import Malformed, Reply, stream_head

#: The largest prelude accepted (the HTTP front's own bound on a header section is the same).
MAX_PRELUDE_BYTES = 64 * 1024
_DELIMITER = runtime_api.HTTP_INTEGRATION_DELIMITER

__all__ = ["MAX_PRELUDE_BYTES", "Malformed", "PreludeReader", "has_prelude", "plain_head"]


def has_prelude(content_type: str) -> bool:
    """Whether a stream of ``content_type`` starts with the HTTP integration prelude."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == runtime_api.CONTENT_TYPE_HTTP_INTEGRATION


def plain_head(content_type: str) -> Reply:
    """The head of a stream without a prelude: 200 and the function's content type."""
    return Reply(200, [("Content-Type", content_type)])


class PreludeReader:
    """Collects a stream's first bytes until its prelude is complete."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> tuple[Reply, bytes] | None:
        """The head and the body bytes that came with it once the prelude is complete, else
        ``None`` (send more). Raises ``Malformed`` for a prelude over ``MAX_PRELUDE_BYTES`` or
        of the wrong shape."""
        self._buffer += chunk
        end = self._buffer.find(_DELIMITER)
        if end < 0:
            if len(self._buffer) > MAX_PRELUDE_BYTES + len(_DELIMITER):
                raise Malformed(f"expected a prelude of at most {MAX_PRELUDE_BYTES} bytes")
            return None
        if end > MAX_PRELUDE_BYTES:
            raise Malformed(f"expected a prelude of at most {MAX_PRELUDE_BYTES} bytes")
        head = stream_head(self._buffer[:end])
        rest = self._buffer[end + len(_DELIMITER) :]
        self._buffer = b""
        return head, rest

    def finish(self) -> tuple[Reply, bytes]:
        """The stream ended: its head, if the prelude was complete; raises ``Malformed``."""
        found = self.feed(b"")
        if found is None:
            raise Malformed("expected the prelude to end with 8 NUL bytes, the stream ended")
        return found
