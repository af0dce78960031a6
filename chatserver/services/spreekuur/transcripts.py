"""Spreekuur transcripts: after the session an editor edits the answered questions and publishes them as an article
of the session's flavour (through the content service, so the article follows the editorial rules)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatserver.domain.identity import Actor
from chatserver.domain.spreekuur import MAX_TITLE_CHARS, MAX_TRANSCRIPT_CHARS, clean_text, transcript_markdown
from chatserver.i18n import N_
from chatserver.ports import Clock, Document, SpreekuurStore
from chatserver.services.content import ContentError, Draft
from chatserver.services.spreekuur.refusals import SpreekuurError
from chatserver.services.spreekuur.schedule import SessionSchedule

if TYPE_CHECKING:
    from chatserver.services.content import ContentService

TRANSCRIPT_CATEGORY = "psycho-educatie"
MAX_SUMMARY_CHARS = 300


class Transcripts:
    def __init__(self, repo: SpreekuurStore, content: ContentService, sessions: SessionSchedule, clock: Clock) -> None:
        self.repo = repo
        self.content = content
        self.sessions = sessions
        self.clock = clock

    async def transcript_draft(self, actor: Actor | None, spreekuur_id: str) -> tuple[Document, str]:
        """The stored transcript, or a first draft made of the answered questions."""
        doc = await self.sessions.scheduler_get(actor, spreekuur_id)
        stored = (doc.get("transcript") or {}).get("body")
        if stored:
            return doc, str(stored)
        return doc, transcript_markdown(doc, await self.repo.questions_of(str(doc["_id"]), ["approved"]))

    async def publish_transcript(self, actor: Actor | None, spreekuur_id: str, title: str, body: str) -> Document:
        """Publish the edited transcript as an article to the spreekuur's flavour (after the end only)."""
        doc = await self.sessions.scheduler_get(actor, spreekuur_id)
        assert actor is not None
        if self.sessions.phase(doc) != "ended":
            raise SpreekuurError("phase", 409, N_("Een verslag publiceer je na afloop van het spreekuur."), "body")
        cleaned_body = clean_text(body, MAX_TRANSCRIPT_CHARS + 1)
        if not cleaned_body:
            raise SpreekuurError("body", 422, N_("Het verslag is leeg."), "body")
        transcript: Document = {"title": clean_text(title, MAX_TITLE_CHARS + 1), "body": cleaned_body,
                                "updated_at": self.clock(), "updated_by": actor.pseudonym}  # fmt: skip
        item = await self._published_article(actor, doc, transcript)
        transcript["content_id"] = item["_id"]
        transcript["content_slug"] = item["slug"]
        transcript["published_at"] = self.clock()
        updated = await self.repo.update(str(doc["_id"]), {"transcript": transcript})
        assert updated is not None
        return updated

    async def _published_article(self, actor: Actor, doc: Document, transcript: Document) -> Document:
        """The transcript's article, created or saved as a new version, and published."""
        content = self.content
        # i18n: the published report is the community's content, in its language
        draft = Draft(
            kind="article",
            title=transcript["title"],
            body=transcript["body"],
            flavours=(str(doc["flavour"]),),
            summary=f"Verslag van het e-spreekuur ‘{doc['title']}’."[:MAX_SUMMARY_CHARS],
            category=TRANSCRIPT_CATEGORY,
        )
        try:
            existing = (doc.get("transcript") or {}).get("content_id")
            if existing:
                item = await content.access_item(actor, existing)
                item = await content.save(actor, existing, draft, int(item.get("version", 1)))
            else:
                item = await content.create(actor, draft)
            if item.get("status") != "published":
                item = await content.change_status(actor, item["_id"], "publish")
        except ContentError as exc:
            raise SpreekuurError(exc.code, exc.status, exc.detail, "body" if exc.field == "body" else "title") from exc
        return item
