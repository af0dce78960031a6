"""Site pages: the portal, each flavour's home, crisis help, privacy and errors.

``error_page`` and ``flavour_of`` are shared with the other page modules, the app and the middleware.

Crisis help and privacy render from flavour data only, so they work while Redis
and the database are down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.flavours import WEEKDAYS, Flavour, is_open, next_opening
from chatserver.i18n import N_
from chatserver.web.responses import services_of

if TYPE_CHECKING:
    from chatserver.container import Services

log = logging.getLogger("chatserver.pages")

DAY_NAMES = {
    "ma": N_("maandag"),
    "di": N_("dinsdag"),
    "wo": N_("woensdag"),
    "do": N_("donderdag"),
    "vr": N_("vrijdag"),
    "za": N_("zaterdag"),
    "zo": N_("zondag"),
}
MONTHS = (N_("januari"), N_("februari"), N_("maart"), N_("april"), N_("mei"), N_("juni"), N_("juli"),
          N_("augustus"), N_("september"), N_("oktober"), N_("november"), N_("december"))  # fmt: skip

ERRORS: dict[int, tuple[str, str]] = {
    400: (N_("Verzoek niet begrepen"), N_("We konden dit verzoek niet verwerken. Controleer wat je invulde.")),
    403: (N_("Geen toegang"), N_("Je hebt geen toegang tot deze pagina, of het formulier is verlopen.")),
    404: (N_("Pagina niet gevonden"), N_("Deze pagina bestaat niet (meer). Misschien is de link verouderd.")),
    405: (N_("Niet toegestaan"), N_("Deze actie kan hier niet.")),
    429: (N_("Even rustig aan"), N_("Je hebt dit te vaak geprobeerd. Wacht even en probeer het dan opnieuw.")),
    500: (N_("Er ging iets mis"), N_("Er ging bij ons iets mis. Er is niets verloren gegaan; probeer het zo opnieuw.")),
    503: (N_("Even niet beschikbaar"), N_("Dit onderdeel is tijdelijk niet bereikbaar. Probeer het zo opnieuw.")),
}


@dataclass(frozen=True, slots=True)
class ChatState:
    open: bool
    next_opening: str | None
    hours: list[str]


def format_moment(moment: datetime, now: datetime) -> str:
    local_now = now.astimezone(moment.tzinfo)
    day = moment.date()
    if day == local_now.date():
        prefix = N_("vandaag")
    elif (day - local_now.date()).days == 1:
        prefix = N_("morgen")
    else:
        weekday, month = DAY_NAMES[WEEKDAYS[day.weekday()]], MONTHS[day.month - 1]
        prefix = N_("%(weekday)s %(day)d %(month)s") % {"weekday": weekday, "day": day.day, "month": month}
    return N_("%(when)s om %(hour)02d:%(minute)02d") % {"when": prefix, "hour": moment.hour, "minute": moment.minute}


def opening_lines(flavour: Flavour) -> list[str]:
    lines = []
    for block in flavour.chat.opening_hours:
        days = ", ".join(DAY_NAMES[d] for d in block.days)
        lines.append(N_("%(days)s: %(open)s–%(close)s") % {"days": days, "open": block.open, "close": block.close})
    return lines


def chat_state(flavour: Flavour, now: datetime) -> ChatState:
    upcoming = next_opening(flavour, now)
    return ChatState(
        open=is_open(flavour, now),
        next_opening=format_moment(upcoming, now) if upcoming else None,
        hours=opening_lines(flavour),
    )


def flavour_of(request: Request) -> Flavour:
    flavour: Flavour | None = request.scope.get("flavour")
    if flavour is None:
        raise HTTPException(404)
    return flavour


def error_page(services: Services, request: Request, status: int, message: str | None = None) -> Response:
    title, default_message = ERRORS.get(status, ERRORS[500])
    context: dict[str, Any] = {"status": status, "title": title, "message": message or default_message}
    try:
        return services.templates.response(request, "pages/error.html", context, status_code=status)
    except Exception:  # the error page itself must never fail
        log.exception("rendering the error page failed")
        return Response(f"{status} {title}", status_code=status, media_type="text/plain; charset=utf-8")


async def portal(request: Request) -> Response:
    return services_of(request).templates.response(request, "pages/portal.html", {})


async def flavour_home(request: Request) -> Response:
    services = services_of(request)
    flavour = flavour_of(request)
    state = chat_state(flavour, services.clock())
    featured: list[Any] = []
    try:  # the home page must render while the database is down
        featured = await services.content.featured(flavour.slug)
    except Exception as exc:  # one line, no traceback: an outage is not a bug
        log.warning("featured items unavailable (%s)", type(exc).__name__)
    context = {"chat_state": state, "featured": featured}
    return services.templates.response(request, "pages/flavour/home.html", context)


async def flavour_redirect(request: Request) -> Response:
    flavour_of(request)
    return RedirectResponse(f"{request.url.path}/", status_code=308)


async def help_page(request: Request) -> Response:
    return services_of(request).templates.response(request, "pages/help.html", {})


async def privacy(request: Request) -> Response:
    flavour: Flavour | None = request.scope.get("flavour")
    days = flavour.chat.transcript_retention_days if flavour else 30
    return services_of(request).templates.response(request, "pages/privacy.html", {"retention_days": days})


# Public pages: rendered without ``page()``'s no-store, so they may be cached.
ROUTES: list[BaseRoute] = [
    Route("/", portal, methods=["GET"]),
    Route("/hulp", help_page, methods=["GET"]),
    Route("/privacy", privacy, methods=["GET"]),
    Route("/f/{slug}", flavour_redirect, methods=["GET"]),
    Route("/f/{slug}/", flavour_home, methods=["GET"]),
    Route("/f/{slug}/hulp", help_page, methods=["GET"]),
    Route("/f/{slug}/privacy", privacy, methods=["GET"]),
]
