"""The demo steps of ``chatserver seed-demo``, listed in order in ``chatserver.wiring.DEMO_SEEDERS``.

Running them twice changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from chatserver.adapters.moderation_store import to_ms
from chatserver.domain import oneonone as rules
from chatserver.domain.accounts import skeleton
from chatserver.domain.identity import AccountId, Actor
from chatserver.flavours import TIMEZONE
from chatserver.services.content_demo import seed_demo_content
from moderation.queue import new_item

if TYPE_CHECKING:
    from chatserver.container import Services

log = logging.getLogger("chatserver.demo")


async def seed_demo_articles(services: Services) -> None:
    await seed_demo_content(services.content, services.catalog)


async def seed_demo_rooms(services: Services) -> None:
    await services.rooms.seed_demo()


async def seed_demo_spreekuren(services: Services) -> None:
    for flavour in services.catalog:
        await services.spreekuur.seed_series(flavour, by="demo")


async def seed_demo_forum(services: Services) -> None:
    await services.forum.seed_demo()


DEMO_REPORTS: tuple[tuple[str, str, str, str], ...] = (
    ("1", "Je bent echt zo dom, niemand wil jou hier.", "Kwetsend naar een ander lid", "medium"),
    ("2", "Stuur me een dm, dan geef ik je mijn nummer.", "Vraagt om contact buiten het platform", "low"),
    ("3", "Ik heb vandaag 3 kilo verloren door niet te eten!", "Getallen over gewicht", "medium"),
)


async def seed_demo_reports(services: Services) -> None:
    """A few open reports per flavour so the console is not empty in a demo (fixed ids: running twice is a no-op)."""
    service = services.moderation
    now = to_ms(datetime.now(UTC))
    for flavour in services.catalog:
        room = flavour.rooms[0].slug if flavour.rooms else "algemeen"
        channel = f"room:{flavour.slug}:{room}"
        for index, (number, text, reason, severity) in enumerate(DEMO_REPORTS):
            item = new_item(
                id=f"demo-{flavour.slug}-{number}",
                flavour=flavour.slug,
                source="report",
                severity=severity,  # type: ignore[arg-type]
                created_at=now - timedelta(minutes=7 * (index + 1)),
                subject_id=f"demo_message:{flavour.slug}-{number}",
                professional_on_shift=True,
            )
            author = Actor(account_id=AccountId(f"demo-author-{number}"), pseudonym=f"Demo{number}", kind="member")
            await service.store.add_item(
                item,
                {
                    "ref": {
                        "kind": "demo_message",
                        "id": f"{flavour.slug}-{number}",
                        "channel": channel,
                        "url": f"/f/{flavour.slug}/chat/{room}/",
                    },
                    "text": text,
                    "author": {"account_id": author.account_id, "pseudonym": author.pseudonym, "kind": "member"},
                    "author_id": None,
                    "reason": reason,
                    "details": [],
                    "held_payload": None,
                    "crisis": False,
                    "reports": [{"reporter_id": "demo-reporter", "reason": reason}],
                    "reporter_ids": ["demo-reporter"],
                },
            )


async def seed_demo_staff(services: Services) -> None:
    """One staff account per role, moderating every flavour; credentials printed once by the CLI (never logged).

    Demo accounts made before every flavour was covered get the whole catalogue on the next run.
    """
    from chatserver.domain.identity import STAFF_ROLES

    identity = services.identity
    slugs = sorted(f.slug for f in services.catalog)
    for role in STAFF_ROLES:
        pseudonym = f"demo-{role.replace('_', '-')}"
        existing = await identity.repo.by_pseudonym_key(skeleton(pseudonym))
        if existing is not None:
            if existing.get("kind") == "staff" and sorted(existing.get("flavours") or []) != slugs:
                await identity.repo.update(str(existing["_id"]), {"flavours": slugs})
                print(f"medewerker {pseudonym} ({role}): nu voor alle {len(slugs)} flavours")
            continue
        registration = "BIG-DEMO" if role == "professional" else ""
        created = await identity.create_staff(None, pseudonym, role, slugs, registration, verified=True)
        print(f"medewerker {created.pseudonym} ({role}, alle {len(slugs)} flavours): wachtwoord {created.password}")
        print(f"  TOTP (authenticator-app): {created.provisioning_uri}")
        print(f"  herstelcodes (elk één keer, in plaats van een TOTP-code): {' '.join(created.recovery_codes)}")


DEMO_BLOCKS: tuple[tuple[str, str], ...] = (
    ("10:00", "13:00"),
    ("14:00", "17:00"),
    ("19:00", "23:00"),
    ("23:00", "03:00"),
)


async def seed_demo_roster(services: Services) -> None:
    """A roster for every flavour for the coming week from the staff accounts that serve it; idempotent."""
    shifts = services.shifts
    staff = await services.identity.repo.staff()
    chat_staff = [d for d in staff if rules.tier_of_role(str(d.get("role"))) is not None]
    today = services.clock().astimezone(TIMEZONE).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=TIMEZONE)
    for flavour in services.catalog:
        if await shifts.repo.count_blocks(flavour.slug, start, start + timedelta(days=7)):
            continue
        team = [d for d in chat_staff if d.get("role") == "admin" or flavour.slug in (d.get("flavours") or [])]
        if not team:
            log.info("no chat staff for %s; roster not seeded", flavour.slug)
            continue
        for offset in range(7):
            day = today + timedelta(days=offset)
            for i, (begin, end) in enumerate(DEMO_BLOCKS):
                member = team[(offset + i) % len(team)]
                start_at, end_at = rules.block_interval(day, begin, end)
                await shifts.repo.add_block(
                    {
                        "_id": f"demo-{flavour.slug}-{day.isoformat()}-{i}",
                        "flavour": flavour.slug,
                        "account_id": str(member["_id"]),
                        "pseudonym": str(member.get("pseudonym", "")),
                        "role": str(member.get("role")),
                        "day": day.isoformat(),
                        "start": begin,
                        "end": end,
                        "start_at": start_at,
                        "end_at": end_at,
                        "started": False,
                        "ended": False,
                    }
                )


async def seed_demo_markt(services: Services) -> None:
    """The VitaliteitsMarkt: fictional entries, local offers in several regions, a few test reports."""
    await services.markt.seed_demo()
