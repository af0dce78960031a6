"""The typed, frozen container the composition root builds once per process.

Every adapter and service is a named field; nothing is looked up by a string key. ``chatserver.wiring`` fills it;
request handlers reach it as ``request.app.state.services`` (see ``chatserver.web.responses.services_of``) and jobs
get it from the wiring. The registries that used to fill up at import time (backoffice links, demo seeders, jobs,
channel resolvers, chat gates and screeners) are explicit lists in the wiring.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

if TYPE_CHECKING:
    from chatserver.adapters.mongo_client import Database, MongoClient
    from chatserver.adapters.redis_batch import AutoPipeline
    from chatserver.adapters.redis_broker import PresenceStore, RedisBroker
    from chatserver.adapters.redis_client import Redis
    from chatserver.adapters.session_store import RedisSessionStore
    from chatserver.clock import Clock
    from chatserver.config import Settings
    from chatserver.domain.channels import ChannelResolvers
    from chatserver.domain.identity import Actor
    from chatserver.flavours import Flavour, FlavourCatalog
    from chatserver.jobs.supervisor import Supervisor
    from chatserver.ports import Renderer
    from chatserver.ports.reflectie import Counter
    from chatserver.services.chat import ChatService
    from chatserver.services.content import ContentService
    from chatserver.services.forum import ForumService
    from chatserver.services.identity import IdentityService
    from chatserver.services.markt import MarktService
    from chatserver.services.moderation import ModerationService
    from chatserver.services.oneonone import OneOnOneService
    from chatserver.services.reflectie import ReflectieService
    from chatserver.services.rooms import RoomService
    from chatserver.services.shifts import ShiftService
    from chatserver.services.spreekuur import SpreekuurService
    from chatserver.services.vraagbaak import VraagbaakService

Section = tuple[str, str]
SectionProvider = Callable[["Flavour", str], list[Section]]
ContextHook = Callable[[Request], dict[str, Any]]  # what every rendered page adds to its template context


@dataclass(frozen=True)
class BackofficeLink:
    """One entry of the backoffice start page, shown to whom ``allowed`` says."""

    label: str
    url: str
    allowed: Callable[[Actor], bool]


@dataclass(frozen=True)
class Job:
    """Background work the app runs under its supervisor: every ``interval_s`` seconds (on one process at a time
    when ``leader``), or once at start-up when ``interval_s`` is None."""

    name: str
    work: Callable[[], Awaitable[object]]
    interval_s: float | None = None
    leader: bool = True


@dataclass(frozen=True)
class Services:
    """Everything a request handler or job may use; built once per process by ``chatserver.wiring.build``."""

    settings: Settings
    catalog: FlavourCatalog
    templates: Renderer
    clock: Clock
    redis: Redis
    mongo: MongoClient
    db: Database
    supervisor: Supervisor
    sessions: RedisSessionStore
    batch: AutoPipeline
    broker: RedisBroker
    presence: PresenceStore
    resolvers: ChannelResolvers
    chat: ChatService
    identity: IdentityService
    content: ContentService
    shifts: ShiftService
    moderation: ModerationService
    oneonone: OneOnOneService
    rooms: RoomService
    forum: ForumService
    spreekuur: SpreekuurService
    vraagbaak: VraagbaakService
    markt: MarktService
    counter: Counter  # the Reflectietafel's counting port: hooks call ``services.counter.count(...)``
    reflectie: ReflectieService
    hot_scripts: tuple[str, ...] = ()  # Lua scripts loaded into Redis before the first message
    backoffice_links: tuple[BackofficeLink, ...] = ()
    demo_seeders: tuple[Callable[[Services], Awaitable[None]], ...] = ()
    jobs: tuple[Job, ...] = ()
    section_providers: tuple[SectionProvider, ...] = ()
    context_hooks: tuple[ContextHook, ...] = ()
    lifespan_state: dict[str, Any] = field(default_factory=dict)

    def sections(self, flavour: Flavour, base_path: str) -> list[Section]:
        out: list[Section] = []
        for provider in self.section_providers:
            out.extend(provider(flavour, base_path))
        return out

    def key(self, *parts: str) -> str:
        """A Redis key under this deployment's prefix."""
        return self.settings.redis_key_prefix + ":".join(parts)
