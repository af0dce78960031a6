"""Members: pseudonyms (valid, free, not reserved), registration, the profile, export, erasure and retention.

What export and erasure cover is one explicit list, walked by :class:`chatserver.services.privacy.PersonalDataService`;
this module adds the account document itself (exported without its secrets, replaced by a tombstone at erasure)
and what identity keeps elsewhere (codes, rate limits, the erased pseudonym's reservation).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from chatserver.domain import accounts as rules
from chatserver.domain.accounts import SECRET_FIELDS, iso
from chatserver.domain.identity import Actor
from chatserver.domain.privacy import ErasureResult, jsonable
from chatserver.i18n import N_
from chatserver.ports import Document, PseudonymTaken
from chatserver.services.identity.bans import Bans
from chatserver.services.identity.core import LIMITS, PURGE_BATCH, IdentityError, Session, log

EXPORT_NOTE = N_("Je e-mailadres, telefoonnummer en IP-adres bewaren we niet; daarom staan ze hier ook niet.")


class Members(Bans):
    # pseudonyms ------------------------------------------------------------------------------------------------------

    async def check_pseudonym(self, raw: str) -> str:
        """The normalised pseudonym if it is valid and free; else an error with suggestions."""
        try:
            name = rules.normalise_pseudonym(raw)
        except rules.PseudonymError as exc:
            raise IdentityError("invalid_pseudonym", 422, exc.reason, extra={"field": "pseudonym"}) from None
        key = rules.skeleton(name)
        if rules.reserved_pseudonym(key):
            raise IdentityError(
                "invalid_pseudonym",
                422,
                N_("Deze schuilnaam is voorbehouden. Kies een andere."),
                extra={"field": "pseudonym"},
            )
        if await self.repo.key_taken(key) or await self.pseudonym_reserved(key):
            raise await self._taken(name)
        return name

    async def _taken(self, name: str) -> IdentityError:
        return IdentityError(
            "pseudonym_taken",
            409,
            N_("Deze schuilnaam (of een die er sterk op lijkt) is al in gebruik."),
            extra={"field": "pseudonym", "suggestions": await self.free_suggestions(name)},
        )

    async def free_suggestions(self, name: str) -> list[str]:
        out: list[str] = []
        for candidate in rules.suggestions(name, 6):
            key = rules.skeleton(candidate)
            if not await self.repo.key_taken(key) and not await self.pseudonym_reserved(key):
                out.append(candidate)
            if len(out) == 3:
                break
        return out

    def pseudonym_reservation(self, key: str) -> str:
        """The keyed hash under which an erased pseudonym's look-alike key is reserved (never the name itself)."""
        return self.keyed_hash("erased-pseudonym", key)

    async def pseudonym_reserved(self, key: str) -> bool:
        return await self.personal_data.is_reserved(self.pseudonym_reservation(key), self.clock())

    # registration ----------------------------------------------------------------------------------------------------

    async def register_member(
        self,
        pseudonym: str,
        password: str,
        ip_subject: str,
        device_token: str = "",
        current: Actor | None = None,
        previous_token: str | None = None,
    ) -> Session:
        await self._limit("register_ip", ip_subject)
        await self.check_device(device_token)
        name = await self.check_pseudonym(pseudonym)
        problem = rules.password_problem(password, name)
        if problem:
            raise IdentityError("weak_password", 422, problem, extra={"field": "password"})
        password_hash = await self.passwords.hash(password)
        now = self.clock()
        fields: Document = {
            "pseudonym": name,
            "pseudonym_key": rules.skeleton(name),
            "kind": "member",
            "password_hash": password_hash,
            "became_member_at": now,
            "last_seen_at": now,
        }
        doc: Document | None = None
        try:
            if current is not None and current.is_guest:
                doc = await self.repo.promote_guest(current.account_id, fields)
            if doc is None:
                doc = {"_id": uuid.uuid4().hex, "validated": False, "verified": False, "created_at": now, **fields}
                await self.repo.insert(doc)
        except PseudonymTaken:
            raise await self._taken(name) from None
        if device_token:
            await self.repo.add_device(str(doc["_id"]), self.device_hash(device_token))
        log.info("member registered (%s)", "from guest" if current is not None and current.is_guest else "new")
        return await self._start_session(doc, previous_token)

    # the profile -----------------------------------------------------------------------------------------------------

    def public_view(self, doc: Document) -> dict[str, Any]:
        return rules.public_view(doc)

    async def export_my_data(self, actor: Actor) -> dict[str, Any]:
        """Everything stored about the account, as JSON-ready data (secrets left out); the places are the list
        erasure walks (``chatserver.adapters.privacy_places.PLACES``)."""
        doc = await self.account(actor)
        account = {k: jsonable(v) for k, v in doc.items() if k not in SECRET_FIELDS}
        validation = doc.get("validation")
        if isinstance(validation, dict):
            account["validation"] = {"method": validation.get("method"), "at": iso(validation.get("at"))}
        account["devices"] = len(doc.get("device_hashes") or ())
        return {
            "exported_at": iso(self.clock()),
            "account": account,
            "collections": await self.personal_data.export(str(doc["_id"])),
            "note": EXPORT_NOTE,
        }

    async def erase_account(self, actor: Actor, keep_posts: bool) -> ErasureResult:
        """Personal data removed now; posts removed or kept under "verwijderd account"; a tombstone stays.

        1-on-1 transcripts under a safeguarding hold are kept (``result.held_chats``, and in each chat's audit).
        """
        doc = await self.account(actor)
        result = await self._erase(doc, keep_posts)
        log.info(
            "account erased (posts %s; %d live events; %d transcripts kept under a safeguarding hold)",
            "kept anonymously" if keep_posts else "removed", result.live_events, len(result.held_chats),
        )  # fmt: skip
        return result

    async def _erase(self, doc: Document, keep_posts: bool) -> ErasureResult:
        account_id = str(doc["_id"])
        await self.sessions.revoke_all(account_id)
        pseudonym = str(doc.get("pseudonym", ""))
        result = await self.personal_data.erase(account_id, pseudonym, keep_posts)
        await self.tokens.delete(f"vcode:{account_id}")
        for name in ("code_account", "confirm_account", "post_account", "publish_account"):
            await self.limiter.reset(LIMITS[name], account_id)
        days = self.settings.pseudonym_reserve_days
        if pseudonym and doc.get("kind") in ("member", "staff") and days > 0:
            until = self.clock() + timedelta(days=days)
            await self.personal_data.reserve(self.pseudonym_reservation(rules.skeleton(pseudonym)), until)
        await self.repo.replace_with_tombstone(
            account_id, {"_id": account_id, "kind": "deleted", "deleted_at": self.clock()}
        )
        return result

    async def purge_once(self) -> int:
        """Retention: guests older than the configured days, expired referral codes."""
        now = self.clock()
        cutoff = now - timedelta(days=self.settings.guest_retention_days)
        ids = await self.repo.guests_created_before(cutoff, PURGE_BATCH)
        for account_id in ids:
            await self._erase(await self.repo.get(account_id) or {"_id": account_id, "kind": "guest"}, keep_posts=True)
            await self.repo.delete(account_id)
        expired = await self.repo.purge_expired_referrals(now)
        expired += await self.personal_data.purge_reservations(now)
        if ids or expired:
            log.info("retention purge: %d guests, %d referral codes", len(ids), expired)
        return len(ids) + expired
