"""Who may mute or ban whom, where and for how long: the pure policy behind every sanction.

One table for the identity service (bans) and the moderation service (mutes and bans from the queue):

- volunteers, peer experts and editors (who moderate at the volunteer tier, see ``moderation.tiers``):
  members and guests only, in their own flavours, at most :data:`MAX_SHORT_SANCTION`;
- professionals: the same, at most :data:`MAX_PROFESSIONAL_SANCTION`;
- admins: anyone below admin, in any flavour or platform-wide, timed up to :data:`MAX_TIMED_BAN`; a
  permanent ban waits for a second admin (see ``IdentityService.confirm_ban``).

No duration is never "for ever": a permanent ban is asked for explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from chatserver.domain.identity import Actor
from chatserver.i18n import N_

SanctionKind = Literal["mute", "ban"]

MAX_SHORT_SANCTION = timedelta(hours=24)
MAX_PROFESSIONAL_SANCTION = timedelta(days=7)
MAX_TIMED_BAN = timedelta(days=3650)
MAX_ADMIN_MUTE = timedelta(days=90)
MIN_SANCTION = timedelta(minutes=1)

# The longest sanction per role; a role that is not here may not sanction anyone.
SANCTION_LIMITS: dict[str, timedelta] = {
    "volunteer": MAX_SHORT_SANCTION,
    "peer_expert": MAX_SHORT_SANCTION,
    "editor": MAX_SHORT_SANCTION,
    "professional": MAX_PROFESSIONAL_SANCTION,
    "admin": MAX_TIMED_BAN,
}
# Rank of a role for "never against an equal or higher role"; members and guests rank 0.
ROLE_RANK: dict[str, int] = {"volunteer": 1, "peer_expert": 2, "professional": 3, "editor": 3, "admin": 5}


@dataclass(frozen=True, slots=True)
class Target:
    """The account a sanction is aimed at, as stored (``role`` only for staff accounts)."""

    account_id: str
    kind: str
    role: str | None = None

    @property
    def rank(self) -> int:
        return ROLE_RANK.get(self.role or "", 1) if self.kind == "staff" else 0


@dataclass(frozen=True, slots=True)
class Sanction:
    """What is asked for: ``duration=None`` is permanent, ``flavours=None`` is platform-wide."""

    kind: SanctionKind
    duration: timedelta | None
    flavours: frozenset[str] | None


def limit_of(actor: Actor, kind: SanctionKind) -> timedelta | None:
    """The longest sanction of this kind the actor may impose, or None when they may impose none."""
    if not actor.is_staff or not actor.verified:
        return None
    limit = SANCTION_LIMITS.get(actor.role or "")
    if limit is not None and kind == "mute":
        return min(limit, MAX_ADMIN_MUTE)
    return limit


def describe(duration: timedelta) -> str:
    """A Dutch duration for refusals: "24 uur", "7 dagen"."""
    hours = int(duration.total_seconds() // 3600)
    return N_("%d uur") % hours if hours <= 48 else N_("%d dagen") % (hours // 24)


def invalid(sanction: Sanction) -> str | None:
    """A malformed request (422), independent of who asks; None when well-formed."""
    if sanction.duration is not None and not MIN_SANCTION <= sanction.duration <= MAX_TIMED_BAN:
        return N_("Kies een duur tussen een minuut en tien jaar.")
    if sanction.kind == "mute" and sanction.duration is None:
        return N_("Geef aan hoe lang het dempen duurt.")
    if sanction.flavours is not None and not sanction.flavours:
        return N_("Kies minstens één community.")
    return None


def refusal(actor: Actor, target: Target, sanction: Sanction) -> str | None:
    """None when ``actor`` may impose ``sanction`` on ``target``, else the Dutch reason (403).

    One condition per line, so the table test can name the rule that refused.
    """
    limit = limit_of(actor, sanction.kind)
    if limit is None:
        return N_("Jouw rol kan niemand dempen of weren.")
    if target.account_id == actor.account_id:
        return N_("Je kunt jezelf niet dempen of weren.")
    if target.kind == "staff" and not actor.is_admin:
        return N_("Alleen een beheerder kan een medewerker dempen of weren.")
    if target.rank >= ROLE_RANK.get(actor.role or "", 0):
        return N_("Je kunt geen medewerker met een gelijke of hogere rol dempen of weren.")
    if sanction.flavours is None and not actor.is_admin:
        return N_("Alleen een beheerder kan iemand op het hele platform weren. Kies je eigen community.")
    if sanction.flavours is not None and not all(actor.staff_in(f) for f in sanction.flavours):
        return N_("Je kunt alleen dempen of weren in je eigen communities.")
    if sanction.duration is None and not actor.is_admin:
        return N_("Alleen beheerders kunnen iemand voorgoed weren, en dan met een tweede beheerder.")
    if sanction.duration is not None and sanction.duration > limit:
        return N_("Met jouw rol kun je hoogstens %s dempen of weren.") % describe(limit)
    return None


# --- bans: what a ban covers and what the banned person is told ---------------------------------------------------

BanScope = Literal["account", "validation", "device"]
BAN_SCOPES: tuple[BanScope, ...] = ("account", "validation", "device")


def ban_subjects(account: dict[str, Any], scopes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(kind, subject) per thing a ban sticks to: the account id, its validation hash, its devices' hashes."""
    subjects: list[tuple[str, str]] = []
    if "account" in scopes:
        subjects.append(("account", str(account["_id"])))
    validation_hash = (account.get("validation") or {}).get("hash")
    if "validation" in scopes and validation_hash:
        subjects.append(("validation", validation_hash))
    if "device" in scopes:
        subjects.extend(("device", h) for h in account.get("device_hashes") or ())
    return subjects


def ban_notice(until: datetime | None, reason: str) -> str:
    """Why a platform-wide ban refuses the person (log-in, a new guest, validation), and where to object."""
    when = N_("permanent") if until is None else N_("tot %s UTC") % f"{until.astimezone(UTC):%d-%m-%Y %H:%M}"
    return (
        N_("Je hebt hier geen toegang (%(when)s). Reden: %(reason)s.") % {"when": when, "reason": reason}
        + " "
        + N_("Ben je het er niet mee eens? Stuur de moderatoren een bezwaar.")
    )


def flavour_ban_notice(until: datetime | None) -> str:
    """Why a flavour-scoped ban shuts the person out of that community (``until=None``: for good)."""
    if until is None:
        return N_("Je hebt in deze community geen toegang meer. Ben je het er niet mee eens? Stuur een bezwaar.")
    return (
        N_("Je hebt in deze community tijdelijk geen toegang (tot %s UTC).") % f"{until.astimezone(UTC):%d-%m-%Y %H:%M}"
        + " "
        + N_("Ben je het er niet mee eens? Stuur een bezwaar.")
    )
