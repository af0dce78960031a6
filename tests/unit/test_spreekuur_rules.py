"""The pure spreekuur rules: phases, seats, hosts, what visitors and moderators see, the iCalendar feed, transcripts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from chatserver.config import PROJECT_ROOT
from chatserver.domain.icalendar import ical_escape, ical_feed, ical_fold
from chatserver.domain.identity import AccountId, Actor
from chatserver.domain.spreekuur import (
    SEAT_RETENTION,
    Seats,
    can_schedule,
    clean_text,
    crisis_notice,
    is_host_of,
    may_host,
    next_weekdays,
    phase_of,
    public_question,
    seat_expiry,
    staff_question,
    transcript_markdown,
)
from chatserver.flavours import load_catalog
from chatserver.protocol.events import QaAnswer, QaQuestion, SpreekuurModeration, event_data

CATALOG = load_catalog(PROJECT_ROOT / "flavours")
NOW = datetime(2030, 1, 9, 12, 0, tzinfo=UTC)
SESSION: dict[str, Any] = {
    "_id": "s1",
    "title": "Vragen over slaap",
    "description": "Een psychiater antwoordt.",
    "starts_at": NOW + timedelta(hours=1),
    "ends_at": NOW + timedelta(hours=2),
    "host_id": "host1",
    "host_pseudonym": "DrSlaap",
}
QUESTION: dict[str, Any] = {
    "_id": "q1",
    "spreekuur_id": "s1",
    "text": "Helpt een vast ritme?",
    "author_id": "acc-1",
    "author_pseudonym": "Zonnebloem",
    "show_name": False,
    "status": "approved",
    "crisis": False,
    "phase": "before",
    "merged_count": 2,
    "answer": {"text": "Ja, vaak.", "host": "DrSlaap", "role": "Professional", "at": NOW},
}


@pytest.mark.parametrize(
    ("changes", "now", "phase"),
    [
        ({}, NOW, "waiting"),
        ({}, NOW + timedelta(hours=1), "live"),
        ({}, NOW + timedelta(hours=2), "ended"),
        ({"opened_at": NOW}, NOW, "live"),
        ({"closed_at": NOW}, NOW, "ended"),
        ({"cancelled": True}, NOW + timedelta(hours=1), "cancelled"),
        # MongoDB hands back naive UTC datetimes
        ({"starts_at": datetime(2030, 1, 9, 11, 0), "ends_at": datetime(2030, 1, 9, 13, 0)}, NOW, "live"),
    ],
)
def test_the_phase_follows_the_clock_and_the_host(changes: dict[str, Any], now: datetime, phase: str) -> None:
    assert phase_of({**SESSION, **changes}, now) == phase


def test_a_session_is_full_only_for_someone_without_a_seat_when_none_is_free() -> None:
    assert Seats(2, 2, seated=False).full
    assert not Seats(2, 2, seated=True).full  # a holder keeps their seat
    assert not Seats(2, 1, seated=False).full
    assert not Seats(2, 0, seated=False, counted=False).full  # an unreachable counter refuses nobody
    assert Seats(2, 5, seated=True).remaining == 0


def test_seats_expire_a_little_after_the_planned_end() -> None:
    assert seat_expiry(SESSION, NOW) == SESSION["ends_at"] + SEAT_RETENTION
    later = NOW + timedelta(hours=3)
    assert seat_expiry(SESSION, later) == later + SEAT_RETENTION  # an end in the past counts from now


def test_who_schedules_and_who_hosts() -> None:
    editor = Actor(AccountId("e1"), "redactie", "staff", role="editor", flavours=frozenset({"psychosenet"}))
    volunteer = Actor(AccountId("v1"), "vrijwilliger", "staff", role="volunteer", flavours=frozenset({"psychosenet"}))
    admin = Actor(AccountId("a1"), "beheer", "staff", role="admin")
    assert can_schedule(editor) and can_schedule(admin)
    assert not can_schedule(volunteer) and not can_schedule(None)
    assert is_host_of(Actor(AccountId("host1"), "DrSlaap", "staff", role="professional"), SESSION)
    assert is_host_of(admin, SESSION) and not is_host_of(editor, SESSION)
    professional = {"verified": True, "role": "professional", "flavours": ["psychosenet"]}
    assert may_host(professional, "psychosenet")
    assert not may_host(professional, "proud2bme")
    assert not may_host({**professional, "verified": False}, "psychosenet")
    assert not may_host({**professional, "role": "volunteer"}, "psychosenet")


def test_visitors_see_no_account_and_a_name_only_when_the_asker_chose_it() -> None:
    hidden = public_question(QUESTION)
    assert hidden.asker is None and hidden.merged_count == 2
    assert public_question({**QUESTION, "show_name": True}).asker == "Zonnebloem"
    assert public_question({**QUESTION, "answer": None}).answer is None
    # The wire format is the dict the feature built before the Structs existed, in the same order.
    data = event_data(QaQuestion(question=hidden))
    assert list(data) == ["type", "question"]
    assert data["question"] == {
        "id": "q1",
        "text": "Helpt een vast ritme?",
        "asker": None,
        "merged_count": 2,
        "answer": {"text": "Ja, vaak.", "host": "DrSlaap", "role": "Professional"},
    }
    answer = event_data(QaAnswer(question_id="q1", answer=hidden.answer))
    assert answer == {"type": "answer", "question_id": "q1", "answer": data["question"]["answer"]}
    assert b"acc-1" not in msgspec.json.encode(QaQuestion(question=hidden))


def test_moderators_see_the_pseudonym_but_never_the_account() -> None:
    seen = event_data(SpreekuurModeration(event="new", spreekuur_id="s1", question=staff_question(QUESTION)))
    assert seen["question"] == {
        "id": "q1",
        "text": "Helpt een vast ritme?",
        "asker": "Zonnebloem",
        "show_name": False,
        "status": "approved",
        "crisis": False,
        "phase": "before",
    }


def test_ical_text_is_escaped_and_folded_without_splitting_a_character() -> None:
    assert ical_escape("a;b,c\\d\r\ne") == "a\\;b\\,c\\\\d\\ne"
    folded = ical_fold("SUMMARY:" + "é" * 60)
    lines = folded.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert "".join(line.removeprefix(" ") if n else line for n, line in enumerate(lines)) == "SUMMARY:" + "é" * 60


def test_the_feed_lists_each_session_with_utc_times_and_its_status() -> None:
    flavour = CATALOG.get("psychosenet")
    assert flavour is not None
    feed = ical_feed(flavour, [SESSION, {**SESSION, "_id": "s2", "cancelled": True}], "https://x/spreekuur", NOW, "x")
    assert feed.startswith("BEGIN:VCALENDAR\r\n") and feed.endswith("END:VCALENDAR\r\n")
    assert "\n" not in feed.replace("\r\n", "")
    assert feed.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20300109T130000Z" in feed and "UID:spreekuur-s1@x" in feed
    assert "STATUS:CONFIRMED" in feed and "STATUS:CANCELLED" in feed


def test_a_transcript_draft_holds_the_answered_questions_only() -> None:
    unanswered = {**QUESTION, "_id": "q2", "text": "Nog open?", "answer": None}
    text = transcript_markdown(SESSION, [QUESTION, unanswered])
    assert text.startswith("Verslag van het e-spreekuur van 09-01-2030 met DrSlaap.")
    assert "## Helpt een vast ritme?\n\nJa, vaak." in text and "Nog open?" not in text


def test_series_dates_fall_on_the_weekday_from_today_on() -> None:
    wednesday = date(2030, 1, 9)
    assert next_weekdays(wednesday, 2, 2) == [wednesday, date(2030, 1, 16)]
    assert next_weekdays(wednesday, 0, 1) == [date(2030, 1, 14)]


def test_clean_text_keeps_lines_and_drops_control_and_format_characters() -> None:
    assert clean_text(" Hallo\r\nwereld\u200b\x00 ", 100) == "Hallo\nwereld"
    assert clean_text("abcdef", 3) == "abc"


def test_the_crisis_notice_names_the_help_lines_and_for_young_people_the_kindertelefoon() -> None:
    youth = next(f for f in CATALOG if f.youth)
    adult = next(f for f in CATALOG if not f.youth)
    assert "113" in crisis_notice(adult) and "112" in crisis_notice(adult)
    assert "Kindertelefoon" in crisis_notice(youth) and "Kindertelefoon" not in crisis_notice(adult)
