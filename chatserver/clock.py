"""The clock: what "now" is for opening hours, rosters, retention and schedules.

One clock per process, built by the composition root and handed to every service and job that reads
the time for a rule (``Services.clock``); tests hand in a clock that starts at a fixed moment. Timestamps
that only record when something happened may read the system time directly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The wall clock, timezone-aware (UTC)."""
    return datetime.now(UTC)
