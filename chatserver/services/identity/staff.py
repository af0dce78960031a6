"""Staff accounts: created and verified by an admin (or the CLI), with a one-time password, a TOTP secret and
recovery codes (enrolment), and the second factor checked at every staff log-in."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

from chatserver.domain import accounts as rules
from chatserver.domain import second_factor as factor
from chatserver.domain.identity import STAFF_ROLES, Actor
from chatserver.i18n import N_
from chatserver.ports import Document, PseudonymTaken
from chatserver.services.identity.core import TOTP_REPLAY_TTL_S, IdentityError, log
from chatserver.services.identity.members import Members


@dataclass
class StaffCreated:
    account_id: str
    pseudonym: str
    password: str
    provisioning_uri: str
    doc: Document = field(repr=False, default_factory=dict)
    recovery_codes: list[str] = field(default_factory=list)


def _not_staff() -> IdentityError:
    return IdentityError("not_found", 404, N_("Deze medewerker bestaat niet."))


class StaffAccounts(Members):
    def _require_admin(self, actor: Actor | None) -> None:
        if actor is not None and not actor.is_admin:
            raise IdentityError("forbidden", 403, N_("Alleen een beheerder mag dit."))

    def _check_scope(self, role: str, flavours: list[str], catalog_slugs: set[str] | None) -> None:
        if role not in STAFF_ROLES:
            raise IdentityError("invalid", 422, N_("Onbekende rol."), extra={"field": "role"})
        if catalog_slugs is not None:
            unknown = [f for f in flavours if f not in catalog_slugs]
            if unknown:
                raise IdentityError(
                    "invalid", 422, N_("Onbekende community: %s") % ", ".join(unknown), extra={"field": "flavours"}
                )

    # enrolment -------------------------------------------------------------------------------------------------------

    async def create_staff(
        self,
        admin: Actor | None,
        pseudonym: str,
        role: str,
        flavours: list[str],
        registration: str = "",
        catalog_slugs: set[str] | None = None,
        verified: bool = False,
    ) -> StaffCreated:
        """A staff account with a one-time password and a TOTP secret (``admin=None``: the CLI)."""
        self._require_admin(admin)
        self._check_scope(role, flavours, catalog_slugs)
        name = await self.check_pseudonym(pseudonym)
        password = secrets.token_urlsafe(15)
        now = self.clock()
        recovery = factor.new_recovery_codes()
        by = admin.account_id if admin else "cli"
        doc: Document = {
            "_id": uuid.uuid4().hex,
            "pseudonym": name,
            "pseudonym_key": rules.skeleton(name),
            "kind": "staff",
            "password_hash": await self.passwords.hash(password),
            "role": role,
            "flavours": sorted(set(flavours)),
            "verified": verified,
            "validated": True,
            "registration": str(registration)[:100],
            "totp_nonce": secrets.token_hex(16),
            "recovery_hashes": [self.keyed_hash("recovery", code) for code in recovery],
            "must_change_password": True,
            "created_by": by,
            "created_at": now,
            "last_seen_at": now,
        }
        if verified:
            doc["verified_at"] = now
            doc["verified_by"] = by
        try:
            await self.repo.insert(doc)
        except PseudonymTaken:
            raise IdentityError("pseudonym_taken", 409, N_("Deze schuilnaam is al in gebruik.")) from None
        log.info("staff account created (role %s, %d flavours)", role, len(doc["flavours"]))
        return StaffCreated(str(doc["_id"]), name, password, self.provisioning_uri(doc), doc, recovery)

    def _totp_secret(self, doc: Document) -> str:
        return factor.totp_secret(self.settings.secret_key, str(doc["_id"]), str(doc.get("totp_nonce", "")))

    def provisioning_uri(self, doc: Document) -> str:
        return factor.provisioning_uri(self._totp_secret(doc), str(doc.get("pseudonym", "")))

    def current_totp(self, doc: Document) -> str:
        """The code of this moment (for the CLI's own check and for tests)."""
        return factor.code_at(self._totp_secret(doc), self.clock())

    async def reset_second_factor(self, admin: Actor, account_id: str) -> StaffCreated:
        """A new TOTP secret and new recovery codes for a staff member whose phone is gone or whose codes ran out.

        The old secret and codes stop working at once and every session of the account ends; the result carries
        the new provisioning URI and codes (no password: the member keeps theirs).
        """
        self._require_admin(admin)
        doc = await self.repo.get(str(account_id))
        if doc is None or doc.get("kind") != "staff":
            raise _not_staff()
        recovery = factor.new_recovery_codes()
        changes = {
            "totp_nonce": secrets.token_hex(16),
            "recovery_hashes": [self.keyed_hash("recovery", code) for code in recovery],
        }
        doc = await self.repo.update(str(account_id), changes)
        if doc is None:
            raise _not_staff()
        await self.sessions.revoke_all(str(account_id))
        log.info("staff second factor renewed by %s", admin.account_id)
        name = str(doc.get("pseudonym", ""))
        return StaffCreated(str(doc["_id"]), name, "", self.provisioning_uri(doc), doc, recovery)

    # the second factor -----------------------------------------------------------------------------------------------

    async def _totp_ok(self, doc: Document, code: str | None) -> bool:
        """A valid, unused code for this staff account (a code works once: a replay within its window fails).

        A recovery code (``xxxx-xxxx``) may stand in for the TOTP code, once each; a wrong one fails like a
        wrong TOTP code, so the caller's one answer for every failure stays.
        """
        nonce = doc.get("totp_nonce")
        clean = factor.clean_code(code)
        if nonce and factor.looks_like_recovery_code(clean):
            digest = self.keyed_hash("recovery", clean.lower())
            return await self.repo.use_recovery_code(str(doc["_id"]), digest)
        if not nonce or not rules.valid_code(clean):
            return False
        if not factor.code_matches(self._totp_secret(doc), clean, self.clock()):
            return False
        return await self.tokens.put_new(f"totpused:{doc['_id']}:{clean}", b"1", TOTP_REPLAY_TTL_S * 1000)

    # verification by an admin ----------------------------------------------------------------------------------------

    async def verify_staff(
        self,
        admin: Actor,
        account_id: str,
        role: str,
        flavours: list[str],
        registration: str,
        verified: bool,
        catalog_slugs: set[str] | None = None,
    ) -> Document:
        self._require_admin(admin)
        self._check_scope(role, flavours, catalog_slugs)
        doc = await self.repo.get(str(account_id))
        if doc is None or doc.get("kind") != "staff":
            raise _not_staff()
        if role == "professional" and verified and not str(registration).strip():
            raise IdentityError(
                "invalid", 422, N_("Leg voor een professional de registratie vast (bijvoorbeeld het BIG-nummer)."),
                extra={"field": "registration"},
            )  # fmt: skip
        now = self.clock()
        updated = await self.repo.update(
            str(account_id),
            {
                "role": role,
                "flavours": sorted(set(flavours)),
                "registration": str(registration).strip()[:100],
                "verified": bool(verified),
                "verified_at": now if verified else None,
                "verified_by": admin.account_id if verified else None,
            },
        )
        assert updated is not None
        await self._refresh_sessions(updated)
        log.info("staff account %s by %s", "verified" if verified else "unverified", admin.account_id)
        return updated

    async def staff_list(self, admin: Actor) -> list[Document]:
        self._require_admin(admin)
        return await self.repo.staff()
