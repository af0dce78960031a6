"""Context hooks: what every rendered page adds to its template context (wired in ``chatserver.wiring``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from chatserver.domain.identity import Actor
from chatserver.services.moderation import staff_of
from moderation.tiers import TIERS


def backoffice_alert_area(request: Request) -> dict[str, Any]:
    """The crisis alert area of every backoffice page: which mod:<flavour> channels feed it, and for whom."""
    actor: Actor | None = request.scope.get("actor")
    staff = staff_of(actor) if actor is not None else None
    if actor is None or staff is None or not request.url.path.startswith("/backoffice"):
        return {}
    catalog = request.app.state.services.catalog
    return {
        "crisis_alerts": {
            "channels": " ".join(f"mod:{f.slug}" for f in catalog if actor.staff_in(f.slug)),
            "tier_rank": TIERS.index(staff.tier) + 1,
        }
    }


def notifications_link(request: Request) -> dict[str, Any]:
    """The bell in the header: members and staff have a notifications page, guests and visitors do not."""
    actor: Actor | None = request.scope.get("actor")
    if actor is None or actor.is_guest:
        return {"notifications_url": ""}
    return {"notifications_url": "/account/meldingen"}
