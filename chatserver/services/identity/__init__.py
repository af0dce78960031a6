"""Identity use cases: the only door to accounts — guests and sessions, members, validation, staff, bans.

Each concept is a module of its own, built on the ones it needs (a staff log-in checks the second factor, every
door checks platform-wide bans):

- :mod:`~chatserver.services.identity.core`: the stores, keyed hashes, actors, sessions, rate limits, errors;
- :mod:`~chatserver.services.identity.bans`: sanctions, bans, flavour bans, appeals (on the core);
- :mod:`~chatserver.services.identity.members`: pseudonyms, registration, profile, export, erasure (on bans);
- :mod:`~chatserver.services.identity.staff`: staff accounts, TOTP, recovery codes, enrolment (on members);
- :mod:`~chatserver.services.identity.sessions`: guest sessions, log-in and lock-out, log-out, tokens (on staff);
- :mod:`~chatserver.services.identity.validation`: validation codes, referral codes, recovery (on bans).

:class:`IdentityService` is all of them in one object, built once by ``chatserver.wiring`` with the ports it
uses; the pure rules are in ``chatserver.domain`` (``accounts``, ``sanctions``, ``second_factor``, ``privacy``).
"""

from __future__ import annotations

from chatserver.domain.second_factor import RECOVERY_CODES, new_recovery_codes
from chatserver.services.identity.bans import BanOutcome
from chatserver.services.identity.core import (
    CODE_TTL_S,
    LIMITS,
    MAX_APPEAL_CHARS,
    MAX_REASON_CHARS,
    PURGE_INTERVAL_S,
    RECOVERY_TTL_S,
    REFERRAL_DAYS,
    TITLES,
    IdentityError,
    Session,
)
from chatserver.services.identity.sessions import ATTACK_NOTICE, BAD_CREDENTIALS, Sessions
from chatserver.services.identity.staff import StaffCreated
from chatserver.services.identity.validation import Validation, ValidationMethod

__all__ = [
    "ATTACK_NOTICE",
    "BAD_CREDENTIALS",
    "CODE_TTL_S",
    "LIMITS",
    "MAX_APPEAL_CHARS",
    "MAX_REASON_CHARS",
    "PURGE_INTERVAL_S",
    "RECOVERY_CODES",
    "RECOVERY_TTL_S",
    "REFERRAL_DAYS",
    "TITLES",
    "BanOutcome",
    "IdentityError",
    "IdentityService",
    "Session",
    "StaffCreated",
    "ValidationMethod",
    "new_recovery_codes",
]


class IdentityService(Sessions, Validation):
    """Every identity use case (see the module docstring for which concept lives where)."""
