"""Who may do which staff action: one table over every staff route of the API and the backoffice.

``STAFF_ACTIONS`` names every route under ``/backoffice`` and every staff operation under ``/api/v1`` with the
roles that may use it; ``VISITOR_ACTIONS`` names the API operations that are not staff actions. A route that is
in neither fails :func:`test_every_staff_route_has_an_entry`, so a new staff action cannot ship unclassified.
Each entry is then probed as anonymous, member and every staff role. Bans have their own table (role ×
own/other/all flavours × target role), here over HTTP and in full in ``tests/unit/test_sanctions.py``.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
from starlette.routing import BaseRoute, Mount, Route

from chatserver.domain.identity import STAFF_ROLES
from chatserver.services.moderation import ItemRef, ModerationError, StaffDecision

from ..conftest import RunningServer
from ..integration.test_api_identity import PASSWORD, auth, register
from ..unit.test_sanctions import expected
from .test_identity_web import identity, make_staff, staff_token

ALL_STAFF = frozenset(STAFF_ROLES)
CHAT_STAFF = frozenset({"volunteer", "peer_expert", "professional", "admin"})
EDITORS = frozenset({"editor", "admin"})
ADMIN = frozenset({"admin"})
RELEASES = frozenset({"admin", "professional", "editor"})  # the Reflectietafel's suppressed monthly releases

# (method, route path) -> the roles that may use it. Data inside is further scoped to the staff member's
# flavours by the services (tested per action below and in the access tests of each feature).
STAFF_ACTIONS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/backoffice"): ALL_STAFF,
    ("GET", "/backoffice/"): ALL_STAFF,
    ("GET", "/backoffice/moderatie"): ALL_STAFF,
    ("POST", "/backoffice/moderatie"): ALL_STAFF,
    ("GET", "/backoffice/moderatie/{item_id}/rij"): ALL_STAFF,
    ("GET", "/backoffice/moderatie/{item_id}"): ALL_STAFF,
    ("POST", "/backoffice/moderatie/{item_id}"): ALL_STAFF,
    ("GET", "/backoffice/audit"): ALL_STAFF,
    ("GET", "/backoffice/staff"): ADMIN,
    ("POST", "/backoffice/staff/nieuw"): ADMIN,
    ("POST", "/backoffice/staff/{account_id}"): ADMIN,
    ("POST", "/backoffice/staff/{account_id}/tweede-factor"): ADMIN,
    ("GET", "/backoffice/verwijzingen"): ALL_STAFF,
    ("POST", "/backoffice/verwijzingen"): ALL_STAFF,
    ("GET", "/backoffice/outbox"): ADMIN,
    ("GET", "/backoffice/inhoud"): EDITORS,
    ("GET", "/backoffice/inhoud/nieuw"): EDITORS,
    ("POST", "/backoffice/inhoud/nieuw"): EDITORS,
    ("GET", "/backoffice/inhoud/{item_id}"): EDITORS,
    ("POST", "/backoffice/inhoud/{item_id}"): EDITORS,
    ("POST", "/backoffice/inhoud/{item_id}/status"): EDITORS,
    ("GET", "/backoffice/inhoud/{item_id}/versies/{n:int}"): EDITORS,
    ("GET", "/backoffice/uitgelicht"): EDITORS,
    ("POST", "/backoffice/uitgelicht"): EDITORS,
    ("GET", "/backoffice/vraagbaak"): ALL_STAFF,
    ("GET", "/backoffice/vraagbaak/{question_id}"): ALL_STAFF,
    ("POST", "/backoffice/vraagbaak/{question_id}"): ALL_STAFF,
    ("GET", "/backoffice/ruimtes"): ADMIN,
    ("POST", "/backoffice/ruimtes"): ADMIN,
    ("POST", "/backoffice/ruimtes/{flavour}/{room}/{action}"): ADMIN,
    ("GET", "/backoffice/spreekuren"): ALL_STAFF,
    ("GET", "/backoffice/spreekuren/nieuw"): EDITORS,
    ("POST", "/backoffice/spreekuren/nieuw"): EDITORS,
    ("POST", "/backoffice/spreekuren/reeks"): EDITORS,
    ("GET", "/backoffice/spreekuren/{sid}"): ALL_STAFF,
    ("GET", "/backoffice/spreekuren/{sid}/wachtrij"): ALL_STAFF,
    ("GET", "/backoffice/spreekuren/{sid}/bewerken"): EDITORS,
    ("POST", "/backoffice/spreekuren/{sid}/bewerken"): EDITORS,
    ("GET", "/backoffice/spreekuren/{sid}/verslag"): ALL_STAFF,
    ("POST", "/backoffice/spreekuren/{sid}/verslag"): ALL_STAFF,
    ("POST", "/backoffice/spreekuren/{sid}/vragen/{qid}/{action}"): ALL_STAFF,
    ("POST", "/backoffice/spreekuren/{sid}/{action}"): ALL_STAFF,
    ("GET", "/backoffice/gesprekken"): CHAT_STAFF,
    ("GET", "/backoffice/gesprekken/paneel"): CHAT_STAFF,
    ("POST", "/backoffice/gesprekken/aannemen"): CHAT_STAFF,
    ("GET", "/backoffice/gesprekken/{chat_id}"): CHAT_STAFF,
    ("POST", "/backoffice/gesprekken/{chat_id}/{action}"): CHAT_STAFF,
    ("GET", "/backoffice/dienst"): CHAT_STAFF,
    ("POST", "/backoffice/dienst"): CHAT_STAFF,
    ("GET", "/backoffice/rooster"): ADMIN,
    ("POST", "/backoffice/rooster"): ADMIN,
    ("POST", "/backoffice/rooster/{block_id}/verwijderen"): ADMIN,
    ("GET", "/backoffice/markt"): EDITORS,
    ("GET", "/backoffice/markt/nieuw"): EDITORS,
    ("POST", "/backoffice/markt/nieuw"): EDITORS,
    ("GET", "/backoffice/markt/{entry_id}"): EDITORS,
    ("POST", "/backoffice/markt/{entry_id}"): EDITORS,
    ("POST", "/backoffice/markt/{entry_id}/status"): EDITORS,
    ("GET", "/backoffice/markt/{entry_id}/versies/{number}"): EDITORS,
    ("GET", "/backoffice/reflectie/"): RELEASES,  # exact figures for admins; the others see the releases
    ("GET", "/backoffice/reflectie/maand"): RELEASES,
    ("GET", "/backoffice/reflectie/regio"): RELEASES,
    ("GET", "/backoffice/reflectie/export.csv"): RELEASES,
    ("GET", "/backoffice/reflectie/export.json"): RELEASES,
    ("POST", "/api/v1/bans"): ALL_STAFF,
    ("POST", "/api/v1/bans/{ban_id}/confirm"): ADMIN,
    ("POST", "/api/v1/referral-codes"): ALL_STAFF,
}
# API operations for visitors and members (not staff actions).
VISITOR_ACTIONS = frozenset(
    {
        ("POST", "/api/v1/guests"), ("POST", "/api/v1/accounts"), ("POST", "/api/v1/sessions"),
        ("DELETE", "/api/v1/sessions/current"), ("DELETE", "/api/v1/sessions"), ("POST", "/api/v1/ws-token"),
        ("GET", "/api/v1/me"), ("DELETE", "/api/v1/me"), ("POST", "/api/v1/me/validation"),
        ("POST", "/api/v1/me/validation/confirm"), ("POST", "/api/v1/me/referral"), ("GET", "/api/v1/me/export"),
        ("GET", "/api/v1/flavours"), ("POST", "/api/v1/recovery"), ("POST", "/api/v1/recovery/confirm"),
        ("POST", "/api/v1/bans/{ban_id}/appeal"), ("POST", "/api/v1/reports"),
        # The VitaliteitsMarkt's public catalogue, for partner sites (published entries only).
        ("GET", "/api/v1/markt/export"), ("GET", "/api/v1/markt/regios"), ("GET", "/api/v1/markt/{flavour}/aanbod"),
        ("GET", "/api/v1/markt/{flavour}/aanbod/{entry}"), ("GET", "/api/v1/markt/{flavour}/lokaal"),
    }
)  # fmt: skip
REFUSED = {401, 403, 404}


def _routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _routes(list(route.routes or []), prefix + route.path)
        elif isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield method, prefix + route.path


async def app_actions(client: httpx.AsyncClient, server: RunningServer) -> set[tuple[str, str]]:
    """Every backoffice route and every API operation (from the OpenAPI document and the router)."""
    found = {(m, p) for m, p in _routes(list(server.app.routes)) if p.startswith("/backoffice")}
    document = (await client.get("/api/openapi.json")).json()
    for path, operations in document["paths"].items():
        found.update((method.upper(), path) for method in operations)
    api_routes = {(m, p) for m, p in _routes(list(server.app.routes)) if p.startswith("/api/v1/")}
    # The API's own routes take every method and answer 405 themselves; the document lists the real ones.
    found.update((m, p) for m, p in api_routes if p not in document["paths"])
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


async def test_every_staff_route_has_an_entry(client: httpx.AsyncClient, server: RunningServer) -> None:
    actions = await app_actions(client, server)
    unclassified = sorted(a for a in actions if a not in STAFF_ACTIONS and a not in VISITOR_ACTIONS)
    assert not unclassified, f"add these to STAFF_ACTIONS (or VISITOR_ACTIONS): {unclassified}"
    stale = sorted(a for a in STAFF_ACTIONS if a not in actions)
    assert not stale, f"no longer routes: {stale}"


async def staff_tokens(client: httpx.AsyncClient, server: RunningServer, flavours: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for role in STAFF_ROLES:
        staff = await make_staff(server, role, flavours)
        out[role] = {"token": await staff_token(client, server, staff), "id": str(staff["doc"]["_id"])}
    return out


async def test_staff_routes_answer_per_role_as_the_table_says(client: httpx.AsyncClient, server: RunningServer) -> None:
    staff = await staff_tokens(client, server, ["trauma"])
    member = await register(client)
    callers: dict[str, dict[str, str]] = {"anonymous": {}, "member": auth(member["token"])}
    callers.update({role: auth(staff[role]["token"]) for role in STAFF_ROLES})
    async with httpx.AsyncClient(base_url=str(client.base_url), timeout=10.0) as bare:  # no cookies at all
        for (method, path), roles in sorted(STAFF_ACTIONS.items()):
            for who, headers in callers.items():
                url = concrete(path)
                kwargs: dict[str, Any] = {"headers": headers}
                if path.startswith("/api/") and method == "POST":
                    kwargs["json"] = {}
                response = await bare.request(method, url, **kwargs)
                status = response.status_code
                if who not in roles:
                    if who == "anonymous" and path.startswith("/backoffice"):
                        assert status in REFUSED | {303, 307, 308}, (method, path, who, status)
                        assert (
                            status in REFUSED
                            or "inloggen" in response.headers.get("location", "")
                            or (path == "/backoffice")
                        ), (method, path, who, status)
                    else:
                        assert status in REFUSED or (path == "/backoffice" and status == 308), (
                            method, path, who, status,
                        )  # fmt: skip
                elif method == "GET" and "{" not in path and path != "/backoffice":
                    assert status == 200, (method, path, who, status)
                else:  # allowed: whatever the answer, not the refusal of the role
                    assert status != 401, (method, path, who, status)


async def test_ban_table_over_the_api(client: httpx.AsyncClient, server: RunningServer) -> None:
    """Role × own/other/all flavours × target role, through ``POST /api/v1/bans`` (403 with a Dutch reason)."""
    staff = await staff_tokens(client, server, ["trauma"])
    targets: dict[str, str] = {"member": (await register(client))["id"]}
    targets["guest"] = (await client.post("/api/v1/guests")).json()["id"]
    for role in ("volunteer", "professional", "admin"):
        targets[role] = str((await make_staff(server, role, ["trauma"]))["doc"]["_id"])
    where_body: dict[str, dict[str, Any]] = {
        "own": {"flavours": ["trauma"]},
        "other": {"flavours": ["psychosenet"]},
        "platform": {},
    }
    for role, where, target in itertools.product(STAFF_ROLES, where_body, targets):
        body = {"account_id": targets[target], "reason": "tabel", "hours": 2, **where_body[where]}
        response = await client.post("/api/v1/bans", json=body, headers=auth(staff[role]["token"]))
        allowed = expected(role, where, target, "1h")
        if allowed:
            assert response.status_code == 201, (role, where, target, response.text)
        else:
            assert response.status_code == 403, (role, where, target, response.text)
            problem = response.json()
            assert problem["code"] == "forbidden" and problem["title"] == "Geen toegang" and problem["detail"]
    # Durations: beyond the role's limit is refused; no duration is not "for ever" but a question.
    member = targets["member"]
    too_long = {"account_id": member, "reason": "x", "hours": 25, "flavours": ["trauma"]}
    assert (
        await client.post("/api/v1/bans", json=too_long, headers=auth(staff["volunteer"]["token"]))
    ).status_code == 403
    week = {"account_id": member, "reason": "x", "days": 7, "flavours": ["trauma"]}
    assert (
        await client.post("/api/v1/bans", json=week, headers=auth(staff["professional"]["token"]))
    ).status_code == 201
    forever = {"account_id": member, "reason": "x", "flavours": ["trauma"]}
    for role in ("volunteer", "admin"):
        response = await client.post("/api/v1/bans", json=forever, headers=auth(staff[role]["token"]))
        assert response.status_code == 422, (role, response.text)
    permanent = {**forever, "permanent": True}
    assert (
        await client.post("/api/v1/bans", json=permanent, headers=auth(staff["professional"]["token"]))
    ).status_code == 403


async def test_a_flavour_ban_shuts_out_of_that_flavour_only(client: httpx.AsyncClient, server: RunningServer) -> None:
    volunteer = await make_staff(server, "volunteer", ["trauma"])
    token = await staff_token(client, server, volunteer)
    member = await register(client)
    body = {"account_id": member["id"], "reason": "schelden", "hours": 2, "flavours": ["trauma"]}
    ban = await client.post("/api/v1/bans", json=body, headers=auth(token))
    assert ban.status_code == 201 and ban.json()["state"] == "active"
    # Still logged in, still everywhere else; not in trauma.
    assert (await client.get("/api/v1/me", headers=auth(member["token"]))).status_code == 200
    assert (await client.get("/f/psychosenet/", headers=auth(member["token"]))).status_code == 200
    shut = await client.get("/f/trauma/", headers=auth(member["token"]))
    assert shut.status_code == 403 and "geen toegang" in shut.text
    login = await client.post("/api/v1/sessions", json={"pseudonym": member["pseudonym"], "password": PASSWORD})
    assert login.status_code == 200
    # Live: publishing in a trauma channel is refused by the same check.
    svc = identity(server)
    assert await svc.flavour_ban(member["id"], "trauma") is not None
    assert await svc.flavour_ban(member["id"], "psychosenet") is None


async def test_a_permanent_ban_needs_a_second_admin(client: httpx.AsyncClient, server: RunningServer) -> None:
    first, second = await make_staff(server, "admin", []), await make_staff(server, "admin", [])
    first_headers = auth(await staff_token(client, server, first))
    second_headers = auth(await staff_token(client, server, second))
    member = await register(client)
    body = {"account_id": member["id"], "reason": "dreigementen", "permanent": True}
    pending = await client.post("/api/v1/bans", json=body, headers=first_headers)
    assert pending.status_code == 202 and pending.json()["state"] == "pending", pending.text
    ban_id = pending.json()["ids"][0]
    # Nothing happens yet.
    assert (await client.get("/api/v1/me", headers=auth(member["token"]))).status_code == 200
    own = await client.post(f"/api/v1/bans/{ban_id}/confirm", headers=first_headers)
    assert own.status_code == 403 and "andere beheerder" in own.json()["detail"]
    confirmed = await client.post(f"/api/v1/bans/{ban_id}/confirm", headers=second_headers)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "active"
    assert (await client.get("/api/v1/me", headers=auth(member["token"]))).status_code == 401
    login = await client.post("/api/v1/sessions", json={"pseudonym": member["pseudonym"], "password": PASSWORD})
    assert login.status_code == 403 and login.json()["code"] == "banned"
    again = await client.post(f"/api/v1/bans/{ban_id}/confirm", headers=second_headers)
    assert again.status_code == 404
    actions = [e["action"] async for e in server.services.db["moderation_audit"].find({}).sort("_id", 1)]
    assert actions[-2:] == ["ban_requested", "ban_confirmed"]


async def test_lifting_a_ban_needs_the_authority_to_impose_it(client: httpx.AsyncClient, server: RunningServer) -> None:
    svc = identity(server)
    admin = svc.actor_from_doc((await make_staff(server, "admin", []))["doc"])
    other = svc.actor_from_doc((await make_staff(server, "volunteer", ["psychosenet"]))["doc"])
    own = svc.actor_from_doc((await make_staff(server, "volunteer", ["trauma"]))["doc"])
    member = await register(client)
    outcome = await svc.ban(admin, member["id"], "x", duration=timedelta(hours=3), flavours=["trauma"])
    from chatserver.services.identity import IdentityError

    for refused in (other,):
        try:
            await svc.lift_ban(refused, outcome.ids[0])
        except IdentityError as exc:
            assert exc.status == 403
        else:
            raise AssertionError("a volunteer of another flavour lifted a ban")
    await svc.lift_ban(own, outcome.ids[0])
    assert await svc.flavour_ban(member["id"], "trauma") is None


async def test_queue_mutes_and_bans_follow_the_same_limits(client: httpx.AsyncClient, server: RunningServer) -> None:

    svc = identity(server)
    moderation = server.services.moderation
    member = await register(client)
    author = svc.actor_from_doc(await svc.repo.get(member["id"]) or {})
    volunteer = svc.actor_from_doc((await make_staff(server, "volunteer", ["trauma"]))["doc"])
    professional = svc.actor_from_doc((await make_staff(server, "professional", ["trauma"]))["doc"])

    async def item() -> str:
        ref = ItemRef(kind="test", id=secrets.token_hex(4))
        return await moderation.submit(flavour="trauma", source="report", ref=ref, text="tekst", author=author)

    first = await item()
    await moderation.claim(volunteer, first)
    day_and_more = StaffDecision(kind="mute", reason="te lang", mute_minutes=25 * 60)
    try:
        await moderation.decide(volunteer, first, day_and_more)
    except ModerationError as exc:
        assert exc.status == 403 and "hoogstens 24 uur" in exc.detail
    else:
        raise AssertionError("a volunteer muted for more than a day")
    await moderation.decide(volunteer, first, StaffDecision(kind="mute", reason="even rust", mute_minutes=60))
    second = await item()
    await moderation.claim(professional, second)
    try:
        await moderation.decide(professional, second, StaffDecision(kind="ban", reason="altijd?"))
    except ModerationError as exc:
        assert exc.status == 422  # no duration is not "for ever"
    else:
        raise AssertionError("a ban without a duration was taken")
    await moderation.decide(professional, second, StaffDecision(kind="ban", reason="week", ban_days=7))
    assert await svc.flavour_ban(member["id"], "trauma") is not None
    assert await svc.flavour_ban(member["id"], "psychosenet") is None
