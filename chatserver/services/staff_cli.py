"""``chatserver create-staff``: a verified staff account with a one-time password and a TOTP secret."""

from __future__ import annotations

import sys

import segno

from chatserver.config import Settings
from chatserver.services.identity import IdentityError


async def create_staff_from_cli(
    settings: Settings, pseudonym: str, role: str, flavours: list[str], registration: str
) -> int:
    from chatserver.app import create_app

    app = create_app(settings)
    services = app.state.services
    async with app.router.lifespan_context(app):
        identity = services.identity
        slugs = {f.slug for f in services.catalog}
        if role == "professional" and not registration.strip():
            print("chatserver: een professional heeft --registration nodig (bijv. BIG-nummer)", file=sys.stderr)
            return 2
        try:
            created = await identity.create_staff(
                None, pseudonym, role, flavours, registration, catalog_slugs=slugs, verified=True
            )
        except IdentityError as exc:
            print(f"chatserver: {exc.detail}", file=sys.stderr)
            return 1
    # Printed once for the operator; never logged.
    print(f"medewerker aangemaakt: {created.pseudonym} ({role}; {', '.join(sorted(flavours)) or 'geen community'})")
    print(f"eenmalig wachtwoord: {created.password}")
    print(f"TOTP (authenticator-app): {created.provisioning_uri}")
    print("scan deze QR-code met de authenticator-app / scan with your authenticator app:")
    segno.make(created.provisioning_uri, error="m").terminal(compact=True)
    print(f"herstelcodes (elk één keer te gebruiken in plaats van een TOTP-code): {' '.join(created.recovery_codes)}")
    return 0
