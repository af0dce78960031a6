"""The content workflow: status changes along the one table of :mod:`chatserver.domain.content`, scheduled
publication, rejection with a reason, the second reviewer some flavours ask for, and the audit of every change.

The public read path shows an item only when it is published, targeted at the flavour and due (``publish_at`` at or
before the injected clock's now), so scheduled publication needs no job and is exact to the second.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime

from chatserver.domain import content as workflow
from chatserver.domain.content import ACTION_NAMES, MAX_REASON_CHARS, STATUSES, TRANSITIONS, last_editor
from chatserver.domain.content import clean_text as clean
from chatserver.domain.identity import Actor
from chatserver.i18n import N_
from chatserver.ports import Clock, ContentStore, Document
from chatserver.services.content.items import ContentItems
from chatserver.services.content.refusals import ContentError

log = logging.getLogger("chatserver.content")


class ContentWorkflow:
    def __init__(self, repo: ContentStore, items: ContentItems, clock: Clock, second_reviewer: Iterable[str]) -> None:
        self.repo = repo
        self.items = items
        self.clock = clock
        # Flavours whose pieces need a second editor to publish (``[content] second_reviewer``).
        self.second_reviewer = frozenset(second_reviewer)

    async def change_status(
        self,
        actor: Actor | None,
        item_id: str,
        action: str,
        publish_at: datetime | None = None,
        reason: str = "",
    ) -> Document:
        doc = await self.items.access_item(actor, item_id)
        assert actor is not None
        if action not in TRANSITIONS:
            raise ContentError("action", 422, N_("Deze actie bestaat niet."))
        current = str(doc.get("status", ""))
        target = workflow.target_of(current, action)
        if target is None:
            raise _refused_transition(current, action)
        second = self.needs_second_reviewer(doc)
        if action == "publish" and second and actor.account_id in _involved(doc):
            log.info("content item %s: publishing refused, a second reviewer is required", item_id)
            raise ContentError(
                "second_reviewer",
                403,
                N_(
                    "Deze community vraagt een tweede redacteur: jij hebt dit stuk ter beoordeling aangeboden of als "
                    "laatste bewerkt. Een andere redacteur moet het goedkeuren en publiceren."
                ),
            )
        now = self.clock()
        changes = _status_changes(actor, action, target, now, publish_at, reason)
        updated = await self.repo.update_if_version(item_id, int(doc.get("version", 1)), changes)
        if updated is None:
            raise ContentError("conflict", 409, N_("Het stuk is intussen gewijzigd. Laad de pagina opnieuw."))
        audit: Document = {
            "_id": uuid.uuid4().hex,
            "item_id": item_id,
            "action": action,
            "from": current,
            "to": target,
            "actor_id": actor.account_id,
            "role": str(actor.role),
            "at": now,
        }
        if action == "publish" and second:
            # The four-eyes approval: this entry's actor is the second reviewer (ids only, no names).
            audit["second_reviewer"] = True
        await self.repo.add_audit(audit)
        log.info("content item %s: %s -> %s", item_id, current, target)
        return updated

    def needs_second_reviewer(self, doc: Document) -> bool:
        return workflow.needs_second_reviewer(doc.get("flavours") or (), self.second_reviewer)

    def actions_for(self, actor: Actor, doc: Document) -> list[str]:
        """The status actions the form offers ``actor`` for ``doc``: what the state allows, less publishing where
        the actor would be their own second reviewer."""
        actions = list(workflow.allowed_actions(str(doc.get("status", ""))))
        if "publish" in actions and self.needs_second_reviewer(doc) and actor.account_id in _involved(doc):
            actions.remove("publish")
        return actions


def _involved(doc: Document) -> frozenset[str]:
    return workflow.involved_in(str(doc.get("submitted_by_id") or ""), last_editor(doc))


def _status_changes(
    actor: Actor, action: str, target: str, now: datetime, publish_at: datetime | None, reason: str
) -> Document:
    """The fields a status change sets: the new status, who and when, and what the action itself brings."""
    changes: Document = {"status": target, "status_changed_at": now, "status_changed_by": actor.pseudonym}
    if action == "submit":
        changes["submitted_by_id"] = actor.account_id
    if action == "publish":
        when = publish_at if publish_at is not None and publish_at > now else None
        changes["publish_at"] = when
        changes["published_at"] = when or now
        changes["reject_reason"] = ""
    if action == "reject":
        changes["reject_reason"] = _checked_reason(reason)
    return changes


def _checked_reason(reason: str) -> str:
    text = clean(reason, MAX_REASON_CHARS + 1)
    if not text:
        raise ContentError(
            "reason", 422, N_("Schrijf kort waarom je dit afwijst; de schrijver krijgt de reden te zien."), "reason"
        )
    if len(text) > MAX_REASON_CHARS:
        raise ContentError("reason", 422, N_("De reden mag hoogstens %s tekens zijn.") % MAX_REASON_CHARS, "reason")
    return text


def _refused_transition(current: str, action: str) -> ContentError:
    label = STATUSES.get(current, current)
    if TRANSITIONS[action][1] == current:
        return ContentError("transition", 409, N_("Dit stuk heeft al de status ‘%s’; er is niets veranderd.") % label)
    possible = ", ".join(f"‘{ACTION_NAMES[a]}’" for a in workflow.allowed_actions(current)) or "geen"
    return ContentError(
        "transition",
        409,
        N_("‘%s’ kan niet bij een stuk met status ‘%s’. Wel mogelijk: %s.") % (ACTION_NAMES[action], label, possible),
    )
