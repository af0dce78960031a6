"""Encode server frames and decode client frames: one decoder, strict types, 64 KiB cap."""

from __future__ import annotations

from enum import Enum
from typing import Any

import msgspec

from chatserver.protocol.frames import (
    MAX_FRAME_BYTES,
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
    try:
        frame = _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        try:
            envelope = _envelope.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError):
            raise FrameError(DecodeProblem.INVALID, str(exc)) from None
        request_id = envelope.id if envelope.id is not None and envelope.id >= 0 else None
        if envelope.type not in _KNOWN_TYPES:
            raise FrameError(DecodeProblem.UNKNOWN_TYPE, "unknown type", request_id) from None
        raise FrameError(DecodeProblem.INVALID, str(exc), request_id) from None
    except msgspec.DecodeError as exc:
        raise FrameError(DecodeProblem.MALFORMED, str(exc)) from None
    if _has_lone_surrogate(frame):
        raise FrameError(DecodeProblem.NOT_UTF8, "lone surrogate", getattr(frame, "id", None))
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
