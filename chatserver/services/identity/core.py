"""What every identity use case shares: the stores, keyed hashes, actors, sessions, rate limits and errors.

E-mail addresses and phone numbers pass through the identity service on their way to a keyed hash (HMAC-SHA256
with the server secret) and to the mailer; they are never stored or logged. IP addresses arrive already hashed
(see :meth:`chatserver.ports.RateLimiter.ip_subject`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from chatserver.clock import Clock
from chatserver.config import Settings
from chatserver.domain.identity import AccountId, Actor, StaffRole
from chatserver.i18n import N_
from chatserver.ports import (
    AccountStore,
    Document,
    Limit,
    Mailer,
    PasswordHasher,
    RateLimiter,
    SessionStore,
    ShortLivedStore,
)
from chatserver.services.privacy import PersonalDataService
from moderation.ports import ModerationStore

log = logging.getLogger("chatserver.identity")

CODE_TTL_S = 15 * 60
CODE_MAX_ATTEMPTS = 5
RECOVERY_TTL_S = 15 * 60
REFERRAL_DAYS = 60
TOTP_REPLAY_TTL_S = 120
FLASH_TTL_S = 300
MAX_APPEAL_CHARS = 2000
MAX_REASON_CHARS = 500
PURGE_INTERVAL_S = 15 * 60
PURGE_BATCH = 200
AUDIT_RETRIES = 20
ATTACK_NOTICE_TTL_S = 6 * 3600

LIMITS: dict[str, Limit] = {
    "guest_ip": Limit("guest_ip", burst=200, rate=200, period_s=60),
    "register_ip": Limit("register_ip", burst=20, rate=20, period_s=3600),
    "login_fail_ip": Limit("login_fail_ip", burst=20, rate=20, period_s=600),
    # Log-in failures (see IdentityService.login): per address hash, per (pseudonym, address hash) pair, and
    # a slower per-pseudonym count that only marks an account as under attack.
    "login_fail_pair": Limit("login_fail_pair", burst=5, rate=1, period_s=60),
    "login_fail_account": Limit("login_fail_account", burst=20, rate=1, period_s=300),
    "code_account": Limit("code_account", burst=3, rate=3, period_s=900),
    "code_ip": Limit("code_ip", burst=10, rate=10, period_s=3600),
    "confirm_account": Limit("confirm_account", burst=10, rate=10, period_s=3600),
    "recovery_ip": Limit("recovery_ip", burst=5, rate=5, period_s=3600),
    "post_account": Limit("post_account", burst=10, rate=30, period_s=60),
    "post_ip": Limit("post_ip", burst=30, rate=60, period_s=60),
    "publish_account": Limit("publish_account", burst=5, rate=20, period_s=3600),
}

TITLES = {
    400: N_("Ongeldige invoer"),
    401: N_("Niet ingelogd"),
    403: N_("Geen toegang"),
    404: N_("Niet gevonden"),
    409: N_("Bestaat al"),
    422: N_("Ongeldige invoer"),
    429: N_("Te veel pogingen"),
}


class IdentityError(Exception):
    """A refused use case; ``detail`` is the Dutch explanation for the person."""

    def __init__(
        self,
        code: str,
        status: int,
        detail: str,
        *,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self.extra = extra or {}


def rate_error(retry_after: int) -> IdentityError:
    minutes = (retry_after + 59) // 60
    when = f"{retry_after} seconden" if retry_after < 120 else f"{minutes} minuten"
    return IdentityError(
        "rate_limited",
        429,
        N_("Je hebt dit te vaak geprobeerd. Probeer het over %s opnieuw.") % when,
        retry_after=retry_after,
    )


def gone() -> IdentityError:
    return IdentityError("not_found", 404, N_("Dit account bestaat niet (meer)."))


@dataclass
class Session:
    actor: Actor
    token: str


AccountNotifier = Callable[[str, str, str], Awaitable[None]]


class IdentityCore:
    """The state of the identity service and what its concepts share. Each concept is a class of its own module
    built on this one (see :class:`chatserver.services.identity.IdentityService`)."""

    def __init__(
        self,
        settings: Settings,
        accounts: AccountStore,
        tokens: ShortLivedStore,
        sessions: SessionStore,
        mailer: Mailer,
        limiter: RateLimiter,
        passwords: PasswordHasher,
        audit: ModerationStore,
        personal_data: PersonalDataService,
        clock: Clock,
        known_flavours: frozenset[str] | None = None,
    ) -> None:
        self.settings = settings
        self.repo = accounts
        self.tokens = tokens
        self.sessions = sessions
        self.mailer = mailer
        self.limiter = limiter
        self.passwords = passwords
        self.audit_store = audit
        self.personal_data = personal_data
        self.clock = clock
        self.known_flavours = known_flavours
        # (account id, Dutch text, url) -> None: how the owner hears of an attack on their account. The forum's
        # notifications (the bell on every page) are added by the wiring; without one, only the log knows.
        self.account_notifiers: list[AccountNotifier] = []

    # keyed hashes -----------------------------------------------------------------------------------------------------

    def keyed_hash(self, purpose: str, value: str) -> str:
        return hmac.new(self.settings.secret_key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def address_hash(self, normalised: str) -> str:
        """The keyed hash kept instead of an e-mail address or phone number (one space for both)."""
        return self.keyed_hash("validation", normalised)

    def device_hash(self, device_token: str) -> str:
        return self.keyed_hash("device", device_token)

    def csrf_token(self, basis: str) -> str:
        return self.keyed_hash("csrf", basis)[:43]

    # actors and sessions ----------------------------------------------------------------------------------------------

    def actor_from_doc(self, doc: Document, session_id: str = "") -> Actor:
        verified = bool(doc.get("verified"))
        kind = doc.get("kind", "guest")
        role: StaffRole | None = doc.get("role") if kind == "staff" and verified else None
        return Actor(
            account_id=AccountId(str(doc["_id"])),
            pseudonym=str(doc.get("pseudonym", "")),
            kind=kind,
            session_id=session_id,
            role=role,
            flavours=frozenset(doc.get("flavours") or ()) if role else frozenset(),
            validated=bool(doc.get("validated")),
            verified=verified,
        )

    async def _start_session(self, doc: Document, previous_token: str | None) -> Session:
        """A fresh session (the token changes at every log-in: no fixation); the previous one ends."""
        if previous_token:
            await self.sessions.revoke_token(previous_token)
        actor = self.actor_from_doc(doc)
        token = await self.sessions.create(actor)
        fresh = await self.sessions.get(token, touch=False)
        return Session(actor=fresh or actor, token=token)

    async def _refresh_sessions(self, doc: Document) -> None:
        await self.sessions.update_account(self.actor_from_doc(doc))

    async def account(self, actor: Actor) -> Document:
        doc = await self.repo.get(actor.account_id)
        if doc is None or doc.get("kind") == "deleted":
            raise gone()
        return doc

    # rate limits ------------------------------------------------------------------------------------------------------

    async def _limit(self, name: str, subject: str) -> None:
        decision = await self.limiter.hit(LIMITS[name], subject)
        if not decision.allowed:
            raise rate_error(decision.retry_after_s)

    async def limit_action(self, action: Literal["post", "publish"], actor: Actor, ip_subject: str = "") -> None:
        """Rate limit for posting and publishing, per account (and per IP hash for posts)."""
        await self._limit(f"{action}_account", actor.account_id)
        if action == "post" and ip_subject:
            await self._limit("post_ip", ip_subject)

    # flash values (shown once after a redirect) -----------------------------------------------------------------------

    async def put_flash(self, session_id: str, value: dict[str, Any]) -> None:
        await self.tokens.put(f"flash:{session_id}", msgspec.json.encode(value), FLASH_TTL_S * 1000)

    async def pop_flash(self, session_id: str) -> dict[str, Any] | None:
        raw = await self.tokens.take(f"flash:{session_id}")
        return dict(msgspec.json.decode(raw)) if raw else None
