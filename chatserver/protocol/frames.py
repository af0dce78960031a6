"""The JSON frames of the live protocol v1, defined once as msgspec Structs.

Client frames and server frames are tagged unions on the ``type`` field.
Unknown extra fields in client frames are ignored; identity is never read from
a frame (it comes from the session the connection authenticated with).

``event.data`` and ``notice.data`` are typed by the frame's parameter: a chat
message carries :class:`MessageData`, every other stored event one of the closed
Structs of :mod:`chatserver.protocol.events` (:data:`StoredEventFrame`), a
notice a :data:`~chatserver.protocol.events.LiveNotice` (:data:`NoticeFrame`).
Decoded without a parameter (``decode_server_frame``), ``data`` stays a plain
object; :func:`~chatserver.protocol.events.stored_event` reads it into its Struct.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec

from chatserver.protocol.events import LIVE_NOTICE_KINDS, STORED_EVENT_KINDS, LiveNotice, StoredEvent

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 64 * 1024
MAX_TEXT_CHARS = 4000
MAX_CHANNEL_CHARS = 200
MAX_TOKEN_CHARS = 256
MAX_REQUEST_ID = 2**53 - 1
MAX_REPLAY_EVENTS = 1000
# Arrays and objects nested deeper than this are refused before decoding (4102); real frames use 3.
MAX_NESTING_DEPTH = 32

RequestId = Annotated[int, msgspec.Meta(ge=0, le=MAX_REQUEST_ID)]
ChannelName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CHANNEL_CHARS)]
ClientMsgId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Offset = Annotated[int, msgspec.Meta(ge=0, le=MAX_REQUEST_ID)]
Epoch = Annotated[str, msgspec.Meta(max_length=64)]
Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS)]

EventKind = str  # "message", "edit", "delete", "system", or a feature's kind; clients ignore unknown ones
EVENT_KINDS: tuple[str, ...] = ("message", *STORED_EVENT_KINDS)
NOTICE_KINDS: tuple[str, ...] = LIVE_NOTICE_KINDS
# The type of ``data`` in an event or notice frame. Unbounded on purpose: a frame decoded without a
# parameter keeps ``data`` as a plain object (a bound would make msgspec decode the bound's union).
DataT = TypeVar("DataT")
PresenceAction = Literal["join", "leave", "count"]
ReloadReason = Literal["epoch_changed", "too_old"]


class Position(msgspec.Struct, frozen=True):
    """A place in a channel's event stream: the offset of the last event and the stream's epoch."""

    offset: Offset
    epoch: Epoch


# --- client -> server ---------------------------------------------------------


class Hello(msgspec.Struct, frozen=True, tag="hello", tag_field="type"):
    v: int = PROTOCOL_VERSION
    token: Annotated[str, msgspec.Meta(max_length=MAX_TOKEN_CHARS)] | None = None


class Subscribe(msgspec.Struct, frozen=True, tag="subscribe", tag_field="type"):
    id: RequestId
    channel: ChannelName
    since: Position | None = None


class Unsubscribe(msgspec.Struct, frozen=True, tag="unsubscribe", tag_field="type"):
    id: RequestId
    channel: ChannelName


class MessageBody(msgspec.Struct, frozen=True):
    text: Text


class Publish(msgspec.Struct, frozen=True, tag="publish", tag_field="type"):
    id: RequestId
    channel: ChannelName
    client_msg_id: ClientMsgId
    body: MessageBody


class Typing(msgspec.Struct, frozen=True, tag="typing", tag_field="type"):
    channel: ChannelName


class Ping(msgspec.Struct, frozen=True, tag="ping", tag_field="type"):
    id: RequestId | None = None


ClientFrame = Hello | Subscribe | Unsubscribe | Publish | Typing | Ping
CLIENT_FRAME_TYPES: tuple[type[msgspec.Struct], ...] = (Hello, Subscribe, Unsubscribe, Publish, Typing, Ping)


# --- server -> client ---------------------------------------------------------


class Limits(msgspec.Struct, frozen=True):
    max_frame_bytes: int
    max_text_chars: int
    max_subscriptions: int
    publish_per_s: float
    publish_burst: int
    heartbeat_s: float
    idle_timeout_s: float


class Welcome(msgspec.Struct, frozen=True, tag="welcome", tag_field="type"):
    v: int
    connection_id: str
    pseudonym: str
    limits: Limits


class PresenceSnapshot(msgspec.Struct, frozen=True, omit_defaults=True):
    count: int
    members: list[str] | None = None


class Subscribed(msgspec.Struct, frozen=True, omit_defaults=True, tag="subscribed", tag_field="type"):
    id: int
    channel: str
    position: Position
    presence: PresenceSnapshot
    replay: int = 0


class Unsubscribed(msgspec.Struct, frozen=True, tag="unsubscribed", tag_field="type"):
    id: int
    channel: str


class MessageData(msgspec.Struct, frozen=True):
    sender: str
    text: str
    role: str | None = None
    edited: bool = False
    deleted: bool = False


class Event(msgspec.Struct, Generic[DataT], frozen=True, tag="event", tag_field="type"):
    channel: str
    offset: int
    epoch: str
    kind: EventKind
    data: DataT
    ts: int


MessageEvent = Event[MessageData]
StoredEventFrame = Event[StoredEvent]


class Ack(msgspec.Struct, frozen=True, omit_defaults=True, tag="ack", tag_field="type"):
    id: int
    client_msg_id: str
    channel: str
    offset: int
    epoch: str
    duplicate: bool = False
    held: bool = False
    notice: str | None = None


class Reload(msgspec.Struct, frozen=True, tag="reload", tag_field="type"):
    id: int
    channel: str
    reason: ReloadReason
    position: Position


class Presence(msgspec.Struct, frozen=True, omit_defaults=True, tag="presence", tag_field="type"):
    channel: str
    action: PresenceAction
    count: int
    pseudonym: str | None = None


class TypingNotice(msgspec.Struct, frozen=True, tag="typing", tag_field="type"):
    channel: str
    pseudonym: str


class Error(msgspec.Struct, frozen=True, omit_defaults=True, tag="error", tag_field="type"):
    code: int
    reason: str
    id: int | None = None
    channel: str | None = None
    retry_after_ms: int | None = None


class Notice(msgspec.Struct, Generic[DataT], frozen=True, tag="notice", tag_field="type"):
    """A live update that is not stored and has no offset (queue positions, staff status, …)."""

    channel: str
    kind: str
    data: DataT


NoticeFrame = Notice[LiveNotice]


class Pong(msgspec.Struct, frozen=True, omit_defaults=True, tag="pong", tag_field="type"):
    id: int | None = None


# Decoded without a parameter, event and notice data stay plain objects (clients ignore unknown kinds).
ServerFrame = (
    Welcome
    | Subscribed
    | Unsubscribed
    | Event[Any]
    | Ack
    | Reload
    | Presence
    | TypingNotice
    | Notice[Any]
    | Error
    | Pong
)
SERVER_FRAME_TYPES: tuple[type[msgspec.Struct], ...] = (
    Welcome,
    Subscribed,
    Unsubscribed,
    Event,
    Ack,
    Reload,
    Presence,
    TypingNotice,
    Notice,
    Error,
    Pong,
)


def frame_type(cls: type[msgspec.Struct]) -> str:
    """The ``type`` tag of a frame class."""
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str)
    return tag
