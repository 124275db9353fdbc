"""Shared pieces for the event builders: ids, timestamps, ARNs, bodies.

Every builder takes ``seed`` and ``now``. With ``seed`` set, every id, sequence number and
hash-looking string it invents comes from ``random.Random(seed)``, so two calls with the same
arguments return equal events; with ``now`` set, every timestamp derives from it. Without them,
ids are random and timestamps are the current time, like the service.
"""

from __future__ import annotations

import base64
import json
import random
import string
from datetime import datetime, timezone
from typing import Any, Union

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_PARTITION = "aws"
#: The caller address the sources report (TEST-NET-1, never routed).
SOURCE_IP = "192.0.2.1"

#: What a builder accepts as a payload: text as-is, bytes (sent base64-encoded where the source
#: supports binary), or any other JSON value (serialised with ``json.dumps``).
Body = Union[str, bytes, "dict[str, Any]", "list[Any]", int, float, bool, None]

_ALNUM = string.ascii_letters + string.digits
_UPPER_ALNUM = string.ascii_uppercase + string.digits


class Ids:
    """Invents ids from one random stream; deterministic when ``seed`` is given."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def uuid(self) -> str:
        """A version-4 UUID string, e.g. ``'19dd0b57-b21e-4ac1-bd88-01bbb068cb78'``.

        ``str(uuid.UUID(int=bits, version=4))`` spelled out: on Python 3.9 the ``uuid`` module
        imports ``platform`` and so ``subprocess``, which the emulator's sans-IO front modules
        (they build events with these ids) must not load.
        """
        bits = self._rng.getrandbits(128)
        bits = bits & ~(0xC000 << 48) | 0x8000 << 48  # RFC 4122 variant
        bits = bits & ~(0xF000 << 64) | 4 << 76  # version 4
        digits = f"{bits:032x}"
        return "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))

    def hex(self, length: int) -> str:
        """``length`` lower-case hex digits."""
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(length))

    def digits(self, length: int) -> str:
        """``length`` decimal digits, the first never ``0``."""
        first = self._rng.choice("123456789")
        return first + "".join(self._rng.choice(string.digits) for _ in range(length - 1))

    def alnum(self, length: int) -> str:
        """``length`` ASCII letters and digits."""
        return "".join(self._rng.choice(_ALNUM) for _ in range(length))

    def upper_alnum(self, length: int) -> str:
        """``length`` upper-case letters and digits (access-key and principal style)."""
        return "".join(self._rng.choice(_UPPER_ALNUM) for _ in range(length))

    def lower_alnum(self, length: int) -> str:
        """``length`` lower-case letters and digits (API ids, Function URL ids)."""
        return "".join(
            self._rng.choice(string.ascii_lowercase + string.digits) for _ in range(length)
        )


def resolve_now(now: datetime | None) -> datetime:
    """``now`` as an aware UTC datetime; the current time when ``None``.

    A naive ``now`` is taken to be UTC.
    """
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        return now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc)


def epoch_ms(now: datetime) -> int:
    """Milliseconds since the Unix epoch."""
    return int(now.timestamp() * 1000)


def iso_ms(now: datetime) -> str:
    """``1970-01-01T00:00:00.000Z`` (S3, SNS)."""
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def iso_seconds(now: datetime) -> str:
    """``1970-01-01T00:00:00Z`` (EventBridge)."""
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def clf_time(now: datetime) -> str:
    """``09/Apr/2015:12:34:56 +0000`` (API Gateway ``requestTime``), English month names."""
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[
        now.month - 1
    ]
    return f"{now.day:02d}/{month}/{now.year:04d}:{now:%H:%M:%S} +0000"


def arn(
    service: str,
    resource: str,
    *,
    region: str = "",
    account_id: str = "",
    partition: str = DEFAULT_PARTITION,
) -> str:
    """``arn:{partition}:{service}:{region}:{account_id}:{resource}``."""
    return f"arn:{partition}:{service}:{region}:{account_id}:{resource}"


def body_text(body: Body) -> str:
    """A text body: ``str`` as-is, JSON values serialised; bytes are not text (use encode_body)."""
    if isinstance(body, str):
        return body
    if isinstance(body, (bytes, bytearray)):
        raise TypeError("expected a text or JSON body, got bytes (this source carries text only)")
    return json.dumps(body)


def encode_body(body: Body, *, base64_encoded: bool | None = None) -> tuple[str, bool]:
    """``(body, isBase64Encoded)`` as HTTP sources send them.

    Bytes are base64-encoded; text and JSON values are sent as text unless ``base64_encoded`` is
    true (API Gateway does that for binary media types, ALB and Function URLs for non-text content).
    """
    if isinstance(body, (bytes, bytearray)):
        if base64_encoded is False:
            raise ValueError("expected base64_encoded=None or True for a bytes body, got False")
        return b64(bytes(body)), True
    text = body_text(body)
    if base64_encoded:
        return b64(text.encode("utf-8")), True
    return text, False


def b64(data: bytes | str) -> str:
    """Standard base64 (with padding) of ``data`` (``str`` is UTF-8 encoded first)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


def to_bytes(data: Body) -> bytes:
    """Payload bytes: bytes as-is, text UTF-8 encoded, JSON values serialised then encoded."""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    return body_text(data).encode("utf-8")
