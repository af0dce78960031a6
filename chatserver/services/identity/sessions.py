"""Sessions: guest sessions, log-in (with lock-out and the staff second factor), log-out, WebSocket tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from chatserver.domain import accounts as rules
from chatserver.domain.identity import Actor
from chatserver.i18n import N_
from chatserver.ports import Document, PseudonymTaken
from chatserver.services.identity.core import ATTACK_NOTICE_TTL_S, LIMITS, IdentityError, Session, log, rate_error
from chatserver.services.identity.staff import StaffAccounts

ATTACK_NOTICE = N_(
    "Iemand probeert vaak met een verkeerd wachtwoord op je account in te loggen. Jij kunt gewoon inloggen. "
    "Kies een sterk wachtwoord dat je nergens anders gebruikt; je kunt ook overal uitloggen."
)
# One answer for every failed log-in, staff included: it does not say whether the password was right.
BAD_CREDENTIALS = N_(
    "Deze gegevens kloppen niet. Controleer je schuilnaam en wachtwoord; medewerkers vullen ook de code uit "
    "hun authenticator-app in."
)
GUEST_NAME_TRIES = 8


class Sessions(StaffAccounts):
    async def create_guest(self, ip_subject: str, device_token: str = "", previous_token: str | None = None) -> Session:
        await self._limit("guest_ip", ip_subject)
        await self.check_device(device_token)
        now = self.clock()
        for _ in range(GUEST_NAME_TRIES):
            pseudonym = rules.guest_pseudonym()
            doc: Document = {
                "_id": uuid.uuid4().hex,
                "pseudonym": pseudonym,
                "pseudonym_key": rules.skeleton(pseudonym),
                "kind": "guest",
                "validated": False,
                "verified": False,
                "created_at": now,
                "last_seen_at": now,
            }
            if device_token:
                doc["device_hashes"] = [self.device_hash(device_token)]
            try:
                await self.repo.insert(doc)
            except PseudonymTaken:
                continue
            return await self._start_session(doc, previous_token)
        raise IdentityError("busy", 503, N_("We konden nu geen gastnaam maken. Probeer het zo opnieuw."))

    async def login(
        self,
        pseudonym: str,
        password: str,
        ip_subject: str,
        device_token: str = "",
        totp_code: str | None = None,
        previous_token: str | None = None,
    ) -> Session:
        """Log in; staff give password and TOTP together and hear nothing until both are checked.

        Lock-out follows the OWASP authentication guidance: failures count per (pseudonym, address hash) pair,
        which is what refuses before the password is checked, so an attacker elsewhere cannot lock the owner
        out. A slower per-pseudonym count marks an account as under attack (each further failure then spends a
        pair's whole burst, and the owner gets one notice); a right password (and TOTP) always passes it.
        """
        now = self.clock()
        key, pair = await self._login_allowed(pseudonym, ip_subject, now)
        doc = await self.repo.by_pseudonym_key(key) if key else None
        stored = doc.get("password_hash") if doc and doc.get("kind") in ("member", "staff") else None
        ok = await self.passwords.verify(stored, str(password)[: rules.PASSWORD_MAX])
        if ok and doc is not None and doc.get("kind") == "staff":
            ok = await self._totp_ok(doc, totp_code)
        if not ok or doc is None:
            await self._login_failed(key, pair, ip_subject, doc, now)
            raise IdentityError("bad_credentials", 401, BAD_CREDENTIALS)
        account_id = str(doc["_id"])
        subjects = [account_id, (doc.get("validation") or {}).get("hash") or ""]
        if device_token:
            subjects.append(self.device_hash(device_token))
        await self._check_bans(subjects)
        if stored is not None and self.passwords.needs_rehash(stored):
            await self.repo.update(account_id, {"password_hash": await self.passwords.hash(password)})
            log.info("password hash upgraded to the current parameters")
        await self.limiter.reset(LIMITS["login_fail_pair"], pair)
        if device_token:
            await self.repo.add_device(account_id, self.device_hash(device_token))
        await self.repo.touch(account_id, now)
        return await self._start_session(doc, previous_token)

    async def _login_allowed(self, pseudonym: str, ip_subject: str, now: datetime) -> tuple[str, str]:
        """The pseudonym's skeleton ("" when it is no pseudonym) and the (pseudonym, address) pair, unless the
        address or the pair has failed too often (429)."""
        decision = await self.limiter.peek(LIMITS["login_fail_ip"], ip_subject, now=now)
        if not decision.allowed:
            raise rate_error(decision.retry_after_s)
        try:
            key = rules.skeleton(rules.normalise_pseudonym(pseudonym))
        except rules.PseudonymError:
            key = ""
        pair = self.keyed_hash("login-pair", f"{key}\x00{ip_subject}")[:32]
        decision = await self.limiter.peek(LIMITS["login_fail_pair"], pair, now=now)
        if not decision.allowed:
            raise rate_error(decision.retry_after_s)
        return key, pair

    async def _login_failed(self, key: str, pair: str, ip_subject: str, doc: Document | None, now: datetime) -> None:
        """Count a failed log-in; the first failure past the per-pseudonym backoff tells the owner."""
        await self.limiter.hit(LIMITS["login_fail_ip"], ip_subject, now=now)
        if not key:
            return
        pair_limit, account_limit = LIMITS["login_fail_pair"], LIMITS["login_fail_account"]
        under_attack = not (await self.limiter.hit(account_limit, key, now=now)).allowed
        # Under attack every address gets one try per pair window; the owner's own address is unaffected.
        await self.limiter.hit(pair_limit, pair, cost=pair_limit.burst if under_attack else 1, now=now)
        if under_attack and doc is not None and doc.get("kind") in ("member", "staff"):
            await self._tell_owner_of_attack(str(doc["_id"]))

    async def _tell_owner_of_attack(self, account_id: str) -> None:
        first = await self.tokens.put_new(f"attacknotice:{account_id}", b"1", ATTACK_NOTICE_TTL_S * 1000)
        if not first:
            return
        log.warning("many failed log-ins on one account; owner notified")
        for notify in self.account_notifiers:
            try:
                await notify(account_id, ATTACK_NOTICE, "/account")
            except Exception as exc:  # the log-in answer must not depend on the notice
                log.warning("attack notice not delivered (%s)", type(exc).__name__)

    async def logout(self, actor: Actor) -> None:
        if actor.session_id:
            await self.sessions.revoke(actor.session_id, actor.account_id)

    async def logout_everywhere(self, actor: Actor) -> int:
        return await self.sessions.revoke_all(actor.account_id)

    async def ws_token(self, actor: Actor) -> str:
        return await self.sessions.issue_ws_token(actor)
