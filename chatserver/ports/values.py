"""The values and exceptions that cross the ports, so a service can catch or build them without an adapter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Document = dict[str, Any]
"""A stored document as the repositories hand it over: field names as in the database."""

ErrorTypes = tuple[type[Exception], ...]


# --- values and exceptions that cross the ports --------------------------------------------------------------------


class DuplicateEvents(Exception):
    """Some events of a batch collided with stored ones.

    ``indexes`` are repeats of a client message id (a retried publish);
    ``offset_indexes`` collided on (channel, offset): the offset counter went
    backwards and the channel needs a new epoch.
    """

    def __init__(self, indexes: list[int], offset_indexes: list[int]) -> None:
        super().__init__(f"{len(indexes)} repeated, {len(offset_indexes)} offset collisions")
        self.indexes = indexes
        self.offset_indexes = offset_indexes


class PseudonymTaken(Exception):
    """Another account has this pseudonym (compared by its skeleton)."""


class ValidationHashTaken(Exception):
    """Another account was validated with this address or referral."""


class SlugTaken(Exception):
    """Another content item has this slug."""


class RoomTaken(Exception):
    """The flavour has a room with this slug."""


class SeriesTaken(Exception):
    """A session of this series on this date exists already."""


class SeatsUnavailable(Exception):
    """The seat store did not answer; the seat could not be taken or counted."""


@dataclass(frozen=True, slots=True)
class SeatCount:
    """``taken`` seats; ``holder``: whether the asked-about account holds one."""

    taken: int
    holder: bool


@dataclass(frozen=True, slots=True)
class Limit:
    """``burst`` requests at once, then ``rate`` per ``period_s``; ``name`` keys the counter."""

    name: str
    burst: int
    rate: int
    period_s: float

    @property
    def interval_ms(self) -> int:
        return max(1, int(self.period_s * 1000 / self.rate))


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after_s: int


class BrokerUnavailable(Exception):
    """The pub/sub connection is down; a subscription could not be confirmed."""
