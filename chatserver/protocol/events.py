"""The closed schemas of server events: one frozen msgspec Struct per kind of ``event.data`` and ``notice.data``.

The chat service stores and fans out a server event as ``{"type": "event", …, "kind": <kind>, "data": {…}}``
(``do_emit``) or sends a live notice ``{"type": "notice", …, "kind": <kind>, "data": {…}}`` (``do_notify``). The
``kind`` sits beside ``data``, not inside it, so msgspec's own tags cannot tell the variants apart; instead each
Struct names its kind in ``KIND`` and, where one kind has several shapes, a discriminating field inside the data
(``event`` or ``type``) whose ``Literal`` values pick the Struct. :data:`StoredEvent` and :data:`LiveNotice` are the
tagged unions over (kind, discriminator); :func:`stored_event` and :func:`live_notice` read a data dict into the one
Struct it must be, refusing an unknown kind, an unknown discriminator value, an unknown field or a wrong type.

Field names and order are exactly those of the dicts the features built before these types existed, so the
encoded bytes are the same (a unit test compares them): absent keys are ``UNSET`` (left out), keys that are always
present are required fields even where their value may be null. docs/protocol.md describes each kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args, get_origin

import msgspec
from msgspec import UNSET, UnsetType


class EventSchemaError(ValueError):
    """A data dict that is not one of the closed event schemas (unknown kind, field, value or type)."""


class _Data(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The base of every event and notice body."""

    KIND: ClassVar[str]


class _Part(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A nested object inside an event body."""


# --- live channels: rooms, 1-on-1 chats ------------------------------------------------------------------------------


class SystemLine(_Data, frozen=True, kw_only=True):
    """A Dutch line for everyone in the channel; ``room_open`` when a host opened or closed a hosted room."""

    KIND = "system"
    text: str
    room_open: bool | UnsetType = UNSET


class MessageEdited(_Data, frozen=True, kw_only=True):
    """A stored message changed: its new ``text`` (absent: unchanged) and/or the author's new ``sender`` name."""

    KIND = "edit"
    offset: int
    text: str | UnsetType = UNSET
    sender: str | UnsetType = UNSET


class MessageDeleted(_Data, frozen=True, kw_only=True):
    KIND = "delete"
    offset: int


# --- forum threads (``thread:<flavour>:<id>``) -----------------------------------------------------------------------


class ForumPost(_Data, frozen=True, kw_only=True):
    KIND = "post"
    post_id: str
    thread_id: str
    author: str
    role: str | None
    fragment: str


class ForumPostEdited(_Data, frozen=True, kw_only=True):
    KIND = "post_edited"
    post_id: str
    fragment: str


class ForumPostRemoved(_Data, frozen=True, kw_only=True):
    KIND = "post_removed"
    post_id: str
    fragment: str


# --- notifications on ``user:<account_id>`` --------------------------------------------------------------------------


class AccountNotification(_Data, frozen=True, kw_only=True):
    """A forum follow, a log-in warning, a vraagbaak answer: a line and where it leads (no ``type``)."""

    KIND = "notification"
    text: str
    url: str


class SpreekuurQuestionRejected(_Data, frozen=True, kw_only=True):
    KIND = "notification"
    type: Literal["spreekuur_question_rejected"] = "spreekuur_question_rejected"
    text: str
    url: str


class CrisisResourceLink(_Part, frozen=True, kw_only=True):
    name: str
    description: str
    phone: str
    url: str
    chat_url: str


class ModerationOutcome(_Data, frozen=True, kw_only=True):
    """To the author of a decided item; a mute adds ``until`` (ISO 8601), ``until_text`` and ``text``."""

    KIND = "notification"
    type: Literal["moderation"] = "moderation"
    decision: str
    title: str
    reason: str
    flavour: str
    resources: list[CrisisResourceLink]
    item_id: str
    until: str | UnsetType = UNSET
    until_text: str | UnsetType = UNSET
    text: str | UnsetType = UNSET


class ReportOutcome(_Data, frozen=True, kw_only=True):
    KIND = "notification"
    type: Literal["report_outcome"] = "report_outcome"
    decision: str
    title: str
    flavour: str
    item_id: str


# --- moderation consoles (``mod:<flavour>``) -------------------------------------------------------------------------


class ModerationItemSummary(_Part, frozen=True, kw_only=True):
    """What places and ages an item; never its text or author."""

    id: str
    flavour: str
    source: str
    tier: str
    tier_rank: int
    severity: str
    severity_rank: int
    state: str
    claimed_by: str | None
    claimed_name: str
    decision: str | None
    created_at: int  # ms since the epoch
    target_s: int
    crisis: bool
    no_professional_on_shift: bool
    context_url: str


class ModerationUpdate(_Data, frozen=True, kw_only=True):
    KIND = "moderation"
    event: Literal["new", "crisis", "claimed", "escalated", "decided"]
    item: ModerationItemSummary


class StaffQuestion(_Part, frozen=True, kw_only=True):
    """A spreekuur question as moderators see it (never the account id)."""

    id: str
    text: str
    asker: str
    show_name: bool
    status: str
    crisis: bool
    phase: str


class SpreekuurModeration(_Data, frozen=True, kw_only=True):
    KIND = "spreekuur"
    event: Literal["new", "decided"]
    spreekuur_id: str
    question: StaffQuestion


# --- spreekuur sessions (``spreekuur:<flavour>:<id>``) ---------------------------------------------------------------


class PublicAnswer(_Part, frozen=True, kw_only=True):
    text: str
    host: str
    role: str | None


class PublicQuestion(_Part, frozen=True, kw_only=True):
    """An approved question as every visitor sees it: a name only when the asker chose to show it."""

    id: str
    text: str
    asker: str | None
    merged_count: int
    answer: PublicAnswer | None


class QaQuestion(_Data, frozen=True, kw_only=True):
    KIND = "qa"
    type: Literal["question"] = "question"
    question: PublicQuestion


class QaMerged(_Data, frozen=True, kw_only=True):
    KIND = "qa"
    type: Literal["merged"] = "merged"
    into: str
    merged_count: int


class QaAnswer(_Data, frozen=True, kw_only=True):
    KIND = "qa"
    type: Literal["answer"] = "answer"
    question_id: str
    answer: PublicAnswer | None


class QaStatus(_Data, frozen=True, kw_only=True):
    KIND = "qa"
    type: Literal["status"] = "status"
    status: str
    label: str


# --- the 1-on-1 queue (``queue:<flavour>``) and chats (``chat:<flavour>:<id>``) --------------------------------------


class QueueChange(_Data, frozen=True, kw_only=True):
    KIND = "queue"
    event: Literal["joined", "accepted", "escalated", "reoffered", "left", "ended", "risk"]
    chat_id: str
    waiting: int
    longest_wait_s: int
    staff_on_shift: int


class QueueAlertBody(_Part, frozen=True, kw_only=True):
    kind: str
    text: str
    at: str  # ISO 8601
    chat_id: str | None


class QueueAlert(_Data, frozen=True, kw_only=True):
    KIND = "queue"
    event: Literal["alert"] = "alert"
    alert: QueueAlertBody


class QueueAlertCleared(_Data, frozen=True, kw_only=True):
    KIND = "queue"
    event: Literal["alert_cleared"] = "alert_cleared"
    kind: str


class ChatCrisis(_Data, frozen=True, kw_only=True):
    """The visitor's line at ``offset`` was flagged by the crisis detector."""

    KIND = "chat"
    event: Literal["crisis"] = "crisis"
    offset: int


class ChatAssigned(_Data, frozen=True, kw_only=True):
    KIND = "chat"
    event: Literal["assigned"] = "assigned"
    staff: str
    role: str


class ChatTransfer(_Data, frozen=True, kw_only=True):
    KIND = "chat"
    event: Literal["escalating", "consent_requested"]
    to: str


class ChatStep(_Data, frozen=True, kw_only=True):
    KIND = "chat"
    event: Literal["consent_given", "consent_declined", "ended", "reoffered"]


class ChatToolCard(_Data, frozen=True, kw_only=True):
    """The staff member suggests a published VitaliteitsMarkt entry: a card with its stable link."""

    KIND = "chat"
    event: Literal["tool_card"] = "tool_card"
    entry: str  # the entry's slug
    title: str
    kind: str  # the entry's kind: "app", "programma", "website", "boek", "hulplijn" or "lokaal"
    kind_label: str  # that kind in Dutch
    summary: str  # one line
    url: str  # /f/<flavour>/markt/<entry>
    staff: str
    role: str


# --- live notices (not stored) ---------------------------------------------------------------------------------------


class StaffOnShift(_Data, frozen=True, kw_only=True):
    """On ``queue:<flavour>`` after sign-ons and sign-offs."""

    KIND = "queue"
    staff_on_shift: int


class QueuePosition(_Data, frozen=True, kw_only=True):
    """To a waiting visitor after every queue change; ``estimated_wait_min`` is null with nobody on shift."""

    KIND = "queue"
    chat_id: str
    status: Literal["waiting"] = "waiting"
    position: int
    estimated_wait_min: int | None
    staff_on_shift: int


class ChatAccepted(_Data, frozen=True, kw_only=True):
    """To the visitor when a staff member took the chat."""

    KIND = "queue"
    chat_id: str
    status: Literal["active"] = "active"
    staff: str
    role: str


class StaffChatNotice(_Data, frozen=True, kw_only=True):
    """To a staff member's own user channel."""

    KIND = "chat"
    event: Literal["assigned", "taken_over", "visitor_gone"]
    chat_id: str


class CrisisAlert(_Data, frozen=True, kw_only=True):
    """To staff on shift: a crisis item waits."""

    KIND = "notification"
    type: Literal["crisis_alert"] = "crisis_alert"
    flavour: str
    item_id: str
    url: str
    context_url: str
    no_professional_on_shift: bool


StoredEvent = (
    SystemLine
    | MessageEdited
    | MessageDeleted
    | ForumPost
    | ForumPostEdited
    | ForumPostRemoved
    | AccountNotification
    | SpreekuurQuestionRejected
    | ModerationOutcome
    | ReportOutcome
    | ModerationUpdate
    | SpreekuurModeration
    | QaQuestion
    | QaMerged
    | QaAnswer
    | QaStatus
    | QueueChange
    | QueueAlert
    | QueueAlertCleared
    | ChatCrisis
    | ChatAssigned
    | ChatTransfer
    | ChatStep
    | ChatToolCard
)
"""Every stored server event (``do_emit``): kind ≠ "message"."""

LiveNotice = StaffOnShift | QueuePosition | ChatAccepted | StaffChatNotice | CrisisAlert
"""Every live notice (``do_notify``): not stored, no offset."""

STORED_EVENT_TYPES: tuple[type[_Data], ...] = get_args(StoredEvent)
LIVE_NOTICE_TYPES: tuple[type[_Data], ...] = get_args(LiveNotice)


# --- reading a data dict into its Struct ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _KindSchema:
    """The Structs of one kind: one, or several told apart by the value of ``field`` (None: the field is absent)."""

    field: str | None
    variants: Mapping[str | None, type[_Data]]

    def pick(self, kind: str, data: Mapping[str, Any]) -> type[_Data]:
        value = data.get(self.field) if self.field is not None else None
        cls = self.variants.get(value) if isinstance(value, str | None) else None
        if cls is None:
            raise EventSchemaError(f"{kind!r} events have no {self.field} {value!r}")
        return cls


_DISCRIMINATORS = ("event", "type", "status")


def _discriminator(classes: list[type[_Data]]) -> str | None:
    """The field whose Literal values tell the Structs of one kind apart."""
    if len(classes) == 1:
        return None
    for name in _DISCRIMINATORS:
        if any(_literal_values(cls, name) for cls in classes):
            return name
    raise TypeError(f"no discriminating field among {[c.__name__ for c in classes]}")


def _literal_values(cls: type[_Data], name: str) -> tuple[str, ...]:
    for f in msgspec.structs.fields(cls):
        if f.name == name and get_origin(f.type) is Literal:
            return tuple(str(v) for v in get_args(f.type))
    return ()


def _schemas(types: tuple[type[_Data], ...]) -> dict[str, _KindSchema]:
    by_kind: dict[str, list[type[_Data]]] = {}
    for cls in types:
        by_kind.setdefault(cls.KIND, []).append(cls)
    out: dict[str, _KindSchema] = {}
    for kind, classes in by_kind.items():
        field = _discriminator(classes)
        variants: dict[str | None, type[_Data]] = {}
        for cls in classes:
            values: tuple[str | None, ...] = _literal_values(cls, field) if field is not None else (None,)
            for value in values or (None,):
                if value in variants:
                    raise TypeError(f"{kind!r}: {variants[value].__name__} and {cls.__name__} overlap on {value!r}")
                variants[value] = cls
        out[kind] = _KindSchema(field, variants)
    return out


_STORED = _schemas(STORED_EVENT_TYPES)
_NOTICES = _schemas(LIVE_NOTICE_TYPES)

STORED_EVENT_KINDS: tuple[str, ...] = tuple(_STORED)
LIVE_NOTICE_KINDS: tuple[str, ...] = tuple(_NOTICES)


def _read(schemas: Mapping[str, _KindSchema], what: str, kind: str, data: object) -> Any:
    schema = schemas.get(kind)
    if schema is None:
        raise EventSchemaError(f"no {what} of kind {kind!r}")
    if not isinstance(data, Mapping):
        raise EventSchemaError(f"{kind!r} data must be an object, not {type(data).__name__}")
    cls = schema.pick(kind, data)
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        raise EventSchemaError(f"{kind!r} ({cls.__name__}): {exc}") from None


def stored_event(kind: str, data: object) -> StoredEvent:
    """The Struct a stored event of ``kind`` with this ``data`` is; raises :class:`EventSchemaError`."""
    event: StoredEvent = _read(_STORED, "stored event", kind, data)
    return event


def live_notice(kind: str, data: object) -> LiveNotice:
    """The Struct a live notice of ``kind`` with this ``data`` is; raises :class:`EventSchemaError`."""
    notice: LiveNotice = _read(_NOTICES, "live notice", kind, data)
    return notice


def event_data(event: StoredEvent | LiveNotice) -> dict[str, Any]:
    """The data dict of an event, as it is stored and encoded (unset fields left out)."""
    data: dict[str, Any] = msgspec.to_builtins(event)
    return data
