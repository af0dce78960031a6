"""Bans: who may ban whom (decided by :mod:`chatserver.domain.sanctions`), storing and enforcing them, appeals.

A ban with ``flavours`` shuts its subject out of those flavours only (a marker per flavour and account, read by
:meth:`Bans.flavour_ban`); a platform-wide ban (admins) also blocks log-in, new guests and validation, and ends
the sessions. A permanent ban is stored ``pending`` until a second admin confirms it (:meth:`Bans.confirm_ban`).
Every ban, confirmation and lift is an entry in the moderation audit chain.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from chatserver.domain import sanctions
from chatserver.domain.channels import ChannelRef
from chatserver.domain.identity import Actor
from chatserver.i18n import N_
from chatserver.ports import Document
from chatserver.services.identity.core import (
    AUDIT_RETRIES,
    MAX_APPEAL_CHARS,
    MAX_REASON_CHARS,
    IdentityCore,
    IdentityError,
    log,
)
from moderation import audit as audit_chain


@dataclass(frozen=True)
class BanOutcome:
    ids: list[str]
    state: Literal["active", "pending"]
    until: datetime | None
    group: str


def _to_ms(at: datetime) -> datetime:
    """A UTC time truncated to milliseconds: what the store keeps, so the audit chain's hashes agree."""
    at = at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _flavour_ban_key(flavour: str, account_id: str) -> str:
    return f"fban:{flavour}:{account_id}"


def _ban_refusal(ban: Document) -> IdentityError:
    until = ban.get("until")
    return IdentityError(
        "banned",
        403,
        sanctions.ban_notice(until, str(ban.get("reason", ""))),
        extra={"ban_id": str(ban["_id"]), "until": until.isoformat() if until else None},
    )


class Bans(IdentityCore):
    # the door every log-in, new guest and validation passes -------------------------------------------------------

    async def _check_bans(self, subjects: list[str]) -> None:
        """Platform-wide bans only: flavour-scoped ones are enforced per flavour (:meth:`flavour_ban`)."""
        bans = await self.repo.active_bans(subjects, self.clock())
        if bans:
            raise _ban_refusal(bans[0])

    async def check_device(self, device_token: str) -> None:
        if device_token:
            await self._check_bans([self.device_hash(device_token)])

    async def flavour_ban_gate(self, actor: Actor, ref: ChannelRef) -> str | None:
        """A chat gate: a flavour-scoped ban refuses publishing in that flavour (staff are never banned so)."""
        return None if actor.is_staff else await self.flavour_ban(str(actor.account_id), ref.flavour)

    async def flavour_ban(self, account_id: str, flavour: str) -> str | None:
        """The Dutch refusal when the account is banned from this flavour, else None (one Redis question)."""
        ttl_ms = await self.tokens.remaining_ms(_flavour_ban_key(flavour, str(account_id)))
        if ttl_ms is None:
            return None
        if ttl_ms == -1:
            return sanctions.flavour_ban_notice(None)
        return sanctions.flavour_ban_notice(self.clock() + timedelta(milliseconds=ttl_ms))

    # who may ---------------------------------------------------------------------------------------------------------

    async def _target(self, account_id: str) -> tuple[Document, sanctions.Target]:
        doc = await self.repo.get(str(account_id))
        if doc is None or doc.get("kind") == "deleted":
            raise IdentityError("not_found", 404, N_("Dit account bestaat niet."))
        return doc, sanctions.Target(str(doc["_id"]), str(doc.get("kind", "guest")), doc.get("role"))

    def authorise_sanction(self, actor: Actor, target: sanctions.Target, sanction: sanctions.Sanction) -> None:
        """Raise the 422 or 403 for a sanction this actor may not impose on this target."""
        problem = sanctions.invalid(sanction)
        if problem is not None:
            raise IdentityError("invalid", 422, problem)
        reason = sanctions.refusal(actor, target, sanction)
        if reason is not None:
            raise IdentityError("forbidden", 403, reason)

    def require_sanctioner(self, actor: Actor, action: Literal["ban", "referral"] = "ban") -> None:
        """403 before anything else for a caller who may not take this staff action at all."""
        if action == "referral" and (not actor.is_staff or not actor.verified):
            raise IdentityError("forbidden", 403, N_("Alleen geverifieerde medewerkers geven verwijscodes uit."))
        if action == "ban" and sanctions.limit_of(actor, "ban") is None:
            raise IdentityError("forbidden", 403, N_("Jouw rol kan niemand dempen of weren."))

    async def sanction_target(self, account_id: str) -> sanctions.Target:
        """The stored kind and role of an account, for :func:`sanctions.refusal` (mutes in the moderation service)."""
        return (await self._target(account_id))[1]

    def _check_ban_request(
        self,
        moderator: Actor,
        target: sanctions.Target,
        duration: timedelta | None,
        scope: frozenset[str] | None,
        permanent: bool,
    ) -> None:
        # Who, whom and where first (403), so a refused request learns nothing from the duration checks.
        who = sanctions.refusal(moderator, target, sanctions.Sanction("ban", sanctions.MIN_SANCTION, scope))
        if who is not None:
            raise IdentityError("forbidden", 403, who)
        if duration is None and not permanent:
            raise IdentityError("invalid", 422, N_("Kies hoe lang de maatregel duurt (uren of dagen)."))
        if duration is not None and permanent:
            raise IdentityError("invalid", 422, N_("Kies een duur of 'voorgoed', niet allebei."))
        self.authorise_sanction(moderator, target, sanctions.Sanction("ban", duration, scope))
        if scope is not None and self.known_flavours is not None and not scope <= self.known_flavours:
            raise IdentityError("invalid", 422, N_("Onbekende community."), extra={"field": "flavours"})

    # imposing, confirming, lifting -----------------------------------------------------------------------------------

    async def ban(
        self,
        moderator: Actor,
        account_id: str,
        reason: str,
        *,
        duration: timedelta | None,
        flavours: Collection[str] | None,
        permanent: bool = False,
        scopes: tuple[str, ...] = sanctions.BAN_SCOPES,
    ) -> BanOutcome:
        """Ban an account within the moderator's authority (see :mod:`chatserver.domain.sanctions`).

        ``duration=None`` needs ``permanent=True`` (an admin; the ban then waits for a second admin).
        ``flavours=None`` is platform-wide (admins): log-in, its validation hash and devices are refused and its
        sessions end. Returns the ban ids, ``"active"`` or ``"pending"``, and the end.
        """
        self.require_sanctioner(moderator)
        doc, target = await self._target(account_id)
        scope = frozenset(str(f) for f in flavours) if flavours is not None else None
        self._check_ban_request(moderator, target, duration, scope, permanent)
        subjects = sanctions.ban_subjects(doc, scopes)
        if not subjects:
            raise IdentityError("invalid", 422, N_("Kies waarop de maatregel geldt (account, adres of apparaat)."))
        now = self.clock()
        until = now + duration if duration is not None else None
        pending = duration is None
        group = uuid.uuid4().hex
        ids = []
        for kind, subject in subjects:
            ban_id = uuid.uuid4().hex
            await self.repo.add_ban(
                {
                    "_id": ban_id,
                    "group": group,
                    "kind": kind,
                    "subject": subject,
                    "account_id": str(doc["_id"]),
                    "flavours": sorted(scope) if scope is not None else None,
                    "until": until,
                    "reason": str(reason)[:MAX_REASON_CHARS],
                    "by": moderator.account_id,
                    "created_at": now,
                    "lifted": False,
                    "pending": pending,
                }
            )
            ids.append(ban_id)
        where = ",".join(sorted(scope)) if scope is not None else ""
        length = N_("voorgoed (wacht op tweede beheerder)") if pending else sanctions.describe(duration or timedelta())
        await self._audit(moderator, "ban_requested" if pending else "ban", f"{reason} ({length})", group, where)
        if not pending:
            await self._enforce(str(doc["_id"]), scope, until, now)
        log.info("ban %s by %s (%d subjects)", "requested" if pending else "imposed", moderator.account_id, len(ids))
        return BanOutcome(ids=ids, state="pending" if pending else "active", until=until, group=group)

    async def _enforce(
        self, account_id: str, scope: frozenset[str] | None, until: datetime | None, now: datetime
    ) -> None:
        if scope is None:
            await self.sessions.revoke_all(account_id)
            return
        for flavour in scope:
            ttl_ms = None if until is None else max(1, int((until - now).total_seconds() * 1000))
            await self.tokens.put(_flavour_ban_key(flavour, account_id), b"1", ttl_ms)

    async def confirm_ban(self, admin: Actor, ban_id: str) -> BanOutcome:
        """A second admin confirms a pending permanent ban; only then does it take effect."""
        if not admin.is_admin or not admin.verified:
            raise IdentityError(
                "forbidden", 403, N_("Alleen een tweede beheerder kan een blijvende maatregel bevestigen.")
            )
        ban = await self.repo.get_ban(str(ban_id))
        if ban is None or not ban.get("pending") or ban.get("lifted"):
            raise IdentityError("not_found", 404, N_("Er wacht geen maatregel met dit nummer op bevestiging."))
        if str(ban.get("by")) == admin.account_id:
            raise IdentityError(
                "forbidden", 403, N_("Een blijvende maatregel bevestigt een andere beheerder dan wie hem aanvroeg.")
            )
        group = str(ban.get("group") or ban["_id"])
        ids = await self.repo.activate_ban_group(group, admin.account_id, self.clock())
        flavours = ban.get("flavours")
        scope = frozenset(flavours) if flavours is not None else None
        await self._audit(admin, "ban_confirmed", str(ban.get("reason", "")), group, ",".join(sorted(scope or ())))
        await self._enforce(str(ban.get("account_id") or ban["subject"]), scope, None, self.clock())
        log.info("permanent ban confirmed by %s", admin.account_id)
        return BanOutcome(ids=ids, state="active", until=None, group=group)

    async def appeal(self, ban_id: str, text: str) -> None:
        text = str(text).strip()
        if not text:
            raise IdentityError("invalid", 422, N_("Schrijf kort waarom je bezwaar maakt."))
        ban = await self.repo.get_ban(str(ban_id))
        if ban is None:
            raise IdentityError("not_found", 404, N_("Deze maatregel bestaat niet."))
        await self.repo.set_appeal(str(ban_id), text[:MAX_APPEAL_CHARS], self.clock())

    async def lift_ban(self, moderator: Actor, ban_id: str) -> None:
        """Lift a ban: whoever could have imposed it (same flavours, rank above the target) may lift it."""
        ban = await self.repo.get_ban(str(ban_id))
        if ban is None:
            raise IdentityError("not_found", 404, N_("Deze maatregel bestaat niet."))
        _, target = await self._target(str(ban.get("account_id") or ban.get("subject")))
        flavours = ban.get("flavours")
        scope = frozenset(flavours) if flavours is not None else None
        reason = sanctions.refusal(moderator, target, sanctions.Sanction("ban", sanctions.MIN_SANCTION, scope))
        if reason is not None:
            raise IdentityError("forbidden", 403, reason)
        group = str(ban.get("group") or ban["_id"])
        await self.repo.lift_ban_group(group)
        for flavour in scope or ():
            await self.tokens.delete(_flavour_ban_key(flavour, target.account_id))
        await self._audit(moderator, "ban_lifted", "", group, ",".join(sorted(scope or ())))

    async def _audit(self, actor: Actor, action: str, reason: str, subject: str, flavour: str) -> None:
        """One entry in the moderation audit chain (the same hash chain the queue's decisions use)."""
        role: Any = actor.role or "admin"
        for _ in range(AUDIT_RETRIES):
            entry = audit_chain.append(
                await self.audit_store.last_audit_entry(),
                actor_id=str(actor.account_id),
                role=role,
                at=_to_ms(self.clock()),
                action=action,
                reason=str(reason)[:MAX_REASON_CHARS],
                item_id=f"ban:{subject}",
                flavour=flavour,
            )
            if await self.audit_store.append_audit(entry):
                return
        raise IdentityError("busy", 503, N_("Het auditlog is even niet bij te werken. Probeer het opnieuw."))
