"""Demo content for every flavour (``chatserver seed-demo``).

Each feature contributes its own seeding step; running it twice changes nothing.
"""

from __future__ import annotations

from chatserver.config import Settings
from chatserver.flavours import load_catalog


async def seed_demo(settings: Settings) -> int:
    from chatserver.app import create_app

    app = create_app(settings)
    services = app.state.services
    catalog = load_catalog(settings.flavours_dir)
    async with app.router.lifespan_context(app):
        for seeder in services.extras.get("demo_seeders", []):
            await seeder(services)
    print(f"demo-inhoud klaar voor {len(catalog)} flavours")
    return 0
