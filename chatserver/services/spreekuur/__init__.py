"""E-spreekuren: scheduling, the moderated question flow, the live Q&A stream, capacity and transcripts.

The package by concept: :mod:`.schedule` (sessions, phases, hosts, series, announcements), :mod:`.questions`
(asking, screening, moderation decisions, answers), :mod:`.seats` (capacity, channel facts, leaving),
:mod:`.transcripts` (the published report) and :mod:`.service`, which builds them into the one
:class:`SpreekuurService`. The pure rules are in :mod:`chatserver.domain.spreekuur` and the iCalendar feed in
:mod:`chatserver.domain.icalendar`; both are re-exported here for the modules that import them from here.
"""

from chatserver.domain.icalendar import ical_escape, ical_feed, ical_fold, ical_time
from chatserver.domain.spreekuur import (
    ANNOUNCE_LOOKBACK,
    CALENDAR_LIMIT,
    HOST_ROLES,
    MAX_ANSWER_CHARS,
    MAX_CAPACITY,
    MAX_DESCRIPTION_CHARS,
    MAX_DURATION,
    MAX_QUESTION_CHARS,
    MAX_REASON_CHARS,
    MAX_TITLE_CHARS,
    MIN_QUESTION_CHARS,
    MIN_TITLE_CHARS,
    PHASE_LABELS,
    SCHEDULER_ROLES,
    SEAT_RETENTION,
    SERIES_WEEKS,
    Asked,
    Phase,
    Schedule,
    Seats,
    can_schedule,
    clean_text,
    phase_of,
    public_question,
    role_label,
    staff_question,
    transcript_markdown,
)
from chatserver.services.spreekuur.refusals import FULL_DETAIL, NOT_FOUND, SpreekuurError
from chatserver.services.spreekuur.service import SpreekuurService

__all__ = [
    "ANNOUNCE_LOOKBACK",
    "CALENDAR_LIMIT",
    "FULL_DETAIL",
    "HOST_ROLES",
    "MAX_ANSWER_CHARS",
    "MAX_CAPACITY",
    "MAX_DESCRIPTION_CHARS",
    "MAX_DURATION",
    "MAX_QUESTION_CHARS",
    "MAX_REASON_CHARS",
    "MAX_TITLE_CHARS",
    "MIN_QUESTION_CHARS",
    "MIN_TITLE_CHARS",
    "NOT_FOUND",
    "PHASE_LABELS",
    "SCHEDULER_ROLES",
    "SEAT_RETENTION",
    "SERIES_WEEKS",
    "Asked",
    "Phase",
    "Schedule",
    "Seats",
    "SpreekuurError",
    "SpreekuurService",
    "can_schedule",
    "clean_text",
    "ical_escape",
    "ical_feed",
    "ical_fold",
    "ical_time",
    "phase_of",
    "public_question",
    "role_label",
    "staff_question",
    "transcript_markdown",
]
