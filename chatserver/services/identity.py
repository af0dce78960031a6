"""Identity use cases: guests, members, validation, recovery, staff, bans, export, erasure, retention.

The only door to accounts. E-mail addresses and phone numbers pass through
here on their way to a keyed hash (HMAC-SHA256 with the server secret) and to
the mailer; they are never stored or logged. IP addresses arrive already
hashed (see :meth:`chatserver.adapters.ratelimit.RateLimiter.ip_subject`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec
import pyotp

from chatserver.adapters.accounts_repo import SECRET_FIELDS, AccountsRepo, PseudonymTaken, ValidationHashTaken
from chatserver.adapters.mail import Mailer
from chatserver.adapters.moderation_store import MongoModerationStore, to_ms
from chatserver.adapters.mongo_client import Database, Document
from chatserver.adapters.passwords import PasswordHashing
from chatserver.adapters.ratelimit import Limit, RateLimiter
from chatserver.adapters.redis_client import Redis
from chatserver.adapters.session_store import RedisSessionStore
from chatserver.config import Settings
from chatserver.domain import accounts as rules
from chatserver.domain import sanctions
from chatserver.domain.channels import ChannelRef
from chatserver.domain.identity import STAFF_ROLES, AccountId, Actor, StaffRole
from chatserver.services.privacy import ErasureResult, PersonalDataService
from moderation import audit as audit_chain

log = logging.getLogger("chatserver.identity")

Clock = Callable[[], datetime]
ValidationMethod = Literal["email", "phone"]

CODE_TTL_S = 15 * 60
CODE_MAX_ATTEMPTS = 5
RECOVERY_TTL_S = 15 * 60
REFERRAL_DAYS = 60
TOTP_ISSUER = "GEM community"
TOTP_REPLAY_TTL_S = 120
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed from paper
FLASH_TTL_S = 300
MAX_APPEAL_CHARS = 2000
MAX_REASON_CHARS = 500
PURGE_INTERVAL_S = 15 * 60
PURGE_BATCH = 200
AUDIT_RETRIES = 20
ATTACK_NOTICE_TTL_S = 6 * 3600
ATTACK_NOTICE = (
    "Iemand probeert vaak met een verkeerd wachtwoord op je account in te loggen. Jij kunt gewoon inloggen. "
    "Kies een sterk wachtwoord dat je nergens anders gebruikt; je kunt ook overal uitloggen."
)
# One answer for every failed log-in, staff included: it does not say whether the password was right.
BAD_CREDENTIALS = (
    "Deze gegevens kloppen niet. Controleer je schuilnaam en wachtwoord; medewerkers vullen ook de code uit "
    "hun authenticator-app in."
)

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

# What export and erasure cover is one explicit list: chatserver.services.privacy_places.PLACES.


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


TITLES = {
    400: "Ongeldige invoer",
    401: "Niet ingelogd",
    403: "Geen toegang",
    404: "Niet gevonden",
    409: "Bestaat al",
    422: "Ongeldige invoer",
    429: "Te veel pogingen",
}


def _rate_error(retry_after: int) -> IdentityError:
    minutes = (retry_after + 59) // 60
    when = f"{retry_after} seconden" if retry_after < 120 else f"{minutes} minuten"
    return IdentityError(
        "rate_limited",
        429,
        f"Je hebt dit te vaak geprobeerd. Probeer het over {when} opnieuw.",
        retry_after=retry_after,
    )


@dataclass
class Session:
    actor: Actor
    token: str


@dataclass(frozen=True)
class BanOutcome:
    ids: list[str]
    state: Literal["active", "pending"]
    until: datetime | None
    group: str


RECOVERY_SHAPE = re.compile(r"[a-z2-9]{4}-[a-z2-9]{4}")


def new_recovery_codes(n: int = RECOVERY_CODES) -> list[str]:
    """Codes shown once at enrolment; only their keyed hashes are stored, and each works once."""
    pick = secrets.choice
    return ["-".join("".join(pick(RECOVERY_ALPHABET) for _ in range(4)) for _ in range(2)) for _ in range(n)]


@dataclass
class StaffCreated:
    account_id: str
    pseudonym: str
    password: str
    provisioning_uri: str
    doc: Document = field(repr=False, default_factory=dict)
    recovery_codes: list[str] = field(default_factory=list)


class IdentityService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        redis: Redis,
        sessions: RedisSessionStore,
        mailer: Mailer,
        limiter: RateLimiter,
        passwords: PasswordHashing,
        clock: Clock | None = None,
        personal_data: PersonalDataService | None = None,
        known_flavours: frozenset[str] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.redis = redis
        self.sessions = sessions
        self.mailer = mailer
        self.limiter = limiter
        self.passwords = passwords
        self.repo = AccountsRepo(db)
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.prefix = settings.redis_key_prefix
        self.personal_data = personal_data or PersonalDataService(db, self.clock)
        # (account id, Dutch text, url) -> None: how the owner hears of an attack on their account. The forum's
        # notifications (the bell on every page) register here at start-up; without one, only the log knows.
        self.account_notifiers: list[Callable[[str, str, str], Awaitable[None]]] = []
        self.audit_store = MongoModerationStore(db)
        self.known_flavours = known_flavours

    # keyed hashes -----------------------------------------------------------

    def keyed_hash(self, purpose: str, value: str) -> str:
        return hmac.new(self.settings.secret_key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def address_hash(self, normalised: str) -> str:
        """The keyed hash kept instead of an e-mail address or phone number (one space for both)."""
        return self.keyed_hash("validation", normalised)

    def device_hash(self, device_token: str) -> str:
        return self.keyed_hash("device", device_token)

    def csrf_token(self, basis: str) -> str:
        return self.keyed_hash("csrf", basis)[:43]

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _totp_secret(self, account_id: str, nonce: str) -> str:
        raw = hmac.new(self.settings.secret_key, f"totp\x00{account_id}\x00{nonce}".encode(), hashlib.sha256).digest()
        return base64.b32encode(raw[:20]).decode()

    # actors -------------------------------------------------------------------

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

    async def _limit(self, name: str, subject: str) -> None:
        decision = await self.limiter.hit(LIMITS[name], subject)
        if not decision.allowed:
            raise _rate_error(decision.retry_after_s)

    async def limit_action(self, action: Literal["post", "publish"], actor: Actor, ip_subject: str = "") -> None:
        """Rate limit for posting and publishing, per account (and per IP hash for posts)."""
        await self._limit(f"{action}_account", actor.account_id)
        if action == "post" and ip_subject:
            await self._limit("post_ip", ip_subject)

    # bans -----------------------------------------------------------------------
    # Who may ban whom, where and for how long is decided by chatserver.domain.sanctions; this section
    # stores and enforces it. A ban with ``flavours`` shuts its subject out of those flavours only (a
    # Redis marker per flavour and account, read by :meth:`flavour_ban`); a platform-wide ban (admins)
    # also blocks log-in, new guests and validation, and ends the sessions. A permanent ban is stored
    # ``pending`` until a second admin confirms it (:meth:`confirm_ban`).

    def _ban_refusal(self, ban: Document) -> IdentityError:
        until = ban.get("until")
        when = "permanent" if until is None else f"tot {until.astimezone(UTC):%d-%m-%Y %H:%M} UTC"
        return IdentityError(
            "banned",
            403,
            f"Je hebt hier geen toegang ({when}). Reden: {ban.get('reason', '')}. "
            "Ben je het er niet mee eens? Stuur de moderatoren een bezwaar.",
            extra={"ban_id": str(ban["_id"]), "until": until.isoformat() if until else None},
        )

    async def _check_bans(self, subjects: list[str]) -> None:
        """Platform-wide bans only: flavour-scoped ones are enforced per flavour (:meth:`flavour_ban`)."""
        bans = await self.repo.active_bans(subjects, self.clock())
        if bans:
            raise self._ban_refusal(bans[0])

    async def check_device(self, device_token: str) -> None:
        if device_token:
            await self._check_bans([self.device_hash(device_token)])

    def _flavour_ban_key(self, flavour: str, account_id: str) -> str:
        return self._key("fban", flavour, account_id)

    async def flavour_ban_gate(self, actor: Actor, ref: ChannelRef) -> str | None:
        """A chat gate: a flavour-scoped ban refuses publishing in that flavour (staff are never banned so)."""
        return None if actor.is_staff else await self.flavour_ban(str(actor.account_id), ref.flavour)

    async def flavour_ban(self, account_id: str, flavour: str) -> str | None:
        """The Dutch refusal when the account is banned from this flavour, else None (one Redis question)."""
        ttl_ms = int(await self.redis.pttl(self._flavour_ban_key(flavour, str(account_id))))
        if ttl_ms == -2:
            return None
        if ttl_ms == -1:
            return "Je hebt in deze community geen toegang meer. Ben je het er niet mee eens? Stuur een bezwaar."
        until = self.clock() + timedelta(milliseconds=ttl_ms)
        return (
            f"Je hebt in deze community tijdelijk geen toegang (tot {until.astimezone(UTC):%d-%m-%Y %H:%M} UTC). "
            "Ben je het er niet mee eens? Stuur een bezwaar."
        )

    async def _target(self, account_id: str) -> tuple[Document, sanctions.Target]:
        doc = await self.repo.get(str(account_id))
        if doc is None or doc.get("kind") == "deleted":
            raise IdentityError("not_found", 404, "Dit account bestaat niet.")
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
            raise IdentityError("forbidden", 403, "Alleen geverifieerde medewerkers geven verwijscodes uit.")
        if action == "ban" and sanctions.limit_of(actor, "ban") is None:
            raise IdentityError("forbidden", 403, "Jouw rol kan niemand dempen of weren.")

    async def sanction_target(self, account_id: str) -> sanctions.Target:
        """The stored kind and role of an account, for :func:`sanctions.refusal` (mutes in the moderation service)."""
        return (await self._target(account_id))[1]

    async def ban(
        self,
        moderator: Actor,
        account_id: str,
        reason: str,
        *,
        duration: timedelta | None,
        flavours: Collection[str] | None,
        permanent: bool = False,
        scopes: tuple[str, ...] = ("account", "validation", "device"),
    ) -> BanOutcome:
        """Ban an account within the moderator's authority (see :mod:`chatserver.domain.sanctions`).

        ``duration=None`` needs ``permanent=True`` (an admin; the ban then waits for a second admin).
        ``flavours=None`` is platform-wide (admins): log-in, its validation hash and devices are refused and its
        sessions end. Returns the ban ids, ``"active"`` or ``"pending"``, and the end.
        """
        self.require_sanctioner(moderator)
        doc, target = await self._target(account_id)
        scope = frozenset(str(f) for f in flavours) if flavours is not None else None
        # Who, whom and where first (403), so a refused request learns nothing from the duration checks.
        who = sanctions.refusal(moderator, target, sanctions.Sanction("ban", sanctions.MIN_SANCTION, scope))
        if who is not None:
            raise IdentityError("forbidden", 403, who)
        if duration is None and not permanent:
            raise IdentityError("invalid", 422, "Kies hoe lang de maatregel duurt (uren of dagen).")
        if duration is not None and permanent:
            raise IdentityError("invalid", 422, "Kies een duur of 'voorgoed', niet allebei.")
        sanction = sanctions.Sanction("ban", duration, scope)
        self.authorise_sanction(moderator, target, sanction)
        if scope is not None and self.known_flavours is not None and not scope <= self.known_flavours:
            raise IdentityError("invalid", 422, "Onbekende community.", extra={"field": "flavours"})
        now = self.clock()
        until = now + duration if duration is not None else None
        pending = duration is None
        group = uuid.uuid4().hex
        subjects: list[tuple[str, str]] = []
        if "account" in scopes:
            subjects.append(("account", str(doc["_id"])))
        validation_hash = (doc.get("validation") or {}).get("hash")
        if "validation" in scopes and validation_hash:
            subjects.append(("validation", validation_hash))
        if "device" in scopes:
            subjects.extend(("device", h) for h in doc.get("device_hashes") or ())
        if not subjects:
            raise IdentityError("invalid", 422, "Kies waarop de maatregel geldt (account, adres of apparaat).")
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
        length = "voorgoed (wacht op tweede beheerder)" if pending else sanctions.describe(duration or timedelta())
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
            key = self._flavour_ban_key(flavour, account_id)
            if until is None:
                await self.redis.set(key, b"1")
            else:
                await self.redis.set(key, b"1", px=max(1, int((until - now).total_seconds() * 1000)))

    async def confirm_ban(self, admin: Actor, ban_id: str) -> BanOutcome:
        """A second admin confirms a pending permanent ban; only then does it take effect."""
        if not admin.is_admin or not admin.verified:
            raise IdentityError("forbidden", 403, "Alleen een tweede beheerder kan een blijvende maatregel bevestigen.")
        ban = await self.repo.get_ban(str(ban_id))
        if ban is None or not ban.get("pending") or ban.get("lifted"):
            raise IdentityError("not_found", 404, "Er wacht geen maatregel met dit nummer op bevestiging.")
        if str(ban.get("by")) == admin.account_id:
            raise IdentityError(
                "forbidden", 403, "Een blijvende maatregel bevestigt een andere beheerder dan wie hem aanvroeg."
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
            raise IdentityError("invalid", 422, "Schrijf kort waarom je bezwaar maakt.")
        ban = await self.repo.get_ban(str(ban_id))
        if ban is None:
            raise IdentityError("not_found", 404, "Deze maatregel bestaat niet.")
        await self.repo.set_appeal(str(ban_id), text[:MAX_APPEAL_CHARS], self.clock())

    async def lift_ban(self, moderator: Actor, ban_id: str) -> None:
        """Lift a ban: whoever could have imposed it (same flavours, rank above the target) may lift it."""
        ban = await self.repo.get_ban(str(ban_id))
        if ban is None:
            raise IdentityError("not_found", 404, "Deze maatregel bestaat niet.")
        _, target = await self._target(str(ban.get("account_id") or ban.get("subject")))
        flavours = ban.get("flavours")
        scope = frozenset(flavours) if flavours is not None else None
        reason = sanctions.refusal(moderator, target, sanctions.Sanction("ban", sanctions.MIN_SANCTION, scope))
        if reason is not None:
            raise IdentityError("forbidden", 403, reason)
        group = str(ban.get("group") or ban["_id"])
        await self.repo.lift_ban_group(group)
        for flavour in scope or ():
            await self.redis.delete(self._flavour_ban_key(flavour, target.account_id))
        await self._audit(moderator, "ban_lifted", "", group, ",".join(sorted(scope or ())))

    async def _audit(self, actor: Actor, action: str, reason: str, subject: str, flavour: str) -> None:
        """One entry in the moderation audit chain (the same hash chain the queue's decisions use)."""
        role: Any = actor.role or "admin"
        for _ in range(AUDIT_RETRIES):
            entry = audit_chain.append(
                await self.audit_store.last_audit_entry(),
                actor_id=str(actor.account_id),
                role=role,
                at=to_ms(self.clock()),
                action=action,
                reason=str(reason)[:MAX_REASON_CHARS],
                item_id=f"ban:{subject}",
                flavour=flavour,
            )
            if await self.audit_store.append_audit(entry):
                return
        raise IdentityError("busy", 503, "Het auditlog is even niet bij te werken. Probeer het opnieuw.")

    # guests and members ---------------------------------------------------------------

    async def create_guest(self, ip_subject: str, device_token: str = "", previous_token: str | None = None) -> Session:
        await self._limit("guest_ip", ip_subject)
        await self.check_device(device_token)
        now = self.clock()
        for _ in range(8):
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
        raise IdentityError("busy", 503, "We konden nu geen gastnaam maken. Probeer het zo opnieuw.")

    async def check_pseudonym(self, raw: str) -> str:
        """The normalised pseudonym if it is valid and free; else an error with suggestions."""
        try:
            name = rules.normalise_pseudonym(raw)
        except rules.PseudonymError as exc:
            raise IdentityError("invalid_pseudonym", 422, exc.reason, extra={"field": "pseudonym"}) from None
        key = rules.skeleton(name)
        if key.startswith(("gast_", "gast")) or key in RESERVED_SKELETONS:
            raise IdentityError(
                "invalid_pseudonym",
                422,
                "Deze schuilnaam is voorbehouden. Kies een andere.",
                extra={"field": "pseudonym"},
            )
        if await self.repo.key_taken(key) or await self.pseudonym_reserved(key):
            raise IdentityError(
                "pseudonym_taken",
                409,
                "Deze schuilnaam (of een die er sterk op lijkt) is al in gebruik.",
                extra={"field": "pseudonym", "suggestions": await self.free_suggestions(name)},
            )
        return name

    async def free_suggestions(self, name: str) -> list[str]:
        out: list[str] = []
        for candidate in rules.suggestions(name, 6):
            key = rules.skeleton(candidate)
            if not await self.repo.key_taken(key) and not await self.pseudonym_reserved(key):
                out.append(candidate)
            if len(out) == 3:
                break
        return out

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
            raise IdentityError(
                "pseudonym_taken",
                409,
                "Deze schuilnaam (of een die er sterk op lijkt) is al in gebruik.",
                extra={"field": "pseudonym", "suggestions": await self.free_suggestions(name)},
            ) from None
        if device_token:
            await self.repo.add_device(str(doc["_id"]), self.device_hash(device_token))
        log.info("member registered (%s)", "from guest" if current is not None and current.is_guest else "new")
        return await self._start_session(doc, previous_token)

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
        ip_limit, pair_limit = LIMITS["login_fail_ip"], LIMITS["login_fail_pair"]
        decision = await self.limiter.peek(ip_limit, ip_subject, now=now)
        if not decision.allowed:
            raise _rate_error(decision.retry_after_s)
        try:
            key = rules.skeleton(rules.normalise_pseudonym(pseudonym))
        except rules.PseudonymError:
            key = ""
        pair = self.keyed_hash("login-pair", f"{key}\x00{ip_subject}")[:32]
        decision = await self.limiter.peek(pair_limit, pair, now=now)
        if not decision.allowed:
            raise _rate_error(decision.retry_after_s)
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
        await self.limiter.reset(pair_limit, pair)
        if device_token:
            await self.repo.add_device(account_id, self.device_hash(device_token))
        await self.repo.touch(account_id, now)
        return await self._start_session(doc, previous_token)

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
        first = await self.redis.set(self._key("attacknotice", account_id), b"1", nx=True, ex=ATTACK_NOTICE_TTL_S)
        if not first:
            return
        log.warning("many failed log-ins on one account; owner notified")
        for notify in self.account_notifiers:
            try:
                await notify(account_id, ATTACK_NOTICE, "/account")
            except Exception as exc:  # the log-in answer must not depend on the notice
                log.warning("attack notice not delivered (%s)", type(exc).__name__)

    async def _totp_ok(self, doc: Document, code: str | None) -> bool:
        """A valid, unused code for this staff account (a code works once: a replay within its window fails).

        A recovery code (``xxxx-xxxx``) may stand in for the TOTP code, once each; a wrong one fails like a
        wrong TOTP code, so the caller's one answer for every failure stays.
        """
        nonce = doc.get("totp_nonce")
        clean = str(code or "").strip().replace(" ", "")
        if nonce and RECOVERY_SHAPE.fullmatch(clean.lower()):
            digest = self.keyed_hash("recovery", clean.lower())
            return await self.repo.use_recovery_code(str(doc["_id"]), digest)
        if not nonce or not rules.valid_code(clean):
            return False
        totp = pyotp.TOTP(self._totp_secret(str(doc["_id"]), str(nonce)))
        if not totp.verify(clean, for_time=self.clock(), valid_window=1):
            return False
        used = await self.redis.set(self._key("totpused", str(doc["_id"]), clean), b"1", nx=True, ex=TOTP_REPLAY_TTL_S)
        return bool(used)

    async def logout(self, actor: Actor) -> None:
        if actor.session_id:
            await self.sessions.revoke(actor.session_id, actor.account_id)

    async def logout_everywhere(self, actor: Actor) -> int:
        return await self.sessions.revoke_all(actor.account_id)

    async def ws_token(self, actor: Actor) -> str:
        return await self.sessions.issue_ws_token(actor)

    async def account(self, actor: Actor) -> Document:
        doc = await self.repo.get(actor.account_id)
        if doc is None or doc.get("kind") == "deleted":
            raise IdentityError("not_found", 404, "Dit account bestaat niet (meer).")
        return doc

    def public_view(self, doc: Document) -> dict[str, Any]:
        validation = doc.get("validation") or {}
        out: dict[str, Any] = {
            "id": str(doc["_id"]),
            "pseudonym": doc.get("pseudonym", ""),
            "kind": doc.get("kind", "guest"),
            "validated": bool(doc.get("validated")),
            "validation_method": validation.get("method"),
            "created_at": _iso(doc.get("created_at")),
        }
        if doc.get("kind") == "staff":
            out.update(
                role=doc.get("role"),
                flavours=sorted(doc.get("flavours") or ()),
                verified=bool(doc.get("verified")),
            )
        return out

    # validation ----------------------------------------------------------------------

    def normalise_address(self, method: str, address: str) -> str:
        if method == "email":
            value = rules.normalise_email(address)
            if value is None:
                raise IdentityError("invalid_address", 422, "Vul een geldig e-mailadres in.", extra={"field": "email"})
            return value
        if method == "phone":
            value = rules.normalise_phone(address)
            if value is None:
                raise IdentityError(
                    "invalid_address", 422, "Vul een geldig mobiel nummer in, bijvoorbeeld 06 12345678.",
                    extra={"field": "phone"},
                )  # fmt: skip
            return value
        raise IdentityError("invalid", 422, "Kies e-mail of telefoon.")

    async def request_validation(self, actor: Actor, method: ValidationMethod, address: str, ip_subject: str) -> None:
        if actor.is_guest:
            raise IdentityError("forbidden", 403, "Maak eerst een account aan; daarna kun je het valideren.")
        value = self.normalise_address(method, address)
        await self._limit("code_account", actor.account_id)
        await self._limit("code_ip", ip_subject)
        digest = self.address_hash(value)
        await self._check_bans([digest])
        owner = await self.repo.by_validation_hash(digest)
        if owner is not None and str(owner["_id"]) != actor.account_id:
            raise IdentityError(
                "address_in_use",
                409,
                "Dit adres hoort al bij een ander account. Ben je je wachtwoord vergeten? "
                "Gebruik dan 'account herstellen'.",
            )
        code = rules.new_code()
        record = {"hash": digest, "method": method, "code": self.keyed_hash("code", code), "attempts": 0}
        await self.redis.set(self._key("vcode", actor.account_id), msgspec.json.encode(record), ex=CODE_TTL_S)
        body = (
            f"Je validatiecode is: {code}\n\nDe code is 15 minuten geldig. Heb je hier niet om gevraagd? "
            "Dan kun je dit bericht negeren.\n\nWe bewaren je adres niet: alleen een onomkeerbare vingerafdruk ervan."
        )
        if method == "email":
            await self.mailer.send(value, "Je validatiecode", body)
        else:
            await self.mailer.send_text(value, f"Je validatiecode is {code} (15 minuten geldig).")
        log.info("validation code sent (%s)", method)

    async def confirm_validation(self, actor: Actor, code: str) -> Actor:
        await self._limit("confirm_account", actor.account_id)
        key = self._key("vcode", actor.account_id)
        raw = await self.redis.get(key)
        if raw is None:
            raise IdentityError("code_expired", 422, "Deze code is verlopen of al gebruikt. Vraag een nieuwe code aan.")
        record = msgspec.json.decode(raw)
        expected = str(record.get("code", ""))
        if not rules.valid_code(code) or not hmac.compare_digest(expected, self.keyed_hash("code", str(code))):
            attempts = int(record.get("attempts", 0)) + 1
            if attempts >= CODE_MAX_ATTEMPTS:
                await self.redis.delete(key)
                raise IdentityError("code_invalid", 422, "De code klopt niet. Vraag een nieuwe code aan.")
            record["attempts"] = attempts
            await self.redis.set(key, msgspec.json.encode(record), keepttl=True, xx=True)
            raise IdentityError(
                "code_invalid", 422, "De code klopt niet. Controleer de cijfers en probeer het opnieuw."
            )
        await self.redis.delete(key)
        await self._check_bans([record["hash"]])
        validation = {"method": record["method"], "hash": record["hash"], "at": self.clock()}
        try:
            doc = await self.repo.set_validation(actor.account_id, validation)
        except ValidationHashTaken:
            raise IdentityError("address_in_use", 409, "Dit adres hoort al bij een ander account.") from None
        if doc is None:
            raise IdentityError("not_found", 404, "Dit account bestaat niet (meer).")
        await self._refresh_sessions(doc)
        log.info("account validated (%s)", record["method"])
        return self.actor_from_doc(doc, actor.session_id)

    async def create_referral(self, staff: Actor, flavour: str, days: int = REFERRAL_DAYS) -> str:
        if not staff.is_staff or not staff.verified or not staff.staff_in(flavour):
            raise IdentityError(
                "forbidden", 403, "Alleen geverifieerde medewerkers van deze community geven verwijscodes uit."
            )
        code = "-".join(secrets.token_hex(2).upper() for _ in range(3))
        now = self.clock()
        await self.repo.add_referral(
            {
                "_id": self.keyed_hash("referral", code),
                "flavour": flavour,
                "created_by": staff.account_id,
                "created_at": now,
                "expires_at": now + timedelta(days=days),
                "used_by": None,
            }
        )
        return code

    async def redeem_referral(self, actor: Actor, code: str) -> Actor:
        if actor.is_guest:
            raise IdentityError("forbidden", 403, "Maak eerst een account aan; daarna kun je de verwijscode invullen.")
        await self._limit("confirm_account", actor.account_id)
        clean = str(code).strip().upper().replace(" ", "")
        used = await self.repo.use_referral(self.keyed_hash("referral", clean), actor.account_id, self.clock())
        if used is None:
            raise IdentityError("code_invalid", 422, "Deze verwijscode klopt niet, is verlopen of is al gebruikt.")
        doc = await self.repo.update(
            actor.account_id,
            {"validated": True, "referral": {"flavour": used.get("flavour"), "at": self.clock()}},
        )
        if doc is None:
            raise IdentityError("not_found", 404, "Dit account bestaat niet (meer).")
        if not doc.get("validation"):
            doc = await self.repo.update(actor.account_id, {"validation": {"method": "referral", "at": self.clock()}})
            assert doc is not None
        await self._refresh_sessions(doc)
        return self.actor_from_doc(doc, actor.session_id)

    # recovery ---------------------------------------------------------------------------

    async def request_recovery(self, method: ValidationMethod, address: str, ip_subject: str) -> None:
        """Mails a recovery code when the address belongs to an account; answers the same either way."""
        value = self.normalise_address(method, address)
        await self._limit("recovery_ip", ip_subject)
        doc = await self.repo.by_validation_hash(self.address_hash(value))
        if doc is None or doc.get("kind") not in ("member", "staff"):
            return
        token = secrets.token_urlsafe(12)
        await self.redis.set(
            self._key("recovery", self.keyed_hash("recovery", token)), str(doc["_id"]), ex=RECOVERY_TTL_S
        )
        body = (
            f"Je herstelcode voor '{doc.get('pseudonym', '')}' is: {token}\n\nVul hem in op de pagina "
            "'account herstellen' en kies een nieuw wachtwoord. De code is 15 minuten geldig."
        )
        if method == "email":
            await self.mailer.send(value, "Je account herstellen", body)
        else:
            await self.mailer.send_text(value, f"Herstelcode: {token} (15 minuten geldig)")
        log.info("recovery code sent (%s)", method)

    async def confirm_recovery(
        self, code: str, new_password: str, ip_subject: str, device_token: str = "", previous_token: str | None = None
    ) -> Session:
        await self._limit("recovery_ip", ip_subject)
        account_id = await self.redis.getdel(self._key("recovery", self.keyed_hash("recovery", str(code).strip())))
        if account_id is None:
            raise IdentityError("code_invalid", 422, "Deze herstelcode klopt niet of is verlopen.")
        doc = await self.repo.get(account_id.decode() if isinstance(account_id, bytes) else str(account_id))
        if doc is None or doc.get("kind") not in ("member", "staff"):
            raise IdentityError("code_invalid", 422, "Deze herstelcode klopt niet of is verlopen.")
        problem = rules.password_problem(new_password, str(doc.get("pseudonym", "")))
        if problem:
            raise IdentityError("weak_password", 422, problem, extra={"field": "password"})
        await self._check_bans([str(doc["_id"]), (doc.get("validation") or {}).get("hash") or ""])
        updated = await self.repo.update(str(doc["_id"]), {"password_hash": await self.passwords.hash(new_password)})
        assert updated is not None
        await self.sessions.revoke_all(str(doc["_id"]))
        if doc.get("kind") == "staff":
            raise IdentityError("totp_required", 401, "Je wachtwoord is gewijzigd. Log in via de medewerkerspagina.")
        return await self._start_session(updated, previous_token)

    # staff --------------------------------------------------------------------------------

    def _require_admin(self, actor: Actor | None) -> None:
        if actor is not None and not actor.is_admin:
            raise IdentityError("forbidden", 403, "Alleen een beheerder mag dit.")

    def _check_scope(self, role: str, flavours: list[str], catalog_slugs: set[str] | None) -> None:
        if role not in STAFF_ROLES:
            raise IdentityError("invalid", 422, "Onbekende rol.", extra={"field": "role"})
        if catalog_slugs is not None:
            unknown = [f for f in flavours if f not in catalog_slugs]
            if unknown:
                raise IdentityError(
                    "invalid", 422, "Onbekende community: " + ", ".join(unknown), extra={"field": "flavours"}
                )

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
        account_id = uuid.uuid4().hex
        nonce = secrets.token_hex(16)
        recovery = new_recovery_codes()
        doc: Document = {
            "_id": account_id,
            "pseudonym": name,
            "pseudonym_key": rules.skeleton(name),
            "kind": "staff",
            "password_hash": await self.passwords.hash(password),
            "role": role,
            "flavours": sorted(set(flavours)),
            "verified": verified,
            "validated": True,
            "registration": str(registration)[:100],
            "totp_nonce": nonce,
            "recovery_hashes": [self.keyed_hash("recovery", code) for code in recovery],
            "must_change_password": True,
            "created_by": admin.account_id if admin else "cli",
            "created_at": now,
            "last_seen_at": now,
        }
        if verified:
            doc["verified_at"] = now
            doc["verified_by"] = admin.account_id if admin else "cli"
        try:
            await self.repo.insert(doc)
        except PseudonymTaken:
            raise IdentityError("pseudonym_taken", 409, "Deze schuilnaam is al in gebruik.") from None
        log.info("staff account created (role %s, %d flavours)", role, len(doc["flavours"]))
        return StaffCreated(account_id, name, password, self.provisioning_uri(doc), doc, recovery)

    def provisioning_uri(self, doc: Document) -> str:
        secret = self._totp_secret(str(doc["_id"]), str(doc.get("totp_nonce", "")))
        return str(pyotp.TOTP(secret).provisioning_uri(name=str(doc.get("pseudonym", "")), issuer_name=TOTP_ISSUER))

    def current_totp(self, doc: Document) -> str:
        """The code of this moment (for the CLI's own check and for tests)."""
        return str(pyotp.TOTP(self._totp_secret(str(doc["_id"]), str(doc.get("totp_nonce", "")))).at(self.clock()))

    async def reset_totp(self, admin: Actor, account_id: str) -> str:
        self._require_admin(admin)
        doc = await self.repo.update(str(account_id), {"totp_nonce": secrets.token_hex(16)})
        if doc is None or doc.get("kind") != "staff":
            raise IdentityError("not_found", 404, "Deze medewerker bestaat niet.")
        await self.sessions.revoke_all(str(account_id))
        return self.provisioning_uri(doc)

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
            raise IdentityError("not_found", 404, "Deze medewerker bestaat niet.")
        if role == "professional" and verified and not str(registration).strip():
            raise IdentityError(
                "invalid", 422, "Leg voor een professional de registratie vast (bijvoorbeeld het BIG-nummer).",
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

    # flash values (shown once after a redirect) -------------------------------------------

    async def put_flash(self, session_id: str, value: dict[str, Any]) -> None:
        await self.redis.set(self._key("flash", session_id), msgspec.json.encode(value), ex=FLASH_TTL_S)

    async def pop_flash(self, session_id: str) -> dict[str, Any] | None:
        raw = await self.redis.getdel(self._key("flash", session_id))
        return dict(msgspec.json.decode(raw)) if raw else None

    # privacy ---------------------------------------------------------------------------------

    async def export_my_data(self, actor: Actor) -> dict[str, Any]:
        """Everything stored about the account, as JSON-ready data (secrets left out); the places are
        :data:`chatserver.services.privacy_places.PLACES`, the same list erasure walks."""
        doc = await self.account(actor)
        account = {k: _jsonable(v) for k, v in doc.items() if k not in SECRET_FIELDS}
        validation = doc.get("validation")
        if isinstance(validation, dict):
            account["validation"] = {"method": validation.get("method"), "at": _iso(validation.get("at"))}
        account["devices"] = len(doc.get("device_hashes") or ())
        return {
            "exported_at": _iso(self.clock()),
            "account": account,
            "collections": await self.personal_data.export(str(doc["_id"])),
            "note": "Je e-mailadres, telefoonnummer en IP-adres bewaren we niet; daarom staan ze hier ook niet.",
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

    def pseudonym_reservation(self, key: str) -> str:
        """The keyed hash under which an erased pseudonym's look-alike key is reserved (never the name itself)."""
        return self.keyed_hash("erased-pseudonym", key)

    async def pseudonym_reserved(self, key: str) -> bool:
        return await self.personal_data.is_reserved(self.pseudonym_reservation(key), self.clock())

    async def _erase(self, doc: Document, keep_posts: bool) -> ErasureResult:
        account_id = str(doc["_id"])
        await self.sessions.revoke_all(account_id)
        pseudonym = str(doc.get("pseudonym", ""))
        result = await self.personal_data.erase(account_id, pseudonym, keep_posts)
        await self.redis.delete(self._key("vcode", account_id))
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


RESERVED_SKELETONS = frozenset(
    rules.skeleton(n)
    for n in (
        "admin", "beheer", "beheerder", "moderator", "moderatie", "redactie", "staff", "medewerker", "systeem",
        "system", "verwijderd", "deleted", "support", "hulp", "crisis", "anoniem",
    )
)  # fmt: skip


def _iso(value: Any) -> str | None:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
