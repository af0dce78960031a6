"""Members' test reports on market entries: pseudonymous, one per member per entry, editable, pre-moderated.

Every report (and every edit) goes to the moderation queue through the moderation service, screened by the
flavour's rules and the crisis detector like any other text; what a moderator decides comes back through
:meth:`Reports.on_decision` (registered for ``markt_report``). While an edit waits, the last approved version
stays visible. An approved report is shown in each flavour of the entry whose rules allow its text.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatserver.clock import Clock
from chatserver.domain import markt as rules
from chatserver.domain.identity import AccountId, Actor
from chatserver.domain.markt import clean_text
from chatserver.flavours import Flavour, FlavourCatalog
from chatserver.i18n import N_
from chatserver.ports.markt import Document, MarktStore, ReportExists
from chatserver.services.markt.errors import MarktError, not_found
from chatserver.services.moderation import ItemRef, crisis_notice

if TYPE_CHECKING:
    from chatserver.services.moderation import ModerationItemView, ModerationService
    from moderation.queue import Decision, ItemSource
    from moderation.rules import Verdict

log = logging.getLogger("chatserver.markt.reports")

KIND = "markt_report"
MIN_HELPED = 10
MAX_HELPED = 1000
MAX_NOT_FOR = 500
SHOWN_REPORTS = 50
PUBLISH_KINDS = frozenset({"approve", "release", "redact"})
HIDE_KINDS = frozenset({"hide", "ban"})
WAIT_NOTICE = N_("Dank je wel! Een moderator leest je ervaring eerst; daarna verschijnt ze onder je schuilnaam.")


@dataclass(frozen=True, slots=True)
class ReportAnswers:
    helped_with: str
    ease: int
    recommend: str
    not_for: str
    used_for: str

    def as_doc(self) -> dict[str, Any]:
        return {"helped_with": self.helped_with, "ease": self.ease, "recommend": self.recommend,
                "not_for": self.not_for, "used_for": self.used_for}  # fmt: skip

    @property
    def text(self) -> str:
        """What moderation screens: the member's own words."""
        return f"{self.helped_with}\n\n{self.not_for}".strip()


@dataclass(frozen=True, slots=True)
class Written:
    report: Document
    notice: str
    crisis: bool = False


def check_answers(values: Mapping[str, str]) -> ReportAnswers:
    helped = clean_text(str(values.get("helped_with", "")), MAX_HELPED + 1)
    if len(helped) < MIN_HELPED:
        too_short = N_("Vertel in minstens %s tekens waarbij het je hielp (of niet).") % MIN_HELPED
        raise MarktError("helped_with", 422, too_short, "helped_with")
    if len(helped) > MAX_HELPED:
        raise MarktError("helped_with", 422, N_("Hoogstens %s tekens, alsjeblieft.") % MAX_HELPED, "helped_with")
    ease = str(values.get("ease", "")).strip()
    if not ease.isdigit() or not rules.SCORE_MIN <= int(ease) <= rules.SCORE_MAX:
        raise MarktError("ease", 422, N_("Kies hoe makkelijk het in gebruik was (1 tot 5)."), "ease")
    recommend = str(values.get("recommend", ""))
    if recommend not in rules.RECOMMEND:
        raise MarktError("recommend", 422, N_("Kies of je het zou aanraden: ja, misschien of nee."), "recommend")
    not_for = clean_text(str(values.get("not_for", "")), MAX_NOT_FOR + 1)
    if len(not_for) > MAX_NOT_FOR:
        raise MarktError("not_for", 422, N_("Hoogstens %s tekens, alsjeblieft.") % MAX_NOT_FOR, "not_for")
    used_for = str(values.get("used_for", ""))
    if used_for not in rules.USED_FOR:
        raise MarktError("used_for", 422, N_("Kies hoe lang je het gebruikt hebt."), "used_for")
    return ReportAnswers(helped, int(ease), recommend, not_for, used_for)


def _source(verdict: Verdict) -> ItemSource:
    """Every report waits for a moderator; the source says why (crisis and rule hits outrank pre-moderation)."""
    if verdict.crisis.flagged:
        return "crisis"
    if verdict.action == "hold" and any(hit.rule != "premoderation" for hit in verdict.hits):
        return "rule"
    return "premoderation"


class Reports:
    def __init__(self, store: MarktStore, catalog: FlavourCatalog, moderation: ModerationService, clock: Clock) -> None:
        self.store = store
        self.catalog = catalog
        self.moderation = moderation
        self.clock = clock

    def check_can_write(self, actor: Actor | None, flavour: Flavour) -> Actor:
        if actor is None or not actor.is_member:
            raise MarktError("login", 401, N_("Log in met je account om een ervaring te delen. Lezen kan altijd."))
        if flavour.validation.forum_post and not actor.validated and not actor.is_staff:
            raise MarktError("validation", 403, N_("Om je ervaring te delen moet je account eerst gevalideerd zijn."))
        return actor

    async def mine(self, actor: Actor | None, entry: Document) -> Document | None:
        if actor is None or not actor.is_member:
            return None
        return await self.store.report_of(str(entry["_id"]), str(actor.account_id))

    async def write(self, actor: Actor | None, flavour: Flavour, entry: Document, values: Mapping[str, str]) -> Written:
        """A new report, or an edit of one's own: stored as waiting, and put before a moderator."""
        author = self.check_can_write(actor, flavour)
        answers = check_answers(values)
        if not author.is_staff:
            mute = await self.moderation.mute_of(str(author.account_id), flavour.slug)
            if mute is not None:
                from chatserver.services.moderation import muted_text

                raise MarktError("muted", 403, muted_text(*mute))
        verdict: Verdict = await self.moderation.check(author, flavour.slug, "story", answers.text)
        if verdict.action == "block" and not verdict.crisis.flagged:
            raise MarktError(
                "refused", 422, verdict.reason or N_("Deze tekst kan niet geplaatst worden."), "helped_with"
            )
        previous_item = await self._waiting_item(author, entry)
        report = await self._store(author, flavour, entry, answers)
        await self._submit(author, flavour, entry, report, answers, verdict, previous_item)
        if verdict.crisis.flagged:
            return Written(report, crisis_notice(flavour), crisis=True)
        return Written(report, WAIT_NOTICE)

    async def _store(self, author: Actor, flavour: Flavour, entry: Document, answers: ReportAnswers) -> Document:
        now = self.clock()
        entry_id, author_id = str(entry["_id"]), str(author.account_id)
        existing = await self.store.report_of(entry_id, author_id)
        pending = {**answers.as_doc(), "at": now}
        if existing is None:
            doc: Document = {
                "_id": uuid.uuid4().hex, "entry_id": entry_id, "entry_slug": entry.get("slug", ""),
                "flavour": flavour.slug, "author_id": author_id, "author_pseudonym": author.pseudonym,
                "pending": pending, "published": None, "published_at": None, "shown_in": [], "hidden": False,
                "status": "waiting", "created_at": now, "updated_at": now, "version": 1, "moderation_item": None,
            }  # fmt: skip
            try:
                await self.store.insert_report(doc)
                return doc
            except ReportExists:
                existing = await self.store.report_of(entry_id, author_id)
                if existing is None:  # removed in between: nothing to edit
                    raise not_found() from None
        changes = {"pending": pending, "status": "waiting", "updated_at": now, "flavour": flavour.slug,
                   "author_pseudonym": author.pseudonym}  # fmt: skip
        updated = await self.store.update_report(str(existing["_id"]), changes)
        if updated is None:
            raise not_found()
        return updated

    async def _waiting_item(self, author: Actor, entry: Document) -> str | None:
        """The moderation item of the author's earlier version of this report that still waits, if any."""
        existing = await self.store.report_of(str(entry["_id"]), str(author.account_id))
        if existing is None or existing.get("status") != "waiting" or not existing.get("moderation_item"):
            return None
        return str(existing["moderation_item"])

    async def _submit(
        self, author: Actor, flavour: Flavour, entry: Document, report: Document, answers: ReportAnswers,
        verdict: Verdict, previous_item: str | None = None,
    ) -> None:  # fmt: skip
        text = f"{entry.get('title', '')}: {answers.text}"
        payload = {"report_id": str(report["_id"]), "version": int(report.get("version", 1))}
        # An edit of a version nobody has taken up yet replaces it in its queue item; a crisis or a rule hit is
        # routed as a new item of its own.
        revisable = previous_item is not None and _source(verdict) == "premoderation"
        if revisable and await self.moderation.revise_open_item(str(previous_item), text, payload):
            await self.store.update_report(str(report["_id"]), {"moderation_item": previous_item})
            return
        ref = ItemRef(kind=KIND, id=str(report["_id"]), url=f"/f/{flavour.slug}/markt/{entry.get('slug', '')}")
        item_id = await self.moderation.submit(
            flavour=flavour.slug, source=_source(verdict), ref=ref, text=text, author=author, verdict=verdict,
            held_payload=payload,
        )  # fmt: skip
        await self.store.update_report(str(report["_id"]), {"moderation_item": item_id})

    # moderation decisions ------------------------------------------------------------------------------------

    async def on_decision(self, view: ModerationItemView, decision: Decision) -> None:
        """What a moderator's decision does to a report (the ``markt_report`` handler)."""
        payload = view.held_payload or {}
        report = await self.store.report(str(payload.get("report_id", view.ref.id)))
        if report is None:
            return
        kind = str(decision.kind)
        # An item decided after a newer edit was submitted speaks for an older text: the newer item decides.
        stale = int(payload.get("version", 0)) + 1 != int(report.get("version", 0))
        if kind in PUBLISH_KINDS and not stale:
            await self._publish(report, view.redacted_text if kind == "redact" else "")
        elif kind == "reject" and not stale:
            status = "published" if report.get("published") else "rejected"
            await self.store.update_report(str(report["_id"]), {"pending": None, "status": status})
        elif kind in HIDE_KINDS:
            await self.store.update_report(str(report["_id"]), {"pending": None, "hidden": True, "status": "hidden"})
            await self.refresh_stats(str(report["entry_id"]))

    async def _publish(self, report: Document, redacted: str) -> None:
        answers = dict(report.get("pending") or {})
        if not answers:
            return
        if redacted:
            answers.update(helped_with=redacted[:MAX_HELPED], not_for="")
        entry = await self.store.entry(str(report["entry_id"]))
        flavours = [str(f) for f in (entry or {}).get("flavours") or ()]
        author = Actor(account_id=AccountId(str(report["author_id"])), pseudonym=str(report.get("author_pseudonym")),
                       kind="member", validated=True)  # fmt: skip
        text = f"{answers.get('helped_with', '')}\n\n{answers.get('not_for', '')}"
        shown = [f for f in flavours if self._allowed_in(author, f, text)]
        now = self.clock()
        await self.store.update_report(
            str(report["_id"]),
            {"published": answers, "published_at": now, "pending": None, "status": "published", "shown_in": shown,
             "hidden": False},
        )  # fmt: skip
        await self.refresh_stats(str(report["entry_id"]))

    def _allowed_in(self, author: Actor, flavour: str, text: str) -> bool:
        """Whether the flavour's own rules let this text stand (pre-moderation itself is no objection)."""
        verdict = self.moderation.screen(author, flavour, "story", text, account_age_days=10_000.0)
        if verdict.crisis.flagged or verdict.action == "block":
            return False
        return all(hit.rule == "premoderation" for hit in verdict.hits) or verdict.action == "allow"

    async def before_erasure(self, account_id: str) -> Callable[[], Awaitable[None]]:
        """The erasure hook: the entries the account reported on get their counts recomputed afterwards."""
        entries = sorted({str(r["entry_id"]) for r in await self.store.reports_by(account_id)})

        async def recount() -> None:
            for entry_id in entries:
                await self.refresh_stats(entry_id)

        return recount

    async def refresh_stats(self, entry_id: str) -> None:
        """The counts per flavour stored on the entry, recomputed from its published reports."""
        reports = await self.store.published_reports(entry_id, 5000)
        stats: dict[str, dict[str, Any]] = {}
        for flavour in {f for r in reports for f in r.get("shown_in") or ()}:
            counted = rules.report_stats(r["published"] for r in reports if flavour in (r.get("shown_in") or ()))
            stats[flavour] = {"count": counted.count, "ease_sum": counted.ease_sum,
                              "recommend": dict(counted.recommend)}  # fmt: skip
        await self.store.set_fields(entry_id, {"report_stats": stats})

    # reading -------------------------------------------------------------------------------------------------

    async def shown(self, entry: Document, flavour: str) -> list[Document]:
        reports = await self.store.published_reports(str(entry["_id"]), SHOWN_REPORTS * 2)
        return [r for r in reports if flavour in (r.get("shown_in") or ())][:SHOWN_REPORTS]

    async def by_author(self, actor: Actor) -> list[Document]:
        return await self.store.reports_by(str(actor.account_id))


def stats_of(entry: Mapping[str, Any], flavour: str) -> rules.ReportStats:
    raw = (entry.get("report_stats") or {}).get(flavour) or {}
    return rules.ReportStats(count=int(raw.get("count", 0)), ease_sum=int(raw.get("ease_sum", 0)),
                             recommend=dict(raw.get("recommend") or {}))  # fmt: skip
