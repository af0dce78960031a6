"""E-spreekuren, the pure rules: a session's phase, who schedules and hosts, the limits of the forms, what visitors
and moderators see of a question, the seats as one visitor sees them, and a transcript's first draft.

No I/O: the services in :mod:`chatserver.services.spreekuur` read and write the documents these functions look at.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from chatserver.domain.identity import ROLE_LABELS, Actor
from chatserver.flavours import TIMEZONE, Flavour
from chatserver.i18n import N_
from chatserver.protocol.events import PublicAnswer, PublicQuestion, StaffQuestion

Phase = Literal["waiting", "live", "ended", "cancelled"]
SessionDoc = Mapping[str, Any]
"""A stored session or question, field names as in the database."""

PHASE_LABELS: dict[str, str] = {
    "waiting": N_("Binnenkort"),
    "live": N_("Nu live"),
    "ended": N_("Afgelopen"),
    "cancelled": N_("Gaat niet door"),
}
SCHEDULER_ROLES = frozenset({"editor", "admin"})
HOST_ROLES = frozenset({"peer_expert", "professional"})
MAX_TITLE_CHARS = 150
MIN_TITLE_CHARS = 3
MAX_DESCRIPTION_CHARS = 2000
MAX_QUESTION_CHARS = 2000
MIN_QUESTION_CHARS = 5
MAX_ANSWER_CHARS = 4000
MAX_REASON_CHARS = 500
MAX_TRANSCRIPT_CHARS = 40_000
MAX_CAPACITY = 10_000
MAX_DURATION = timedelta(hours=8)
SERIES_WEEKS = 4
SERIES_CAPACITY = 200
CALENDAR_LIMIT = 50
ANNOUNCE_LOOKBACK = timedelta(hours=12)
SEAT_RETENTION = timedelta(minutes=10)  # seats expire this long after the planned end (clock skew margin)


@dataclass(frozen=True, slots=True)
class Seats:
    """The seats of a session as one visitor sees them.

    ``seated``: this actor may take part (is staff, holds a seat, or, when only counted, one is free);
    ``counted``: False when Redis could not be asked (then nobody is refused and no number is shown).
    """

    capacity: int
    taken: int
    seated: bool
    counted: bool = True

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.taken)

    @property
    def full(self) -> bool:
        """No seat for this actor: none held and none free."""
        return self.counted and not self.seated and self.remaining == 0


@dataclass(frozen=True, slots=True)
class Schedule:
    """What the scheduling form holds; checked by ``SpreekuurService.check_schedule``."""

    flavour: str
    host_id: str
    title: str
    description: str
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int


@dataclass(frozen=True, slots=True)
class Asked:
    """The outcome of sending a question: stored (pending), held for a crisis, or refused (not stored)."""

    status: Literal["pending", "held", "refused"]
    notice: str
    question_id: str = ""


def clean_text(value: str, limit: int) -> str:
    """Trimmed, capped, NFC text without lone surrogates or control characters (newlines and tabs kept)."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))
    return value.replace("\r", "").strip()[:limit]


def aware(value: datetime) -> datetime:
    """MongoDB returns naive UTC datetimes; make them aware."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def phase_of(doc: SessionDoc, now: datetime) -> Phase:
    if doc.get("cancelled"):
        return "cancelled"
    if doc.get("closed_at") is not None or now >= aware(doc["ends_at"]):
        return "ended"
    if doc.get("opened_at") is not None or now >= aware(doc["starts_at"]):
        return "live"
    return "waiting"


def can_schedule(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff and actor.role in SCHEDULER_ROLES


def is_host_of(actor: Actor, doc: SessionDoc) -> bool:
    """The session's host, or an admin (who may stand in for any host)."""
    return actor.account_id == doc.get("host_id") or actor.is_admin


def may_host(account: SessionDoc, flavour: str) -> bool:
    """A verified peer expert or professional of ``flavour``."""
    return (
        bool(account.get("verified"))
        and account.get("role") in HOST_ROLES
        and flavour in (account.get("flavours") or ())
    )


def seat_expiry(doc: SessionDoc, now: datetime) -> datetime:
    """When the seat set of a session goes by itself: a little after the planned end (or after now, if later)."""
    return max(aware(doc["ends_at"]), now) + SEAT_RETENTION


def public_answer(doc: SessionDoc) -> PublicAnswer | None:
    answer = doc.get("answer") or None
    if not answer:
        return None
    return PublicAnswer(text=answer["text"], host=answer.get("host", ""), role=answer.get("role", ""))


def public_question(doc: SessionDoc) -> PublicQuestion:
    """What every visitor may see of an approved question: no account id, a name only when the asker chose it."""
    return PublicQuestion(
        id=doc["_id"],
        text=doc["text"],
        asker=doc.get("author_pseudonym") if doc.get("show_name") else None,
        merged_count=int(doc.get("merged_count", 0)),
        answer=public_answer(doc),
    )


def staff_question(doc: SessionDoc) -> StaffQuestion:
    """What moderators see of a question (never the account id)."""
    return StaffQuestion(
        id=doc["_id"],
        text=doc["text"],
        asker=doc.get("author_pseudonym", ""),
        show_name=bool(doc.get("show_name")),
        status=doc.get("status", ""),
        crisis=bool(doc.get("crisis")),
        phase=doc.get("phase", ""),
    )


# i18n: a draft for the editor, who publishes it in the community's language
def transcript_markdown(doc: SessionDoc, questions: Sequence[SessionDoc]) -> str:
    """The approved, answered Q&A as Markdown, for the editor to edit before publishing."""
    local = aware(doc["starts_at"]).astimezone(TIMEZONE)
    host = doc.get("host_pseudonym") or N_("de host")
    parts = [
        f"Verslag van het e-spreekuur van {local:%d-%m-%Y} met {host}.",
        "",
        doc.get("description", ""),
    ]
    for q in questions:
        answer = q.get("answer")
        if not answer:
            continue
        question = q["text"].replace("\n", " ").strip()
        parts += ["", f"## {question}", "", answer["text"].strip()]
    return "\n".join(parts).strip() + "\n"


def next_weekdays(today: date, weekday: int, weeks: int) -> list[date]:
    """The next ``weeks`` dates that fall on ``weekday`` (0 = Monday), today included."""
    first = today + timedelta(days=(weekday - today.weekday()) % 7)
    return [first + timedelta(weeks=n) for n in range(weeks)]


def crisis_notice(flavour: Flavour) -> str:
    """What the asker of a question that signals a crisis reads at once (help lines; the question waits)."""
    lines = [
        N_(
            "Dank je dat je dit deelt. Je vraag klinkt alsof het nu erg zwaar is. Een professional van ons team "
            "leest je vraag zo snel mogelijk. Wacht daar niet op als je aan zelfdoding denkt of in gevaar bent:"
        ),
        N_("bel 113 of gratis 0800-0113, of chat op 113.nl (113 Zelfmoordpreventie); bij acuut gevaar bel 112."),
    ]
    if flavour.youth:
        lines.append(N_("Ben je jonger dan 18? Bel ook gerust De Kindertelefoon: 0800-0432."))
    return " ".join(lines)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, "")
