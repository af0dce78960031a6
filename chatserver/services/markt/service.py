"""The VitaliteitsMarkt service: the one door to the market that the composition root builds and pages use.

Its parts: ``catalogue`` (editors, workflow, revisions), ``reports`` (members' test reports and their moderation),
``finder`` (filters, search, near you, the questionnaire's shortlist), ``uptake`` (aggregate counters), and the
region a visitor chose (members: an account setting; everyone else: their browser session only).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chatserver.clock import Clock
from chatserver.domain.identity import Actor
from chatserver.domain.markt import REGION_PREFIXES, RegionIndex
from chatserver.flavours import FlavourCatalog
from chatserver.i18n import N_
from chatserver.ports.markt import MarktStore, UptakeCounter, UptakeReader
from chatserver.services.markt.catalogue import Catalogue
from chatserver.services.markt.errors import MarktError
from chatserver.services.markt.finding import Finder
from chatserver.services.markt.reports import Reports
from chatserver.services.markt.uptake import Uptake

if TYPE_CHECKING:
    from chatserver.services.moderation import ModerationService

MAX_REGION_KEY = 40


class MarktService:
    def __init__(
        self,
        store: MarktStore,
        *,
        catalog: FlavourCatalog,
        regions: RegionIndex,
        moderation: ModerationService,
        counter: UptakeCounter,
        reader: UptakeReader,
        clock: Clock,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.regions = regions
        self.clock = clock
        self.catalogue = Catalogue(store, {f.slug: f.name for f in catalog}, regions, clock)
        self.reports = Reports(store, catalog, moderation, clock)
        self.finder = Finder(store, regions)
        self.uptake = Uptake(counter, reader, regions, clock)

    # the visitor's region --------------------------------------------------------------------------------------

    def valid_region(self, key: str | None) -> str | None:
        """A known region key (``gm:``, ``ggd:`` or ``pv:``) or None; never anything finer than a municipality."""
        key = (key or "").strip()[:MAX_REGION_KEY]
        if key.partition(":")[0] not in REGION_PREFIXES or not self.regions.known(key):
            return None
        return key

    async def region_for(self, actor: Actor | None, session_value: str | None) -> str | None:
        """Members: their account setting. Guests and visitors: what their browser session holds."""
        if actor is not None and actor.is_member:
            return self.valid_region(await self.store.region_of(str(actor.account_id)))
        return self.valid_region(session_value)

    async def choose_region(self, actor: Actor | None, key: str) -> str | None:
        """Check the choice; store it for a member (their own setting), hand it back for the session otherwise.
        An empty choice clears it."""
        if not key.strip():
            if actor is not None and actor.is_member:
                await self.store.set_region(str(actor.account_id), None, self.clock())
            return None
        valid = self.valid_region(key)
        if valid is None:
            raise MarktError("region", 422, N_("Kies een provincie, GGD-regio of gemeente uit de lijst."), "region")
        if actor is not None and actor.is_member:
            await self.store.set_region(str(actor.account_id), valid, self.clock())
        return valid

    def now(self) -> datetime:
        return self.clock()

    async def seed_demo(self) -> int:
        """The demo catalogue (idempotent); the number of entries added."""
        from chatserver.services.markt.demo import seed_demo_markt

        flavours = [f.slug for f in self.catalog]
        return await seed_demo_markt(self.store, flavours, self.clock(), self.reports.refresh_stats)
