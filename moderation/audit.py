"""The append-only moderation audit log: entries chained by hash so that any change is detectable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from moderation.tiers import StaffRole

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who (id and role) did what to which item, when and why; ``hash`` covers all fields and ``prev_hash``."""

    seq: int
    actor_id: str
    role: StaffRole
    at: datetime
    action: str
    reason: str
    item_id: str
    flavour: str
    prev_hash: str
    hash: str


def entry_hash(
    *,
    seq: int,
    actor_id: str,
    role: StaffRole,
    at: datetime,
    action: str,
    reason: str,
    item_id: str,
    flavour: str,
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON form (ASCII escapes, so lone surrogates cannot break it)."""
    payload = json.dumps(
        [seq, actor_id, role, at.isoformat(), action, reason, item_id, flavour, prev_hash],
        ensure_ascii=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def append(
    previous: AuditEntry | None,
    *,
    actor_id: str,
    role: StaffRole,
    at: datetime,
    action: str,
    reason: str,
    item_id: str,
    flavour: str,
) -> AuditEntry:
    """The next entry after ``previous`` (None for the first entry of the log)."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    seq = 1 if previous is None else previous.seq + 1
    prev_hash = GENESIS_HASH if previous is None else previous.hash
    digest = entry_hash(
        seq=seq,
        actor_id=actor_id,
        role=role,
        at=at,
        action=action,
        reason=reason,
        item_id=item_id,
        flavour=flavour,
        prev_hash=prev_hash,
    )
    return AuditEntry(
        seq=seq,
        actor_id=actor_id,
        role=role,
        at=at,
        action=action,
        reason=reason,
        item_id=item_id,
        flavour=flavour,
        prev_hash=prev_hash,
        hash=digest,
    )


def verify(entries: Sequence[AuditEntry], anchor: AuditEntry | None = None) -> int | None:
    """Check a run of entries (after ``anchor``, or from the start); the index of the first bad entry, or None."""
    previous = anchor
    for index, entry in enumerate(entries):
        expected_seq = 1 if previous is None else previous.seq + 1
        expected_prev = GENESIS_HASH if previous is None else previous.hash
        recomputed = entry_hash(
            seq=entry.seq,
            actor_id=entry.actor_id,
            role=entry.role,
            at=entry.at,
            action=entry.action,
            reason=entry.reason,
            item_id=entry.item_id,
            flavour=entry.flavour,
            prev_hash=entry.prev_hash,
        )
        if entry.seq != expected_seq or entry.prev_hash != expected_prev or entry.hash != recomputed:
            return index
        previous = entry
    return None
