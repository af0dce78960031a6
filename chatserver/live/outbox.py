"""The bounded outbox of a connection: WebSocket frame bytes and the write-buffer bound.

A server frame is unmasked, so one encoded frame is the same bytes for every
socket. The outbox *is* the transport's write buffer: its high-water mark is
set to :data:`OUTBOX_LIMIT_BYTES`, and asyncio calls ``pause_writing`` on the
protocol when a slow reader lets it fill; the gateway then closes that
connection with the "slow" code. Nothing else buffers per connection.
"""

from __future__ import annotations

import asyncio
import struct

OUTBOX_LIMIT_BYTES = 256 * 1024
SOCKET_SNDBUF_BYTES = 128 * 1024
PING_FRAME = b"\x89\x00"
_SHORT = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame carrying ``payload``."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return _SHORT.pack(0x81, 126, n) + payload
    return _LONG.pack(0x81, 127, n) + payload


def bound(transport: asyncio.WriteTransport, limit: int = OUTBOX_LIMIT_BYTES) -> None:
    """Make ``pause_writing`` fire once more than ``limit`` bytes wait in the outbox."""
    transport.set_write_buffer_limits(high=limit, low=limit // 4)
