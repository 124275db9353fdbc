"""AWS event-stream encoding of ``InvokeWithResponseStream`` answers (sans-IO).

Each message: total length (u32) | headers length (u32) | CRC32 of those 8 bytes | headers |
payload | CRC32 of everything before it, all big-endian. Each header: name length (u8), name,
value type (u8, 7 = string), value length (u16), value. The answer is ``PayloadChunk`` events
(``:content-type: application/octet-stream``, the raw bytes) and one final ``InvokeComplete``
(JSON ``{"ErrorCode", "ErrorDetails", "LogResult"}``, each only when set).

https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html
"""

from __future__ import annotations

import json
import struct
import zlib

CONTENT_TYPE_EVENT_STREAM = "application/vnd.amazon.eventstream"
EVENT_PAYLOAD_CHUNK = "PayloadChunk"
EVENT_INVOKE_COMPLETE = "InvokeComplete"
_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
# An event's payload is one message (its total length is a u32); bigger chunks are split.
MAX_CHUNK_PAYLOAD = 1024 * 1024


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode("utf-8"), value.encode("utf-8")
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING, len(raw_value))
        + raw_value
    )


def _headers(event_type: str, content_type: str) -> bytes:
    return (
        _header(":event-type", event_type)
        + _header(":content-type", content_type)
        + _header(":message-type", "event")
    )


_CHUNK_HEADERS = _headers(EVENT_PAYLOAD_CHUNK, "application/octet-stream")
_COMPLETE_HEADERS = _headers(EVENT_INVOKE_COMPLETE, "application/json")


def encode_message(headers: bytes, payload: bytes) -> bytes:
    """One event-stream message of already encoded ``headers`` and ``payload``."""
    prelude = _PRELUDE.pack(12 + len(headers) + len(payload) + 4, len(headers))
    prelude += _CRC.pack(zlib.crc32(prelude))
    message = prelude + headers + payload
    return message + _CRC.pack(zlib.crc32(message))


def payload_chunks(data: bytes) -> list[bytes]:
    """``PayloadChunk`` events carrying ``data`` (one per ``MAX_CHUNK_PAYLOAD`` bytes)."""
    return [
        encode_message(_CHUNK_HEADERS, data[start : start + MAX_CHUNK_PAYLOAD])
        for start in range(0, len(data), MAX_CHUNK_PAYLOAD)
    ]


def invoke_complete(
    error_code: str | None = None,
    error_details: str | None = None,
    log_result: str | None = None,
) -> bytes:
    """The final ``InvokeComplete`` event."""
    fields = {"ErrorCode": error_code, "ErrorDetails": error_details, "LogResult": log_result}
    body = {name: value for name, value in fields.items() if value is not None}
    return encode_message(_COMPLETE_HEADERS, json.dumps(body, separators=(",", ":")).encode())
