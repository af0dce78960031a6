"""The ports: what services need from the outside world, as narrow ``typing.Protocol``s.

Adapters in :mod:`chatserver.adapters` implement them (``MongoEventStore`` is an :class:`EventStore`,
``RedisBroker`` a :class:`Broker`, …); the composition root hands the adapters to the services, which
see only these types. Each protocol holds the methods that callers of the service actually use, no more;
a test checks every adapter against its port (``tests/unit/test_ports.py``).

The values and exceptions that cross a port are declared here as well, so that a service can catch
:class:`SlugTaken` or build a :class:`Limit` without importing an adapter; the adapter modules re-export
them under their old names. Stored documents cross the repository ports as plain dicts
(:data:`Document`), as they do today.

A backend that does not answer (a database or Redis away) shows up as the exception types an adapter
lists in ``unavailable_errors``: callers catch those rather than driver exceptions, which only adapters
import.
"""

from __future__ import annotations

from chatserver.clock import Clock
from chatserver.ports.features import (
    ContentStore,
    ForumStore,
    OneOnOneStore,
    OnShiftSets,
    RoomFlags,
    RoomStore,
    SeatStore,
    SpreekuurStore,
    UnreadCounts,
    VraagbaakStore,
)
from chatserver.ports.identity import (
    AccountStore,
    Mailer,
    PasswordHasher,
    PersonalDataStore,
    RateLimiter,
    SessionStore,
    ShortLivedStore,
)
from chatserver.ports.live import (
    AccountRateLimiter,
    Broker,
    EventStore,
    LiveBroker,
    LiveSessions,
    Positions,
    PresenceCounter,
    PresenceEntry,
    PresenceStore,
    RecentLines,
)
from chatserver.ports.moderation import (
    ModerationRecords,
    MuteStore,
)
from chatserver.ports.values import (
    BrokerUnavailable,
    Decision,
    Document,
    DuplicateEvents,
    ErrorTypes,
    Limit,
    PseudonymTaken,
    RoomTaken,
    SeatCount,
    SeatsUnavailable,
    SeriesTaken,
    SlugTaken,
    ValidationHashTaken,
)
from chatserver.ports.web import (
    Renderer,
)
from moderation.ports import ModerationStore

__all__ = [
    "AccountRateLimiter",
    "AccountStore",
    "Broker",
    "BrokerUnavailable",
    "Clock",
    "ContentStore",
    "Decision",
    "Document",
    "DuplicateEvents",
    "ErrorTypes",
    "EventStore",
    "ForumStore",
    "Limit",
    "LiveBroker",
    "LiveSessions",
    "Mailer",
    "ModerationRecords",
    "ModerationStore",
    "MuteStore",
    "OnShiftSets",
    "OneOnOneStore",
    "PasswordHasher",
    "PersonalDataStore",
    "Positions",
    "PresenceCounter",
    "PresenceEntry",
    "PresenceStore",
    "PseudonymTaken",
    "RateLimiter",
    "RecentLines",
    "Renderer",
    "RoomFlags",
    "RoomStore",
    "RoomTaken",
    "SeatCount",
    "SeatStore",
    "SeatsUnavailable",
    "SeriesTaken",
    "SessionStore",
    "ShortLivedStore",
    "SlugTaken",
    "SpreekuurStore",
    "UnreadCounts",
    "ValidationHashTaken",
    "VraagbaakStore",
]
