"""WebSocket framing for the load generator: handshake, a minimal frame parser and masked client frames.

Pure functions and one small parser class; no I/O. The parser does the least
work a client can do per frame: server frames are never masked, so a complete
frame is one slice of the receive buffer.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from collections.abc import Callable

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

MAX_FRAME_BYTES = 1 << 20
MAX_HEAD_BYTES = 16 * 1024

_LEN16 = struct.Struct("!H")
_LEN64 = struct.Struct("!Q")


class WireError(Exception):
    """The peer broke the WebSocket protocol (or the handshake failed)."""


def new_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()  # noqa: S324 - RFC 6455


def handshake_request(host: str, path: str, key: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_handshake_response(head: bytes, key: str) -> None:
    """Check a complete response head (ending in CRLFCRLF); raise WireError unless it is a valid 101."""
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ", 2)
    if len(status) < 2 or status[1] != b"101":
        raise WireError(f"handshake refused: {lines[0][:80].decode('latin-1', 'replace')}")
    accept = b""
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"sec-websocket-accept":
            accept = value.strip()
    if accept.decode("latin-1") != accept_for(key):
        raise WireError("handshake: wrong Sec-WebSocket-Accept")


def apply_mask(payload: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte mask (RFC 6455 5.3): masks a client frame, and unmasks it again."""
    n = len(payload)
    if n == 0:
        return b""
    repeated = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def encode_client_frame(opcode: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """One final, masked client frame."""
    mask = os.urandom(4) if mask is None else mask
    n = len(payload)
    first = bytes((0x80 | opcode,))
    if n < 126:
        head = first + bytes((0x80 | n,))
    elif n < 65536:
        head = first + bytes((0x80 | 126,)) + _LEN16.pack(n)
    else:
        head = first + bytes((0x80 | 127,)) + _LEN64.pack(n)
    return head + mask + apply_mask(payload, mask)


def encode_close(code: int = 1000) -> bytes:
    return encode_client_frame(OP_CLOSE, struct.pack("!H", code))


FrameHandler = Callable[[int, bytes], None]


class FrameParser:
    """Incremental parser of server frames; calls ``on_frame(opcode, payload)`` per complete message.

    Fragmented messages are joined; control frames may arrive between fragments.
    """

    __slots__ = ("_buf", "_frag", "_frag_op", "frames", "on_frame")

    def __init__(self, on_frame: FrameHandler) -> None:
        self.on_frame = on_frame
        self._buf = b""
        self._frag: list[bytes] = []
        self._frag_op = 0
        self.frames = 0

    def feed(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        pos = 0
        end = len(buf)
        on_frame = self.on_frame
        while end - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            if b1 & 0x80:
                raise WireError("server frame is masked")
            n = b1 & 0x7F
            start = pos + 2
            if n == 126:
                if end - pos < 4:
                    break
                n = _LEN16.unpack_from(buf, start)[0]
                start += 2
            elif n == 127:
                if end - pos < 10:
                    break
                n = _LEN64.unpack_from(buf, start)[0]
                start += 8
            if n > MAX_FRAME_BYTES:
                raise WireError("frame too large")
            stop = start + n
            if stop > end:
                break
            payload = buf[start:stop]
            pos = stop
            opcode = b0 & 0x0F
            self.frames += 1
            if b0 & 0x80:
                if opcode == OP_CONT:
                    if not self._frag:
                        raise WireError("continuation without a start")
                    self._frag.append(payload)
                    payload = b"".join(self._frag)
                    opcode = self._frag_op
                    self._frag = []
                on_frame(opcode, payload)
            elif opcode == OP_CONT:
                if not self._frag:
                    raise WireError("continuation without a start")
                self._frag.append(payload)
            else:
                if opcode >= OP_CLOSE:
                    raise WireError("fragmented control frame")
                self._frag = [payload]
                self._frag_op = opcode
        self._buf = buf[pos:] if pos < end else b""
