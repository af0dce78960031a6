"""Encode server frames and decode client frames: one decoder, strict types, 64 KiB cap."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

import msgspec

from chatserver.protocol.frames import (
    MAX_FRAME_BYTES,
    MAX_NESTING_DEPTH,
    MAX_REQUEST_ID,
    ClientFrame,
    Event,
    MessageData,
    ServerFrame,
)


class DecodeProblem(Enum):
    """Why a client frame was refused; decides between an error frame and a close."""

    TOO_BIG = "too_big"
    NOT_UTF8 = "not_utf8"
    MALFORMED = "malformed"
    TOO_DEEP = "too_deep"
    UNKNOWN_TYPE = "unknown_type"
    INVALID = "invalid"


class FrameError(ValueError):
    """A client frame that cannot be accepted; ``request_id`` when it could be read."""

    def __init__(self, problem: DecodeProblem, detail: str, request_id: int | None = None) -> None:
        super().__init__(f"{problem.value}: {detail}")
        self.problem = problem
        self.detail = detail
        self.request_id = request_id


class _Envelope(msgspec.Struct):
    type: str = ""
    id: int | None = None


_decoder: msgspec.json.Decoder[ClientFrame] = msgspec.json.Decoder(ClientFrame, strict=True)
_envelope = msgspec.json.Decoder(_Envelope)
_encoder = msgspec.json.Encoder()
_KNOWN_TYPES = frozenset({"hello", "subscribe", "unsubscribe", "publish", "typing", "ping"})


# A JSON string, possessive so that no input backtracks (an unterminated one runs to the end).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)
# Brackets outside strings as "(" and ")", everything else dropped.
_BRACKETS = bytes.maketrans(b"{[}]", b"(())")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{[}]")


def _openers(data: bytes) -> int:
    return data.count(b"{") + data.count(b"[")


def nesting_exceeds(raw: bytes, limit: int = MAX_NESTING_DEPTH) -> bool:
    """Whether arrays and objects in ``raw`` may nest deeper than ``limit``; brackets in strings do not count.

    Bounded, C-speed work for any frame: one with at most ``limit`` opening brackets (every real
    frame) costs two ``bytes.count``. Otherwise strings are dropped in one regex pass, and each of at
    most ``limit`` ``bytes.replace`` passes removes the innermost level of brackets. A matched pair
    still there afterwards is deeper than ``limit``; more than ``limit`` unclosed openers are refused
    too (the frame is malformed anyway, and the decoder would recurse into them first).
    """
    if _openers(raw) <= limit:
        return False
    brackets = _STRING.sub(b"", raw).translate(_BRACKETS, _NOT_BRACKETS)
    for _ in range(limit):
        reduced = brackets.replace(b"()", b"")
        if len(reduced) == len(brackets):
            break
        brackets = reduced
    return b"()" in brackets or brackets.count(b"(") > limit


def valid_request_id(value: object) -> int | None:
    """``value`` when it is a request id the protocol allows (an integer 0 … 2^53−1), else None."""
    if type(value) is int and 0 <= value <= MAX_REQUEST_ID:
        return value
    return None


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, msgspec.Struct):
        return any(_has_lone_surrogate(getattr(value, f)) for f in value.__struct_fields__)
    return False


def decode_client_frame(data: bytes | str) -> ClientFrame:
    """Decode one client frame or raise :class:`FrameError` (never anything else)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_FRAME_BYTES:
        raise FrameError(DecodeProblem.TOO_BIG, f"{len(raw)} bytes")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError(DecodeProblem.NOT_UTF8, "invalid UTF-8") from None
    if nesting_exceeds(raw):
        raise FrameError(DecodeProblem.TOO_DEEP, f"nested deeper than {MAX_NESTING_DEPTH}")
    try:
        frame = _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        try:
            envelope = _envelope.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
            raise FrameError(DecodeProblem.INVALID, str(exc)) from None
        request_id = valid_request_id(envelope.id)
        if envelope.type not in _KNOWN_TYPES:
            raise FrameError(DecodeProblem.UNKNOWN_TYPE, "unknown type", request_id) from None
        raise FrameError(DecodeProblem.INVALID, str(exc), request_id) from None
    except msgspec.DecodeError as exc:
        raise FrameError(DecodeProblem.MALFORMED, str(exc)) from None
    except RecursionError:  # the scan above should have caught it; never let it escape
        raise FrameError(DecodeProblem.TOO_DEEP, "nested too deep") from None
    if _has_lone_surrogate(frame):
        raise FrameError(DecodeProblem.NOT_UTF8, "lone surrogate", valid_request_id(getattr(frame, "id", None)))
    return frame


def encode_frame(frame: ServerFrame) -> bytes:
    """The JSON bytes of a server frame."""
    return _encoder.encode(frame)


def message_event(channel: str, offset: int, epoch: str, data: MessageData, ts_ms: int) -> bytes:
    """The JSON bytes of a chat-message event (encoded once, sent to every subscriber)."""
    return _encoder.encode(Event(channel=channel, offset=offset, epoch=epoch, kind="message", data=data, ts=ts_ms))


def kind_event(channel: str, offset: int, epoch: str, kind: str, data: Any, ts_ms: int) -> bytes:
    """The JSON bytes of a stored event of any other kind (edit, delete, system, …)."""
    return _encoder.encode(Event(channel=channel, offset=offset, epoch=epoch, kind=kind, data=data, ts=ts_ms))


_server_decoder: msgspec.json.Decoder[ServerFrame] = msgspec.json.Decoder(ServerFrame)


def decode_server_frame(data: bytes | str) -> ServerFrame:
    """Decode a server frame (for clients and the load generator)."""
    return _server_decoder.decode(data)
