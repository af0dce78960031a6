"""The audit log: hash chain and tamper detection."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from moderation.audit import GENESIS_HASH, AuditEntry, append, verify

T0 = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)


def chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    previous = None
    for i in range(n):
        previous = append(
            previous,
            actor_id=f"s{i}",
            role="volunteer",
            at=T0 + timedelta(seconds=i),
            action="reject",
            reason="Geen cijfers \ud800",
            item_id=f"i{i}",
            flavour="proud2bme",
        )
        entries.append(previous)
    return entries


def test_entries_are_chained_from_genesis():
    entries = chain(3)
    assert entries[0].seq == 1 and entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    assert verify(entries) is None
    assert verify(entries[1:], anchor=entries[0]) is None
    assert verify([]) is None


@pytest.mark.parametrize("field", ["reason", "actor_id", "action"])
def test_changed_entry_is_detected(field):
    entries = chain(3)
    entries[1] = replace(entries[1], **{field: "anders"})
    assert verify(entries) == 1


def test_removed_reordered_or_rehashed_entries_are_detected():
    entries = chain(4)
    assert verify([entries[0], entries[2], entries[3]]) == 1
    assert verify([entries[1], entries[0]]) == 0
    forged = append(
        entries[0], actor_id="x", role="admin", at=T0, action="approve", reason="", item_id="i1", flavour="proud2bme"
    )
    assert verify([entries[0], forged, entries[2]]) == 2
    assert verify(entries[1:]) == 0


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        append(
            None,
            actor_id="a",
            role="admin",
            at=datetime(2026, 1, 1),
            action="ban",
            reason="r",
            item_id="i",
            flavour="f",
        )
