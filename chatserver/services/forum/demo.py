"""Demo forum threads (Dutch, realistic, no numbers about bodies) that every flavour gets from ``seed-demo``."""
# ruff: noqa: E501

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from chatserver.domain.forum import new_post, new_thread
from chatserver.domain.identity import AccountId, Actor

if TYPE_CHECKING:
    from chatserver.clock import Clock
    from chatserver.flavours import FlavourCatalog
    from chatserver.ports import ForumStore

# (title, (author, opening post), [(author, reply), ...])
DemoThread = tuple[str, tuple[str, str], list[tuple[str, str]]]

DEMO_THREADS: list[DemoThread] = [
    (
        "Welkom! Stel je hier even voor",
        (
            "Merel",
            "Hoi allemaal, ik ben Merel. Ik lees al een tijdje mee en durf nu eindelijk iets te schrijven. "
            "Fijn dat deze plek er is.\n\nWie wil er ook iets over zichzelf vertellen?",
        ),
        [
            (
                "Zonnebloem",
                "Welkom Merel! Goed dat je de stap zet. Ik ben hier ook nog maar kort, maar het voelt veilig.",
            ),
            ("Vlinder", "Hoi Merel, welkom. Neem rustig de tijd om je thuis te voelen. **Lezen is ook meedoen.**"),
        ],
    ),
    (
        "Hoe kom jij de ochtend door?",
        (
            "Kastanje",
            "De ochtenden zijn voor mij het zwaarst. Ik lig vaak lang wakker en kom dan moeilijk op gang.\n\n"
            "Hebben jullie dingen die helpen? Een vast ritueel, iets kleins om naar uit te kijken?",
        ),
        [
            (
                "Merel",
                "Ik zet mijn wekker aan de andere kant van de kamer en drink meteen een glas water. Klinkt simpel, helpt echt.",
            ),
            ("Duinroos", "Een kort rondje buiten, ook als het regent. Daarna voelt de dag minder groot."),
            (
                "Zonnebloem",
                "> Een kort rondje buiten\n\nDat doe ik ook! En ik schrijf drie dingen op waar ik naar uitkijk.",
            ),
        ],
    ),
    (
        "Praten met familie over hoe het echt gaat",
        (
            "Vlinder",
            "Mijn ouders vragen steeds hoe het gaat en ik zeg altijd *goed*. Eigenlijk wil ik eerlijker zijn, "
            "maar ik weet niet hoe ik moet beginnen.",
        ),
        [
            (
                "Kastanje",
                "Misschien helpt het om het eerst op te schrijven? Ik heb ooit een brief gegeven, dat was makkelijker dan praten.",
            ),
            (
                "Duinroos",
                "Begin klein, bijvoorbeeld: *het gaat niet altijd goed, en ik wil je daar iets over vertellen.* Je hoeft niet alles in één keer te zeggen.",
            ),
        ],
    ),
]


def _demo_author(name: str) -> Actor:
    return Actor(account_id=AccountId(f"demo-{name.lower()}"), pseudonym=name, kind="member")


async def seed_demo(repo: ForumStore, catalog: FlavourCatalog, clock: Clock) -> int:
    """A few realistic threads with replies per flavour; does nothing for a flavour that has threads."""
    created = 0
    for flavour in catalog:
        if await repo.has_threads(flavour.slug):
            continue
        base = clock() - timedelta(days=6)
        for index, (title, opening, replies) in enumerate(DEMO_THREADS):
            category = flavour.forum_categories[index % len(flavour.forum_categories)].slug
            thread_id = secrets.token_hex(8)
            start = base + timedelta(days=index * 2)
            lines = [(opening[0], opening[1], start)]
            lines += [(name, text, start + timedelta(hours=n * 3)) for n, (name, text) in enumerate(replies, start=1)]
            posts = [
                new_post(secrets.token_hex(8), _demo_author(name), flavour.slug, thread_id, category, text,
                         title if position == 0 else "", at)
                for position, (name, text, at) in enumerate(lines)
            ]  # fmt: skip
            for post in posts:
                await repo.insert_post(post)
            thread = new_thread(thread_id, _demo_author(opening[0]), flavour.slug, category, title, posts[0], start)
            thread.update(pinned=index == 0, last_post_at=lines[-1][2], reply_count=len(replies))
            await repo.insert_thread(thread)
            created += 1
    return created
