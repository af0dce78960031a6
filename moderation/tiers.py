"""Moderation tiers, severities and who belongs to which tier."""

from __future__ import annotations

from typing import Literal

Tier = Literal["volunteer", "peer_expert", "professional"]
Severity = Literal["low", "medium", "high", "critical"]
StaffRole = Literal["volunteer", "peer_expert", "professional", "editor", "admin"]

TIERS: tuple[Tier, ...] = ("volunteer", "peer_expert", "professional")
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")

_TIER_RANK: dict[Tier, int] = {"volunteer": 1, "peer_expert": 2, "professional": 3}
_SEVERITY_RANK: dict[Severity, int] = {"low": 1, "medium": 2, "high": 3, "critical": 4}
# Editors moderate their flavour's content at the first tier; admins are handled apart (they see everything).
_ROLE_TIER: dict[StaffRole, Tier] = {
    "volunteer": "volunteer",
    "peer_expert": "peer_expert",
    "professional": "professional",
    "editor": "volunteer",
    "admin": "professional",
}


def tier_rank(tier: Tier) -> int:
    """1 for volunteers up to 3 for professionals."""
    return _TIER_RANK[tier]


def severity_rank(severity: Severity) -> int:
    """1 for low up to 4 for critical."""
    return _SEVERITY_RANK[severity]


def max_severity(a: Severity, b: Severity) -> Severity:
    """The more severe of two severities."""
    return a if _SEVERITY_RANK[a] >= _SEVERITY_RANK[b] else b


def max_tier(a: Tier, b: Tier) -> Tier:
    """The higher of two tiers."""
    return a if _TIER_RANK[a] >= _TIER_RANK[b] else b


def role_tier(role: StaffRole) -> Tier:
    """The moderation tier a staff role works at."""
    return _ROLE_TIER[role]


def next_tier(tier: Tier) -> Tier | None:
    """The tier an item escalates to, or None at the top."""
    rank = _TIER_RANK[tier]
    return TIERS[rank] if rank < len(TIERS) else None
