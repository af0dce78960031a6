"""Every adapter satisfies the port it implements: checked by mypy (the typed assignments) and at run time."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from chatserver import ports
from chatserver.adapters.accounts_repo import AccountsRepo
from chatserver.adapters.content_repo import ContentRepo
from chatserver.adapters.event_store import MongoEventStore
from chatserver.adapters.forum_repo import ForumRepo
from chatserver.adapters.mail import Mailer as SmtpMailer
from chatserver.adapters.moderation_store import MongoModerationStore
from chatserver.adapters.oneonone_repo import OneOnOneRepo
from chatserver.adapters.onshift import RedisOnShift
from chatserver.adapters.passwords import PasswordHashing
from chatserver.adapters.personal_data import MongoPersonalData
from chatserver.adapters.positions import RedisPositions
from chatserver.adapters.ratelimit import RateLimiter as RedisRateLimiter
from chatserver.adapters.recent_lines import RedisRecentLines
from chatserver.adapters.redis_broker import RedisAccountRateLimiter, RedisBroker, RedisPresenceStore
from chatserver.adapters.room_flags import RedisRoomFlags
from chatserver.adapters.rooms_repo import RoomsRepo
from chatserver.adapters.session_store import RedisSessionStore
from chatserver.adapters.short_lived import RedisShortLived
from chatserver.adapters.spreekuur_repo import SpreekuurRepo
from chatserver.adapters.spreekuur_seats import SpreekuurSeats
from chatserver.adapters.unread_counts import RedisUnreadCounts
from chatserver.adapters.vraagbaak_repo import VraagbaakRepo
from chatserver.clock import system_clock
from moderation.ports import ModerationStore

# port -> the adapter that implements it
ADAPTERS: list[tuple[type[Any], type[Any]]] = [
    (ports.EventStore, MongoEventStore),
    (ports.Positions, RedisPositions),
    (ports.Broker, RedisBroker),
    (ports.AccountRateLimiter, RedisAccountRateLimiter),
    (ports.PresenceCounter, RedisPresenceStore),
    (ports.RecentLines, RedisRecentLines),
    (ports.RateLimiter, RedisRateLimiter),
    (ports.Mailer, SmtpMailer),
    (ports.PasswordHasher, PasswordHashing),
    (ports.SessionStore, RedisSessionStore),
    (ports.AccountStore, AccountsRepo),
    (ports.ShortLivedStore, RedisShortLived),
    (ports.PersonalDataStore, MongoPersonalData),
    (ports.ModerationRecords, MongoModerationStore),
    (ports.ForumStore, ForumRepo),
    (ports.UnreadCounts, RedisUnreadCounts),
    (ports.ContentStore, ContentRepo),
    (ports.OneOnOneStore, OneOnOneRepo),
    (ports.OnShiftSets, RedisOnShift),
    (ports.RoomStore, RoomsRepo),
    (ports.RoomFlags, RedisRoomFlags),
    (ports.SpreekuurStore, SpreekuurRepo),
    (ports.SeatStore, SpreekuurSeats),
    (ports.VraagbaakStore, VraagbaakRepo),
]


def _adapters_satisfy_their_ports(  # never called: mypy checks each assignment (test below)
    events: MongoEventStore,
    positions: RedisPositions,
    broker: RedisBroker,
    account_limiter: RedisAccountRateLimiter,
    presence: RedisPresenceStore,
    recent: RedisRecentLines,
    limiter: RedisRateLimiter,
    mailer: SmtpMailer,
    passwords: PasswordHashing,
    sessions: RedisSessionStore,
    accounts: AccountsRepo,
    short_lived: RedisShortLived,
    personal_data: MongoPersonalData,
    moderation: MongoModerationStore,
    forum: ForumRepo,
    unread: RedisUnreadCounts,
    content: ContentRepo,
    oneonone: OneOnOneRepo,
    onshift: RedisOnShift,
    rooms: RoomsRepo,
    room_flags: RedisRoomFlags,
    spreekuur: SpreekuurRepo,
    seats: SpreekuurSeats,
    vraagbaak: VraagbaakRepo,
) -> None:
    _events: ports.EventStore = events
    _positions: ports.Positions = positions
    _broker: ports.Broker = broker
    _account_limiter: ports.AccountRateLimiter = account_limiter
    _presence: ports.PresenceCounter = presence
    _recent: ports.RecentLines = recent
    _limiter: ports.RateLimiter = limiter
    _mailer: ports.Mailer = mailer
    _passwords: ports.PasswordHasher = passwords
    _sessions: ports.SessionStore = sessions
    _accounts: ports.AccountStore = accounts
    _short_lived: ports.ShortLivedStore = short_lived
    _personal_data: ports.PersonalDataStore = personal_data
    _moderation: ports.ModerationRecords = moderation
    _domain_moderation: ModerationStore = moderation  # the moderation domain's own port as well
    _forum: ports.ForumStore = forum
    _unread: ports.UnreadCounts = unread
    _content: ports.ContentStore = content
    _oneonone: ports.OneOnOneStore = oneonone
    _onshift: ports.OnShiftSets = onshift
    _rooms: ports.RoomStore = rooms
    _room_flags: ports.RoomFlags = room_flags
    _spreekuur: ports.SpreekuurStore = spreekuur
    _seats: ports.SeatStore = seats
    _vraagbaak: ports.VraagbaakStore = vraagbaak
    _clock: ports.Clock = system_clock


def _members(port: type[Any]) -> list[str]:
    skip = {"__init__", "__subclasshook__", "__class_getitem__", "__init_subclass__"}
    names: set[str] = set()
    for cls in port.__mro__:
        if cls is object or not getattr(cls, "_is_protocol", False):
            continue
        names |= {n for n in vars(cls) if not n.startswith("_") and n not in skip}
    return sorted(names)


@pytest.mark.parametrize(("port", "adapter"), ADAPTERS, ids=[p.__name__ for p, _ in ADAPTERS])
def test_an_adapter_is_an_instance_of_its_port(port: type[Any], adapter: type[Any]) -> None:
    bare = object.__new__(adapter)  # no connection: only the shape is checked
    assert isinstance(bare, port)


@pytest.mark.parametrize(("port", "adapter"), ADAPTERS, ids=[p.__name__ for p, _ in ADAPTERS])
def test_an_adapter_method_takes_what_its_port_says(port: type[Any], adapter: type[Any]) -> None:
    for name in _members(port):
        wanted = inspect.getattr_static(port, name)
        if isinstance(wanted, property):
            assert hasattr(adapter, name), f"{adapter.__name__}.{name}"
            continue
        have = getattr(adapter, name)
        assert inspect.iscoroutinefunction(have) == inspect.iscoroutinefunction(wanted), f"{adapter.__name__}.{name}"
        want_params = list(inspect.signature(wanted).parameters.values())
        have_params = list(inspect.signature(have).parameters.values())
        # The adapter may take more optional parameters, never fewer or other ones.
        assert [p.name for p in have_params[: len(want_params)]] == [p.name for p in want_params], name
        assert all(p.default is not inspect.Parameter.empty for p in have_params[len(want_params) :]), name


def test_the_typed_assignments_pass_mypy() -> None:
    api = pytest.importorskip("mypy.api")
    root = Path(__file__).resolve().parents[2]
    out, err, status = api.run(["--config-file", str(root / "pyproject.toml"), "--no-error-summary", __file__])
    assert status == 0, out + err
