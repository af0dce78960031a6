"""Server events are closed Structs: every kind round-trips, unknown fields are refused, the bytes did not change."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from chatserver.ports import DuplicateEvents
from chatserver.protocol import Event, Notice, encode_frame, kind_event
from chatserver.protocol.events import (
    LIVE_NOTICE_TYPES,
    STORED_EVENT_TYPES,
    AccountNotification,
    ChatAssigned,
    EventSchemaError,
    MessageEdited,
    QueueChange,
    QueuePosition,
    SystemLine,
    event_data,
    live_notice,
    stored_event,
)
from chatserver.protocol.frames import EVENT_KINDS, NoticeFrame, StoredEventFrame
from chatserver.services.chat import Acked, ChatService
from tests.events_capture import CapturedEvents

ITEM = {
    "id": "a1b2c3",
    "flavour": "psychosenet",
    "source": "report",
    "tier": "peer_expert",
    "tier_rank": 1,
    "severity": "normal",
    "severity_rank": 1,
    "state": "open",
    "claimed_by": None,
    "claimed_name": "",
    "decision": None,
    "created_at": 1767225600123,
    "target_s": 3600,
    "crisis": False,
    "no_professional_on_shift": False,
    "context_url": "/backoffice/moderatie/a1b2c3",
}
STAFF_QUESTION = {
    "id": "q1",
    "text": "Hoe slaap je beter?",
    "asker": "Merel",
    "show_name": True,
    "status": "pending",
    "crisis": False,
    "phase": "before",
}
ANSWER = {"text": "Vaste tijden helpen.", "host": "Anna", "role": "Professional"}
PUBLIC_QUESTION = {"id": "q1", "text": "Hoe slaap je beter?", "asker": None, "merged_count": 2, "answer": ANSWER}
RESOURCE = {"name": "113", "description": "Zelfmoordpreventie", "phone": "113", "url": "https://113.nl", "chat_url": ""}

# The data dicts as the features build them (kind, data), one per shape.
STORED: list[tuple[str, dict[str, Any]]] = [
    ("system", {"text": "Welkom!"}),
    ("system", {"text": "De host heeft de ruimte geopend. Welkom!", "room_open": True}),
    ("edit", {"offset": 45, "text": "Nieuwe tekst"}),
    ("edit", {"offset": 45, "text": "Oude tekst", "sender": "verwijderd account"}),
    ("edit", {"offset": 45, "sender": "verwijderd account"}),
    ("delete", {"offset": 45}),
    ("post", {"post_id": "p1", "thread_id": "t1", "author": "Merel", "role": None, "fragment": "/f/x/forum/t/t1/p/p1"}),
    ("post", {"post_id": "p1", "thread_id": "t1", "author": "Anna", "role": "Professional", "fragment": "/p"}),
    ("post_edited", {"post_id": "p1", "fragment": "/f/x/forum/t/t1/p/p1"}),
    ("post_removed", {"post_id": "p1", "fragment": "/f/x/forum/t/t1/p/p1"}),
    ("notification", {"text": "Nieuwe reactie van Merel in “Slapen”", "url": "/f/x/forum/t/t1/p/p1"}),
    ("notification", {"type": "spreekuur_question_rejected", "text": "Je vraag is niet geplaatst.", "url": "/f/x/"}),
    (
        "notification",
        {
            "type": "moderation",
            "decision": "hide",
            "title": "Je bericht is verborgen.",
            "reason": "Regel 3",
            "flavour": "psychosenet",
            "resources": [RESOURCE],
            "item_id": "a1b2c3",
        },
    ),
    (
        "notification",
        {
            "type": "moderation",
            "decision": "mute",
            "title": "Je bent gedempt.",
            "reason": "Regel 3",
            "flavour": "psychosenet",
            "resources": [],
            "item_id": "a1b2c3",
            "until": "2026-12-07T10:45:00+00:00",
            "until_text": "7-12-2026 om 11:45",
            "text": "Je kunt tot 7-12-2026 om 11:45 niets sturen.",
        },
    ),
    (
        "notification",
        {"type": "report_outcome", "decision": "hide", "title": "Dank je", "flavour": "x", "item_id": "a1"},
    ),
    ("moderation", {"event": "new", "item": ITEM}),
    ("moderation", {"event": "decided", "item": {**ITEM, "state": "decided", "decision": "approve"}}),
    ("spreekuur", {"event": "new", "spreekuur_id": "s1", "question": STAFF_QUESTION}),
    ("qa", {"type": "question", "question": PUBLIC_QUESTION}),
    ("qa", {"type": "question", "question": {**PUBLIC_QUESTION, "answer": None, "asker": "Merel"}}),
    ("qa", {"type": "merged", "into": "q1", "merged_count": 3}),
    ("qa", {"type": "answer", "question_id": "q1", "answer": ANSWER}),
    ("qa", {"type": "status", "status": "live", "label": "Nu live"}),
    (
        "queue",
        {"event": "joined", "chat_id": "c1", "waiting": 3, "longest_wait_s": 120, "staff_on_shift": 2},
    ),
    (
        "queue",
        {
            "event": "alert",
            "alert": {"kind": "wait", "text": "Lang wachten", "at": "2026-01-01T10:00:00+00:00", "chat_id": None},
        },
    ),
    ("queue", {"event": "alert_cleared", "kind": "coverage"}),
    ("chat", {"event": "crisis", "offset": 12}),
    ("chat", {"event": "assigned", "staff": "Anna", "role": "Professional"}),
    ("chat", {"event": "escalating", "to": "een professional"}),
    ("chat", {"event": "consent_requested", "to": "een professional"}),
    ("chat", {"event": "consent_given"}),
    ("chat", {"event": "ended"}),
    (
        "chat",
        {
            "event": "tool_card",
            "entry": "rustpunt-app",
            "title": "Rustpunt",
            "kind": "app",
            "kind_label": "App",
            "summary": "Korte ademoefeningen voor onrustige avonden.",
            "url": "/f/psychosenet/markt/rustpunt-app",
            "staff": "Vera",
            "role": "Vrijwilliger",
        },
    ),
]
NOTICES: list[tuple[str, dict[str, Any]]] = [
    ("queue", {"staff_on_shift": 2}),
    (
        "queue",
        {"chat_id": "c1", "status": "waiting", "position": 1, "estimated_wait_min": None, "staff_on_shift": 0},
    ),
    ("queue", {"chat_id": "c1", "status": "active", "staff": "Anna", "role": "Professional"}),
    ("chat", {"event": "taken_over", "chat_id": "c1"}),
    (
        "notification",
        {
            "type": "crisis_alert",
            "flavour": "x",
            "item_id": "a1",
            "url": "/backoffice/moderatie/a1",
            "context_url": "/backoffice/oneonone/c1#bericht-4",
            "no_professional_on_shift": True,
        },
    ),
]


def _ids(samples: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [
        f"{kind}-{data.get('event') or data.get('type') or data.get('status') or i}"
        for i, (kind, data) in enumerate(samples)
    ]


def test_every_event_struct_has_a_sample_here() -> None:
    assert {type(stored_event(k, d)) for k, d in STORED} == set(STORED_EVENT_TYPES)
    assert {type(live_notice(k, d)) for k, d in NOTICES} == set(LIVE_NOTICE_TYPES)
    assert set(EVENT_KINDS) == {"message", *(k for k, _ in STORED)}


@pytest.mark.parametrize(("kind", "data"), STORED, ids=_ids(STORED))
def test_a_stored_event_round_trips_and_encodes_to_the_same_bytes(kind: str, data: dict[str, Any]) -> None:
    event = stored_event(kind, data)
    assert kind == event.KIND
    assert event_data(event) == data
    assert msgspec.json.encode(event) == msgspec.json.encode(data)
    # The whole frame, as subscribers and replays get it.
    old = kind_event("room:x:y", 7, "e1", kind, data, 1767225600123)
    frame: StoredEventFrame = Event(channel="room:x:y", offset=7, epoch="e1", kind=kind, data=event, ts=1767225600123)
    assert encode_frame(frame) == old
    assert kind_event("room:x:y", 7, "e1", event.KIND, event_data(event), 1767225600123) == old
    assert stored_event(kind, msgspec.json.decode(old)["data"]) == event


@pytest.mark.parametrize(("kind", "data"), NOTICES, ids=_ids(NOTICES))
def test_a_notice_round_trips_and_encodes_to_the_same_bytes(kind: str, data: dict[str, Any]) -> None:
    notice = live_notice(kind, data)
    assert kind == notice.KIND
    assert event_data(notice) == data
    frame: NoticeFrame = Notice(channel="user:a1", kind=kind, data=notice)
    assert encode_frame(frame) == encode_frame(Notice(channel="user:a1", kind=kind, data=data))
    assert live_notice(kind, msgspec.json.decode(encode_frame(frame))["data"]) == notice


@pytest.mark.parametrize(("kind", "data"), STORED, ids=_ids(STORED))
def test_an_unknown_field_is_refused(kind: str, data: dict[str, Any]) -> None:
    with pytest.raises(EventSchemaError, match="unknown field"):
        stored_event(kind, {**data, "surprise": 1})


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("moderation", {"event": "new", "item": {**ITEM, "text": "the message itself"}}),  # nested objects are closed
        ("system", {}),  # a required field missing
        ("edit", {"offset": "45"}),  # a wrong type
        ("edit", {"offset": 45, "text": None}),  # absent is not null
        ("queue", {"event": "exploded", "chat_id": "c1"}),  # an unknown discriminator value
        ("chat", {"to": "een professional"}),  # no discriminator where one is needed
        ("moderation", {"event": "vanished", "item": ITEM}),  # a value outside the Literal
        ("whatever", {"text": "hi"}),  # an unknown kind
        ("message", {"text": "hi"}),  # chat messages are not server events
        ("system", ["not", "an", "object"]),
    ],
)
def test_data_outside_the_schemas_is_a_value_error(kind: str, data: Any) -> None:
    with pytest.raises(ValueError):  # EventSchemaError is one
        stored_event(kind, data)


def test_a_stored_shape_is_not_a_notice_and_the_other_way_round() -> None:
    with pytest.raises(EventSchemaError):
        live_notice("chat", {"event": "assigned", "staff": "Anna", "role": "Professional"})
    with pytest.raises(EventSchemaError):
        stored_event("chat", {"event": "taken_over", "chat_id": "c1"})


def test_the_structs_are_frozen_and_name_their_kind() -> None:
    line = SystemLine(text="Welkom!")
    with pytest.raises(AttributeError):
        line.text = "anders"  # type: ignore[misc]
    assert (MessageEdited.KIND, QueueChange.KIND, ChatAssigned.KIND, AccountNotification.KIND) == (
        "edit",
        "queue",
        "chat",
        "notification",
    )
    assert msgspec.json.encode(MessageEdited(offset=3, sender="verwijderd account")) == (
        b'{"offset":3,"sender":"verwijderd account"}'
    )
    position = QueuePosition(chat_id="c1", position=2, estimated_wait_min=5, staff_on_shift=1)
    assert msgspec.json.encode(position) == (
        b'{"chat_id":"c1","status":"waiting","position":2,"estimated_wait_min":5,"staff_on_shift":1}'
    )


class _Port:
    """Enough of a port for a ChatService that never reaches its backends in these tests."""

    unavailable_errors: tuple[type[Exception], ...] = (OSError,)


def _chat_without_backends(monkeypatch: pytest.MonkeyPatch) -> tuple[ChatService, list[tuple[str, str, Any]]]:
    chat = ChatService(_Port(), _Port(), _Port(), _Port(), None, None, str, counter=_Port())  # type: ignore[arg-type]
    queued: list[tuple[str, str, Any]] = []

    async def enqueue(actor: Any, channel: str, client_msg_id: Any, kind: str, data: Any, turn: Any = None) -> Acked:
        queued.append((channel, kind, data))
        return Acked(channel, len(queued), "e1")

    monkeypatch.setattr(chat, "_enqueue", enqueue)
    return chat, queued


async def test_do_emit_checks_the_dict_and_stores_what_emit_would(monkeypatch: pytest.MonkeyPatch) -> None:
    chat, queued = _chat_without_backends(monkeypatch)
    await chat.do_emit("room:x:y", "edit", {"offset": 4, "text": "nieuw"})
    await chat.emit("room:x:y", MessageEdited(offset=4, text="nieuw"))
    assert queued == [("room:x:y", "edit", {"offset": 4, "text": "nieuw"})] * 2
    with pytest.raises(ValueError):
        await chat.do_emit("room:x:y", "edit", {"offset": 4, "text": "nieuw", "by": "Merel"})
    with pytest.raises(ValueError):
        await chat.do_emit("room:x:y", "gossip", {"text": "psst"})
    with pytest.raises(ValueError):
        await chat.do_notify("user:a1", "queue", {"staff_on_shift": "twee"})
    assert len(queued) == 2  # nothing refused was queued


async def test_captured_events_records_emit_and_do_emit_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    chat, queued = _chat_without_backends(monkeypatch)
    captured = CapturedEvents().watch(chat)
    try:
        await chat.do_emit("room:x:y", "system", {"text": "Welkom!"})
        await chat.emit("room:x:y", MessageEdited(offset=4, text="nieuw"))
        assert captured.stored() == [
            ("room:x:y", SystemLine(text="Welkom!")),
            ("room:x:y", MessageEdited(offset=4, text="nieuw")),
        ]
        assert captured.kinds() == ["system", "edit"]
        assert captured.of(MessageEdited) == [("room:x:y", MessageEdited(offset=4, text="nieuw"))]
        assert len(queued) == 2  # still stored as usual
    finally:
        captured._restore()
    assert "emit" not in vars(chat)


def test_duplicate_events_is_the_port_exception_the_store_raises() -> None:
    from chatserver.adapters.event_store import DuplicateEvents as FromTheAdapter

    assert FromTheAdapter is DuplicateEvents
