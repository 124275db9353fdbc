"""invoke.event_stream: what we encode is what botocore's event-stream parser decodes."""

from __future__ import annotations

import json

import pytest
from botocore.eventstream import EventStreamBuffer

from lambdarig.rie_server.invoke.event_stream import (
    MAX_CHUNK_PAYLOAD,
    invoke_complete,
    payload_chunks,
)


def decode(data: bytes) -> list[tuple[dict[str, str], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(message.headers, message.payload) for message in buffer]


def test_a_payload_chunk_decodes_with_its_headers_and_bytes() -> None:
    ((headers, payload),) = decode(b"".join(payload_chunks(b"hello \x00 world")))
    assert headers == {
        ":event-type": "PayloadChunk",
        ":content-type": "application/octet-stream",
        ":message-type": "event",
    }
    assert payload == b"hello \x00 world"


def test_large_data_is_split_into_several_chunks() -> None:
    data = bytes(range(256)) * (MAX_CHUNK_PAYLOAD // 128)
    decoded = decode(b"".join(payload_chunks(data)))
    assert len(decoded) == 2 and b"".join(payload for _, payload in decoded) == data
    assert payload_chunks(b"") == []


@pytest.mark.parametrize(
    ("args", "body"),
    [
        ((), {}),
        (("Function.Boom", '{"errorMessage":"x"}', "bG9n"), None),
    ],
)
def test_invoke_complete_carries_only_the_fields_set(args: tuple[str, ...], body: object) -> None:
    ((headers, payload),) = decode(invoke_complete(*args))
    assert headers[":event-type"] == "InvokeComplete"
    assert headers[":content-type"] == "application/json"
    expected = (
        body if body is not None else dict(zip(("ErrorCode", "ErrorDetails", "LogResult"), args))
    )
    assert json.loads(payload) == expected


def test_botocore_parses_the_events_as_the_lambda_model_says() -> None:
    import botocore.session
    from botocore.eventstream import EventStream
    from botocore.parsers import EventStreamJSONParser

    model = botocore.session.get_session().get_service_model("lambda")
    output = model.operation_model("InvokeWithResponseStream").output_shape
    shape = output.members["EventStream"]
    raw = b"".join(payload_chunks(b"abc")) + invoke_complete("Function.X", "details")

    class Raw:
        def stream(self):  # type: ignore[no-untyped-def]
            yield raw

    events = list(EventStream(Raw(), shape, EventStreamJSONParser(), ""))
    assert events == [
        {"PayloadChunk": {"Payload": b"abc"}},
        {"InvokeComplete": {"ErrorCode": "Function.X", "ErrorDetails": "details"}},
    ]
