"""The composition root: every adapter and service built once, in order, into the frozen ``Services`` container.

Read top to bottom, this module is the whole dependency graph: what each service is given, which channel kinds
resolve where, which gates and screeners a chat message passes, which jobs run, which links the backoffice shows
and which demo steps ``seed-demo`` takes. Nothing registers itself at import time; a piece that is missing here is
an error at start-up (``ChannelResolvers.require``), never a silent default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import partial

from chatserver import demo, metrics
from chatserver.adapters.accounts_repo import AccountsRepo
from chatserver.adapters.content_repo import ContentRepo
from chatserver.adapters.event_store import MongoEventStore
from chatserver.adapters.forum_repo import ForumRepo
from chatserver.adapters.mail import Mailer
from chatserver.adapters.markt_repo import MongoMarktStore
from chatserver.adapters.markt_uptake import RedisUptake
from chatserver.adapters.moderation_store import MongoModerationStore
from chatserver.adapters.mongo_client import Database, DatabaseError, MongoClient
from chatserver.adapters.mutes import RedisMutes
from chatserver.adapters.oneonone_repo import OneOnOneRepo
from chatserver.adapters.onshift import RedisOnShift
from chatserver.adapters.passwords import PasswordHashing
from chatserver.adapters.personal_data import MongoPersonalData
from chatserver.adapters.positions import RedisPositions
from chatserver.adapters.privacy_places import PERSONAL_DATA
from chatserver.adapters.ratelimit import RateLimiter
from chatserver.adapters.recent_lines import RedisRecentLines
from chatserver.adapters.redis_batch import AutoPipeline
from chatserver.adapters.redis_broker import AccountRateLimiter, PresenceStore, RedisBroker
from chatserver.adapters.redis_client import REDIS_ERRORS, Redis
from chatserver.adapters.reflectie_counters import FLUSH_INTERVAL_S as REFLECTIE_FLUSH_INTERVAL_S
from chatserver.adapters.reflectie_counters import RedisCounters
from chatserver.adapters.reflectie_store import MongoReflectieStore
from chatserver.adapters.room_flags import RedisRoomFlags
from chatserver.adapters.rooms_repo import RoomsRepo
from chatserver.adapters.session_store import RedisSessionStore
from chatserver.adapters.short_lived import RedisShortLived
from chatserver.adapters.spreekuur_repo import SpreekuurRepo
from chatserver.adapters.spreekuur_seats import SpreekuurSeats
from chatserver.adapters.unread_counts import RedisUnreadCounts
from chatserver.adapters.vraagbaak_repo import VraagbaakRepo
from chatserver.clock import Clock
from chatserver.config import Settings
from chatserver.container import Job, Services
from chatserver.data.regions import load_regions
from chatserver.domain.channels import ChannelKind, ChannelResolvers
from chatserver.flavours import FlavourCatalog
from chatserver.jobs.supervisor import Supervisor
from chatserver.navigation import BACKOFFICE_LINKS, SECTIONS
from chatserver.services import identity as identity_module
from chatserver.services import vraagbaak as vraagbaak_module
from chatserver.services.chat import ACCOUNT_PUBLISH_BURST, ACCOUNT_PUBLISH_PER_S, ChatService
from chatserver.services.content import ContentService
from chatserver.services.forum import ForumService
from chatserver.services.identity import CODE_TTL_S, RECOVERY_TTL_S, IdentityService
from chatserver.services.markt import REPORT_KIND, MarktService
from chatserver.services.markt.uptake import FLUSH_INTERVAL_S as MARKT_FLUSH_INTERVAL_S
from chatserver.services.moderation import ModerationService, apply_to_chat_message
from chatserver.services.oneonone import OneOnOneService
from chatserver.services.privacy import PersonalDataService
from chatserver.services.reflectie import ReflectieService, ReflectieSettings
from chatserver.services.reflectie.rollup import ROLLUP_INTERVAL_S as REFLECTIE_ROLLUP_INTERVAL_S
from chatserver.services.rooms import RoomService
from chatserver.services.shifts import ShiftService
from chatserver.services.spreekuur import SpreekuurService
from chatserver.services.vraagbaak import VraagbaakService
from chatserver.web.hooks import backoffice_alert_area, notifications_link
from chatserver.web.templating import Templates

log = logging.getLogger("chatserver.wiring")

MODERATION_PURGE_INTERVAL_S = 3600.0
ONEONONE_TICK_INTERVAL_S = 15.0
ROSTER_INTERVAL_S = 30.0
ONEONONE_PURGE_INTERVAL_S = 3600.0
SPREEKUUR_ANNOUNCE_INTERVAL_S = 10.0
CHAT_PRESENCE_LIST = 50  # a 1-on-1 channel has a visitor and one or two staff members: always listed


@dataclass(frozen=True)
class _Base:
    """What every part is built from: settings, flavours, the two clients, the clock, the key prefix, the counter."""

    settings: Settings
    catalog: FlavourCatalog
    redis: Redis
    db: Database
    clock: Clock
    counter: RedisCounters  # the Reflectietafel's: every feature counts what happens in it (decision 0024)

    @property
    def prefix(self) -> str:
        return self.settings.redis_key_prefix

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def live_key(self, channel: str) -> str:
        return f"{self.prefix}live:{channel}"


@dataclass(frozen=True)
class _Live:
    sessions: RedisSessionStore
    batch: AutoPipeline
    broker: RedisBroker
    presence: PresenceStore
    resolvers: ChannelResolvers
    chat: ChatService
    hot_scripts: tuple[str, ...]


@dataclass(frozen=True)
class _Features:
    content: ContentService
    shifts: ShiftService
    moderation: ModerationService
    oneonone: OneOnOneService
    rooms: RoomService
    forum: ForumService
    spreekuur: SpreekuurService
    vraagbaak: VraagbaakService
    markt: MarktService


def build(
    settings: Settings,
    *,
    catalog: FlavourCatalog,
    templates: Templates,
    redis: Redis,
    mongo: MongoClient,
    clock: Clock,
) -> Services:
    """Every adapter and service of one process, built once and wired explicitly."""
    counter = RedisCounters(redis, settings.redis_key_prefix, [f.slug for f in catalog], load_regions(), clock)
    base = _Base(settings, catalog, redis, mongo[settings.mongodb_database], clock, counter)
    live = _live_core(base)
    identity = _identity(base, live.chat, live.sessions)
    f = _features(base, live, identity)
    reflectie = _reflectie(base, f)
    _wire_channels(live, identity, f)
    _wire_moderation_handlers(live.chat, f)
    services = Services(
        settings=settings,
        catalog=catalog,
        templates=templates,
        clock=clock,
        redis=redis,
        mongo=mongo,
        db=base.db,
        supervisor=Supervisor(outage_errors=(DatabaseError, *REDIS_ERRORS)),
        sessions=live.sessions,
        batch=live.batch,
        broker=live.broker,
        presence=live.presence,
        resolvers=live.resolvers,
        chat=live.chat,
        identity=identity,
        content=f.content,
        shifts=f.shifts,
        moderation=f.moderation,
        oneonone=f.oneonone,
        rooms=f.rooms,
        forum=f.forum,
        spreekuur=f.spreekuur,
        vraagbaak=f.vraagbaak,
        markt=f.markt,
        counter=counter,
        reflectie=reflectie,
        hot_scripts=live.hot_scripts,
        backoffice_links=BACKOFFICE_LINKS,
        demo_seeders=DEMO_SEEDERS,
        jobs=_metered(jobs(identity, f) + _reflectie_jobs(counter, reflectie)),
        section_providers=SECTIONS,
        context_hooks=(backoffice_alert_area, notifications_link),
    )
    live.resolvers.require()
    return services


def _live_core(base: _Base) -> _Live:
    """The broker, the positions, the per-account limit and the chat service every feature publishes through."""
    settings, redis, prefix = base.settings, base.redis, base.prefix
    assert settings.redis_url is not None
    sessions = RedisSessionStore(redis, prefix)
    batch = AutoPipeline(redis)
    broker = RedisBroker(settings.redis_url, redis, fixed_channels=(sessions.revoked_channel,))
    presence = PresenceStore(redis, prefix, settings.presence_expiry_s)
    resolvers = ChannelResolvers()
    limiter = AccountRateLimiter(redis, prefix, ACCOUNT_PUBLISH_PER_S, ACCOUNT_PUBLISH_BURST, batch)
    positions = RedisPositions(redis, base.db, batch, prefix)
    store = MongoEventStore(base.db)
    chat = ChatService(
        store, positions, broker, limiter, base.catalog, resolvers, base.live_key, base.clock, counter=base.counter
    )
    hot_scripts = (*limiter.HOT_SCRIPTS, *positions.HOT_SCRIPTS, *RedisRecentLines.HOT_SCRIPTS)
    return _Live(sessions, batch, broker, presence, resolvers, chat, hot_scripts)


def _identity(base: _Base, chat: ChatService, sessions: RedisSessionStore) -> IdentityService:
    """Accounts, sessions, validation, staff and bans; export and erasure walk one list of places."""
    settings, redis, db, prefix = base.settings, base.redis, base.db, base.prefix
    # An outbox file lives as long as the code it carries; what an earlier run left behind goes at start-up.
    outbox = settings.data_dir / "outbox"
    mailer = Mailer(settings.smtp_url, settings.mail_from, outbox, ttl_s=max(CODE_TTL_S, RECOVERY_TTL_S))
    mailer.sweep()
    # Where an account's data lives is one list beside the adapters (PERSONAL_DATA); export and erasure walk it.
    personal_data = PersonalDataService(MongoPersonalData(db, redis, prefix), PERSONAL_DATA, base.clock, chat=chat)
    return IdentityService(
        settings=settings,
        accounts=AccountsRepo(db),
        tokens=RedisShortLived(redis, prefix),
        sessions=sessions,
        mailer=mailer,
        limiter=RateLimiter(redis, prefix, settings.secret_key),
        passwords=PasswordHashing(),
        audit=MongoModerationStore(db),
        personal_data=personal_data,
        clock=base.clock,
        known_flavours=frozenset(f.slug for f in base.catalog),
    )


def _features(base: _Base, live: _Live, identity: IdentityService) -> _Features:
    """The features' services in dependency order, each given what it uses."""
    content = ContentService(
        ContentRepo(base.db),
        {f.slug: f.name for f in base.catalog},
        clock=base.clock,
        second_reviewer=[f.slug for f in base.catalog if f.content.second_reviewer],
        counter=base.counter,
    )
    oneonone_repo = OneOnOneRepo(base.db)
    on_shift = RedisOnShift(base.redis, base.prefix)
    shifts = ShiftService(oneonone_repo, on_shift, base.catalog, live.chat, base.clock)
    moderation = _moderation(base, live, identity, shifts, on_shift)
    markt = _markt(base, moderation)  # before the 1-on-1 chats: staff suggest its entries there as cards
    identity.personal_data.erase_hooks.append(markt.reports.before_erasure)  # report counts after an erasure
    oneonone, rooms = _conversations(base, live, oneonone_repo, shifts, moderation, markt)
    forum = ForumService(
        repo=ForumRepo(base.db),
        unread=RedisUnreadCounts(base.redis, base.prefix),
        catalog=base.catalog,
        chat=live.chat,
        moderation=moderation,
        identity=identity,
        clock=base.clock,
        counter=base.counter,
    )
    # How the owner of an account hears of an attack on it: through the forum's notifications.
    identity.account_notifiers.append(forum.notify_account)
    spreekuur = SpreekuurService(
        SpreekuurRepo(base.db),
        base.catalog,
        chat=live.chat,
        accounts=identity.repo,
        moderation=moderation,
        content=content,
        seats=SpreekuurSeats(base.redis, base.key("spreekuur", "seats", "")),
        clock=base.clock,
        counter=base.counter,
    )
    vraagbaak = VraagbaakService(
        VraagbaakRepo(base.db),
        identity.limiter,
        {f.slug: f.name for f in base.catalog},
        clock=base.clock,
        notify=forum.notify_account,  # the forum's notifications: one list, counter and live event
        moderation=moderation,
        counter=base.counter,
    )
    return _Features(content, shifts, moderation, oneonone, rooms, forum, spreekuur, vraagbaak, markt)


def _moderation(
    base: _Base, live: _Live, identity: IdentityService, shifts: ShiftService, on_shift: RedisOnShift
) -> ModerationService:
    redis, prefix = base.redis, base.prefix
    return ModerationService(
        catalog=base.catalog,
        records=MongoModerationStore(base.db),
        accounts=AccountsRepo(base.db),
        mutes=RedisMutes(redis, live.batch, prefix),
        recent=RedisRecentLines(live.batch, prefix),
        on_shift=on_shift,
        chat=live.chat,
        identity=identity,
        shifts=shifts,
        clock=base.clock,
        counter=base.counter,
    )


def _conversations(
    base: _Base, live: _Live, repo: OneOnOneRepo, shifts: ShiftService, mod: ModerationService, markt: MarktService
) -> tuple[OneOnOneService, RoomService]:
    """The 1-on-1 service (handing over between shifts, suggesting the market's entries) and the rooms."""
    presence = live.presence

    async def online(channel: str) -> frozenset[str]:
        _, members = await presence.snapshot(channel, CHAT_PRESENCE_LIST)
        return frozenset(members or ())

    oneonone = OneOnOneService(
        repo, shifts, base.catalog, live.chat, base.clock, mod, markt, online, counter=base.counter
    )
    shifts.handover = oneonone.handover
    flags = RedisRoomFlags(base.redis, base.prefix)
    rooms = RoomService(RoomsRepo(base.db), flags, base.catalog, live.chat, mod, presence, base.clock)
    return oneonone, rooms


def _markt(base: _Base, moderation: ModerationService) -> MarktService:
    uptake = RedisUptake(base.redis, base.prefix, [f.slug for f in base.catalog])
    return MarktService(
        MongoMarktStore(base.db),
        catalog=base.catalog,
        regions=base.counter.regions,  # the CBS municipalities, loaded in build(): a broken file stops the start
        moderation=moderation,
        counter=uptake,
        reader=uptake,
        clock=base.clock,
    )


def _reflectie(base: _Base, f: _Features) -> ReflectieService:
    """The Reflectietafel: counters in memory (flushed to Redis), aggregates in MongoDB, the roster and the
    market's uptake as sources; retention, threshold and noise budget from the settings (decision 0024)."""
    settings, counter = base.settings, base.counter
    metrics.GAUGES.watch("chatserver_reflectie_pending", "Counters waiting for a flush", lambda: len(counter.pending))
    return ReflectieService(
        source=counter,
        store=MongoReflectieStore(base.db),
        roster=f.shifts,
        uptake=f.markt.uptake,
        flavours={flavour.slug: flavour.name for flavour in base.catalog},
        regions=counter.regions,
        clock=base.clock,
        settings=ReflectieSettings(
            settings.reflectie_retention_days, settings.reflectie_threshold, settings.reflectie_epsilon
        ),
    )


def _reflectie_jobs(counter: RedisCounters, reflectie: ReflectieService) -> tuple[Job, ...]:
    return (
        # Every process writes its own counters once a second, in one round trip.
        Job("reflectie-flush", counter.flush, REFLECTIE_FLUSH_INTERVAL_S, leader=False),
        Job("reflectie-rollup", reflectie.rollup.run, REFLECTIE_ROLLUP_INTERVAL_S),
    )


def _metered(all_jobs: tuple[Job, ...]) -> tuple[Job, ...]:
    """Every job's rounds counted for /metrics (by job name: a bounded label)."""
    return tuple(replace(job, work=metrics.metered_job(job.name, job.work)) for job in all_jobs)


def _wire_channels(live: _Live, identity: IdentityService, f: _Features) -> None:
    """Who resolves which channel kind, and what a chat message passes before it is stored."""
    chat, resolvers = live.chat, live.resolvers
    resolvers.register(ChannelKind.ROOM, f.rooms.resolve)
    resolvers.register(ChannelKind.CHAT, f.oneonone.resolve)
    resolvers.register(ChannelKind.THREAD, f.forum.thread_facts)
    # Subscribing a live session takes a seat; past the capacity a visitor is refused (error 4202).
    resolvers.register(ChannelKind.SPREEKUUR, f.spreekuur.resolve_channel)
    # A visitor's last live connection to a session going frees their seat (decision 0009).
    resolvers.watch_leaves(ChannelKind.SPREEKUUR, f.spreekuur.on_last_leave)
    chat.gates.append(identity.flavour_ban_gate)
    chat.gates.append(f.rooms.mute_gate)
    # Moderation first: a message that needs a moderator reaches one even in slow mode.
    chat.screeners.append(f.rooms.moderation_screener)
    chat.screeners.append(f.rooms.slow_mode_screener)
    chat.screeners.append(f.oneonone.crisis_screener)
    # An author's last few lines, judged together with the new one; shares the rate limit's round trip.
    chat.recall = f.moderation.recall


def _wire_moderation_handlers(chat: ChatService, f: _Features) -> None:
    """What a moderation decision does to each kind of object, and how a report finds its object."""
    moderation = f.moderation
    moderation.register_handler("room_message", partial(apply_to_chat_message, chat))
    moderation.register_handler("chat_message", partial(apply_to_chat_message, chat))
    moderation.register_handler("forum_post", f.forum.on_decision)
    moderation.register_handler(REPORT_KIND, f.markt.reports.on_decision)
    moderation.register_report_resolver("forum_post", f.forum.report_resolver)
    moderation.register_handler("spreekuur_question", f.spreekuur.on_moderation_decision)


def jobs(identity: IdentityService, f: _Features) -> tuple[Job, ...]:
    """The background work of the features (the live core's own tasks are started by the live feature)."""

    async def moderation_retention() -> None:
        removed = await f.moderation.purge_once()
        if removed:
            log.info("moderation retention removed %d decided items", removed)

    async def roster() -> None:
        await f.shifts.roster_tick()
        await f.shifts.coverage_alerts()

    return (
        Job("moderation-retention", moderation_retention, MODERATION_PURGE_INTERVAL_S),
        Job("identity-retention", identity.purge_once, identity_module.PURGE_INTERVAL_S),
        Job("vraagbaak-retention", f.vraagbaak.purge_once, vraagbaak_module.PURGE_INTERVAL_S),
        Job("spreekuur-status", f.spreekuur.announce_round, SPREEKUUR_ANNOUNCE_INTERVAL_S),
        Job("oneonone-rederive", f.oneonone.rederive),
        Job("oneonone-tick", f.oneonone.tick, ONEONONE_TICK_INTERVAL_S),
        Job("shift-roster", roster, ROSTER_INTERVAL_S),
        Job("oneonone-retention", f.oneonone.purge, ONEONONE_PURGE_INTERVAL_S),
        # Every process writes its own market counters (not leader-elected).
        Job("markt-uptake", f.markt.uptake.flush, MARKT_FLUSH_INTERVAL_S, leader=False),
    )


# ``chatserver seed-demo``, in this order (staff before the roster that names them).
DEMO_SEEDERS = (
    demo.seed_demo_reports,
    demo.seed_demo_staff,
    demo.seed_demo_articles,
    demo.seed_demo_rooms,
    demo.seed_demo_spreekuren,
    demo.seed_demo_roster,
    demo.seed_demo_forum,
    demo.seed_demo_markt,
)
