"""The ``chatserver`` command: serve, check-config, seed-demo, create-staff."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from chatserver.config import ConfigError, Settings, load_settings
from chatserver.flavours import FlavourError, load_catalog
from chatserver.logs import configure_logging

log = logging.getLogger("chatserver.cli")

EXIT_CONFIG = 2
EXIT_ENGINES = 1  # an engine did not start, or a running server holds the data directory


def _settings_or_exit() -> Settings:
    try:
        settings = load_settings()
        load_catalog(settings.flavours_dir)
    except (ConfigError, FlavourError) as exc:
        print(f"chatserver: configuratiefout: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    return settings


def config_warnings(settings: Settings) -> list[str]:
    """What is allowed but unwise in this configuration (Dutch, one line each)."""
    out = []
    if settings.secret_key_generated:
        out.append("CHATSERVER_SECRET_KEY is niet gezet; een lokaal gegenereerde sleutel wordt gebruikt")
    if settings.smtp_url is None and settings.public_origins:
        out.append(
            "CHATSERVER_SMTP_URL is niet gezet terwijl CHATSERVER_PUBLIC_ORIGINS een publiek adres noemt: "
            "codemails met e-mailadressen komen in de outbox op schijf (alleen voor ontwikkeling). Stel SMTP in."
        )
    return out


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    catalog = load_catalog(settings.flavours_dir)
    print(f"configuratie in orde: {len(catalog)} flavours ({', '.join(f.slug for f in catalog)})")
    print(f"  adres: http://{settings.host}:{settings.port}")
    print(f"  redis: {'ingebouwd (child process)' if settings.embedded_redis else 'extern'}")
    print(f"  mongodb: {'ingebouwd (child process)' if settings.embedded_mongodb else 'extern'}")
    print(f"  data: {settings.data_dir}")
    for warning in config_warnings(settings):
        print(f"  let op: {warning}")
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from chatserver.adapters.embedded import EmbeddedError, EmbeddedServers
    from chatserver.live.frontdoor import FrontDoor

    if args.host:
        os.environ["CHATSERVER_HOST"] = args.host
    if args.port is not None:
        os.environ["CHATSERVER_PORT"] = str(args.port)
    settings = _settings_or_exit()
    configure_logging(settings.log_level, settings.log_format)
    try:
        embedded = EmbeddedServers(settings.data_dir, redis=settings.embedded_redis, mongodb=settings.embedded_mongodb)
        os.environ.update(embedded.start())
    except EmbeddedError as exc:
        print(f"chatserver: {exc}", file=sys.stderr)
        return EXIT_ENGINES
    # uvicorn handles SIGTERM gracefully and then raises it again once it is
    # done; this handler turns that into a normal exit so the engines stop too.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run(
            "chatserver.app:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=args.workers,
            http=FrontDoor,
            ws="none",
            lifespan="on",
            access_log=False,
            log_config=None,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=10,
        )
    finally:
        embedded.stop()
    return 0


def _run_async(factory: Callable[[Settings], Coroutine[Any, Any, int]]) -> int:
    from chatserver.adapters.embedded import EmbeddedError, EmbeddedServers

    settings = _settings_or_exit()
    configure_logging("WARNING", settings.log_format)
    try:
        embedded = EmbeddedServers(settings.data_dir, redis=settings.embedded_redis, mongodb=settings.embedded_mongodb)
        env = embedded.start()
    except EmbeddedError as exc:  # EnginesBusy: `make run` holds the data directory
        print(f"chatserver: {exc}", file=sys.stderr)
        return EXIT_ENGINES
    try:
        if env:
            os.environ.update(env)
            settings = load_settings()
        return asyncio.run(factory(settings))
    finally:
        embedded.stop()


async def seed_demo(settings: Settings) -> int:
    """Run the demo steps the wiring lists (``chatserver.wiring.DEMO_SEEDERS``) inside a started app."""
    from chatserver.app import create_app
    from chatserver.container import Services

    app = create_app(settings)
    services: Services = app.state.services
    async with app.router.lifespan_context(app):
        for seeder in services.demo_seeders:
            await seeder(services)
    print(f"demo-inhoud klaar voor {len(services.catalog)} flavours")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    return _run_async(seed_demo)


def cmd_create_staff(args: argparse.Namespace) -> int:
    from chatserver.app import create_app
    from chatserver.container import Services
    from chatserver.services.staff_cli import create_staff

    flavours = [f.strip() for f in args.flavours.split(",") if f.strip()]

    async def run(settings: Settings) -> int:
        app = create_app(settings)
        services: Services = app.state.services
        async with app.router.lifespan_context(app):
            return await create_staff(
                services.identity, services.catalog, args.pseudonym, args.role, flavours, args.registration or ""
            )

    return _run_async(run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatserver", description="GEM community server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start de server (standaard http://127.0.0.1:8000)")
    serve.add_argument("--workers", type=int, default=1, help="aantal serverprocessen op één poort (standaard 1)")
    serve.add_argument("--host", default=None, help="overschrijft CHATSERVER_HOST")
    serve.add_argument("--port", type=int, default=None, help="overschrijft CHATSERVER_PORT")
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check-config", help="controleer configuratie en flavour-bestanden")
    check.set_defaults(func=cmd_check_config)

    seed = sub.add_parser("seed-demo", help="vul elke flavour met demo-inhoud")
    seed.set_defaults(func=cmd_seed_demo)

    staff = sub.add_parser("create-staff", help="maak een geverifieerde medewerker (eenmalig wachtwoord + TOTP)")
    staff.add_argument("--pseudonym", required=True, help="schuilnaam van de medewerker")
    staff.add_argument(
        "--role", required=True, choices=["volunteer", "peer_expert", "professional", "editor", "admin"], help="rol"
    )
    staff.add_argument("--flavours", default="", help="communities, komma-gescheiden (bijv. psychosenet,trauma)")
    staff.add_argument("--registration", default="", help="registratie, bijv. BIG-nummer (voor professionals)")
    staff.set_defaults(func=cmd_create_staff)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "workers", 1) < 1:
        parser.error("--workers moet minstens 1 zijn")
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
