"""The spreekuur service: the schedule, the questions, the seats and the transcripts of e-spreekuren, built together
and offered as one door (the pages, the live channel resolver, the moderation handler and the jobs use it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatserver.flavours import FlavourCatalog
from chatserver.ports import AccountStore, Clock, SeatStore, SpreekuurStore
from chatserver.ports.reflectie import Counter
from chatserver.services.spreekuur.questions import QuestionDesk
from chatserver.services.spreekuur.schedule import SessionSchedule
from chatserver.services.spreekuur.seats import Seating
from chatserver.services.spreekuur.transcripts import Transcripts

if TYPE_CHECKING:
    from chatserver.services.chat import ChatService
    from chatserver.services.content import ContentService
    from chatserver.services.moderation import ModerationService


class SpreekuurService:
    """The only door to spreekuren and their questions.

    Each concept is its own object (``sessions``, ``questions``, ``seating``, ``transcripts``); their use cases are
    also reachable here by name, so callers need not know which concept owns which.
    """

    def __init__(
        self,
        repo: SpreekuurStore,
        catalog: FlavourCatalog,
        *,
        chat: ChatService,
        accounts: AccountStore,
        moderation: ModerationService,
        content: ContentService,
        clock: Clock,
        counter: Counter,
        seats: SeatStore | None = None,
    ) -> None:
        self.repo = repo
        # Without a seat store (no Redis) the capacity is shown but not enforced.
        self.seat_store = seats
        self.catalog = catalog
        self.clock = clock
        self.seating = Seating(repo, seats, clock, counter)
        self.sessions = SessionSchedule(repo, catalog, accounts, chat, self.seating, clock)
        self.questions = QuestionDesk(repo, catalog, chat, moderation, self.sessions, self.seating, clock, counter)
        self.transcripts = Transcripts(repo, content, self.sessions, clock)

        # the schedule: access, scheduling, series, reading, host controls and status announcements
        sessions = self.sessions
        self.public_get = sessions.public_get
        self.staff_get = sessions.staff_get
        self.phase = sessions.phase
        self.scheduler_flavours = sessions.scheduler_flavours
        self.hosts = sessions.hosts
        self.check_schedule = sessions.check_schedule
        self.schedule = sessions.schedule
        self.update = sessions.update
        self.cancel = sessions.cancel
        self.seed_series = sessions.seed_series
        self.seed_series_for = sessions.seed_series_for
        self.upcoming = sessions.upcoming
        self.past = sessions.past
        self.staff_list = sessions.staff_list
        self.position = sessions.position
        self.open_now = sessions.open_now
        self.close_now = sessions.close_now
        self.announce_due = sessions.announce_due
        self.announce_round = sessions.announce_round
        # the questions: asking, decisions, answers, the lists
        questions = self.questions
        self.ask = questions.ask
        self.approve = questions.approve
        self.reject = questions.reject
        self.merge = questions.merge
        self.answer = questions.answer
        self.apply_moderation_decision = questions.apply_moderation_decision
        self.on_moderation_decision = questions.on_moderation_decision
        self.stream = questions.stream
        self.pending = questions.pending
        self.approved = questions.approved
        self.mine = questions.mine
        self.question_in = questions.question_in
        # the seats: counting, taking, the live channel's facts, leaving
        self.seats = self.seating.seats
        self.take_seat = self.seating.take_seat
        self.join = self.seating.join
        self.channel_facts = self.seating.channel_facts
        self.resolve_channel = self.seating.resolve_channel
        self.on_last_leave = self.seating.on_last_leave
        # the transcripts
        self.transcript_draft = self.transcripts.transcript_draft
        self.publish_transcript = self.transcripts.publish_transcript
