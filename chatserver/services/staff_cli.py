"""``chatserver create-staff``: a verified staff account with a one-time password and a TOTP secret."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import segno

from chatserver.services.identity import IdentityError, IdentityService

if TYPE_CHECKING:
    from chatserver.flavours import FlavourCatalog


async def create_staff(
    identity: IdentityService,
    catalog: FlavourCatalog,
    pseudonym: str,
    role: str,
    flavours: list[str],
    registration: str,
) -> int:
    """The use case behind ``create-staff``: 0 when created (and printed), 1 when refused, 2 for a bad call."""
    if role == "professional" and not registration.strip():
        print("chatserver: een professional heeft --registration nodig (bijv. BIG-nummer)", file=sys.stderr)
        return 2
    try:
        created = await identity.create_staff(
            None, pseudonym, role, flavours, registration, catalog_slugs={f.slug for f in catalog}, verified=True
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
