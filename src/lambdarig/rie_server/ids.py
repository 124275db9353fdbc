"""Random identifiers for invocations (request ids, invocation ids, X-Ray trace ids).

Each warm invoke needs three of them; taking each from ``os.urandom`` costs a ``getrandom``
system call apiece. These come from one pool of the system's randomness instead, refilled 4 KiB
at a time (one system call per ~80 invokes). The ids are unique labels, not secrets; the pool is
per process and a child process never inherits one in use (runtimes are exec'd).
"""

from __future__ import annotations

import os
import time

from lambdarig import invoke_api

_REFILL_BYTES = 4096
_pool = b""
_offset = 0


def random_bytes(count: int) -> bytes:
    """``count`` (≤ 4096) bytes of the system's randomness, from the pool."""
    global _pool, _offset
    if _offset + count > len(_pool):
        _pool, _offset = os.urandom(max(_REFILL_BYTES, count)), 0
    taken = _pool[_offset : _offset + count]
    _offset += count
    return taken


def random_hex(count: int) -> str:
    """``count`` random bytes as ``2 * count`` lowercase hex digits."""
    return random_bytes(count).hex()


def uuid4() -> str:
    """A random (version 4, RFC 4122 variant) UUID in its canonical lowercase form, as
    ``str(uuid.uuid4())`` gives."""
    raw = bytearray(random_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_trace_id(epoch_s: float | None = None) -> str:
    """A fresh X-Ray trace header for an invoke that arrived without one."""
    epoch = int(time.time() if epoch_s is None else epoch_s)
    random = random_hex(20)
    return invoke_api.TRACE_ID_FORMAT.format(epoch=epoch, root=random[:24], parent=random[24:])
