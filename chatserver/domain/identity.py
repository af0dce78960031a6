"""Who is acting: the Actor every service and the live gateway receive.

Identity is never taken from a frame or a form: it comes from the session the
request or the WebSocket upgrade was authenticated with.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal, NewType

from chatserver.i18n import N_

AccountId = NewType("AccountId", str)
ActorKind = Literal["guest", "member", "staff"]
StaffRole = Literal["volunteer", "peer_expert", "professional", "editor", "admin"]

STAFF_ROLES: tuple[StaffRole, ...] = ("volunteer", "peer_expert", "professional", "editor", "admin")
ROLE_LABELS: dict[str, str] = {
    "volunteer": N_("Vrijwilliger"),
    "peer_expert": N_("Ervaringsdeskundige"),
    "professional": N_("Professional"),
    "editor": N_("Redacteur"),
    "admin": N_("Beheerder"),
}


class Tier(IntEnum):
    """Moderation and chat tiers; a higher tier sees and can take everything below it."""

    VOLUNTEER = 1
    PEER_EXPERT = 2
    PROFESSIONAL = 3


ROLE_TIER: dict[str, Tier] = {
    "volunteer": Tier.VOLUNTEER,
    "peer_expert": Tier.PEER_EXPERT,
    "professional": Tier.PROFESSIONAL,
    "admin": Tier.PROFESSIONAL,
}


@dataclass(frozen=True, slots=True)
class Actor:
    account_id: AccountId
    pseudonym: str
    kind: ActorKind
    session_id: str = ""
    role: StaffRole | None = None
    flavours: frozenset[str] = frozenset()
    validated: bool = False
    verified: bool = False

    @property
    def is_guest(self) -> bool:
        return self.kind == "guest"

    @property
    def is_member(self) -> bool:
        return self.kind in ("member", "staff")

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff" and self.role is not None

    @property
    def is_admin(self) -> bool:
        return self.is_staff and self.role == "admin"

    @property
    def tier(self) -> Tier | None:
        return ROLE_TIER.get(self.role or "") if self.is_staff else None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role or "", "")

    def staff_in(self, flavour: str) -> bool:
        """Staff whose scope includes this flavour (admins: every flavour)."""
        return self.is_staff and (self.is_admin or flavour in self.flavours)
