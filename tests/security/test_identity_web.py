"""Attacks on the identity layer: CSRF, session fixation, XSS, brute force, privilege, bans, hashes, erasure."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
from argon2 import PasswordHasher

from chatserver.adapters.passwords import MEMORY_COST_KIB, TIME_COST, is_argon2id
from chatserver.domain.identity import Actor
from chatserver.services.identity import IdentityService

from ..conftest import RunningServer
from ..integration.test_api_identity import PASSWORD, auth, outbox_code, register

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def identity(server: RunningServer) -> IdentityService:
    found: IdentityService = server.services.identity
    return found


async def form_register(client: httpx.AsyncClient, pseudonym: str) -> httpx.Response:
    page = await client.get("/registreren")
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page.text), "pseudonym": pseudonym, "password": PASSWORD}
    return await client.post("/registreren", data=data)


async def make_staff(server: RunningServer, role: str, flavours: list[str]) -> dict[str, Any]:
    svc = identity(server)
    created = await svc.create_staff(None, f"mw{secrets.token_hex(3)}", role, flavours, "BIG-1", verified=True)
    return {"pseudonym": created.pseudonym, "password": created.password, "doc": created.doc}


async def staff_token(client: httpx.AsyncClient, server: RunningServer, staff: dict[str, Any]) -> str:
    code = identity(server).current_totp(staff["doc"])
    body = {"pseudonym": staff["pseudonym"], "password": staff["password"], "totp": code}
    async with httpx.AsyncClient(base_url=str(client.base_url)) as bare:  # Bearer clients carry no cookies
        response = await bare.post("/api/v1/sessions", json=body)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def test_form_without_or_with_wrong_csrf_token_is_403(client: httpx.AsyncClient) -> None:
    page = await client.get("/registreren")
    token = csrf_of(page.text)
    missing = await client.post("/registreren", data={"pseudonym": "Egel123", "password": PASSWORD})
    assert missing.status_code == 403
    assert "verlopen" in missing.text
    wrong = await client.post(
        "/registreren", data={"csrf_token": "x" * 43, "pseudonym": "Egel123", "password": PASSWORD}
    )
    assert wrong.status_code == 403
    header_wrong = await client.post("/uitloggen", headers={"X-CSRF-Token": "nee"})
    assert header_wrong.status_code == 403
    ok = await client.post("/registreren", data={"csrf_token": token, "pseudonym": "Egel123", "password": PASSWORD})
    assert ok.status_code == 303
    # After log-in the token is bound to the new session: the old one no longer works.
    stale = await client.post("/uitloggen", data={"csrf_token": token})
    assert stale.status_code == 403
    profile = await client.get("/account")
    assert profile.status_code == 200 and profile.headers["cache-control"] == "no-store"
    fresh = await client.post("/uitloggen", headers={"X-CSRF-Token": csrf_of(profile.text)})
    assert fresh.status_code == 303


async def test_cookie_session_on_the_api_needs_csrf_but_bearer_does_not(client: httpx.AsyncClient) -> None:
    assert (await form_register(client, "Vlinder9")).status_code == 303
    no_token = await client.post("/api/v1/ws-token")
    assert no_token.status_code == 403
    assert no_token.headers["content-type"].startswith("application/problem+json")
    async with httpx.AsyncClient(base_url=str(client.base_url)) as bare:
        account = await register(bare)
    # An explicit Bearer token replaces the cookie session: no CSRF token needed.
    assert (await client.post("/api/v1/ws-token", headers=auth(account["token"]))).status_code == 200


async def test_session_token_changes_at_login(client: httpx.AsyncClient, server: RunningServer) -> None:
    await register(client, "Reiger42")
    page = await client.get("/inloggen")
    device = page.cookies["gem_device"]
    planted = "aanvaller-gekozen-waarde"
    bare = httpx.AsyncClient(base_url=str(client.base_url))  # no cookie jar of its own
    data = {"csrf_token": csrf_of(page.text), "pseudonym": "Reiger42", "password": PASSWORD, "volgende": "/account"}
    response = await bare.post(
        "/inloggen", data=data, headers={"Cookie": f"gem_device={device}; gem_session={planted}"}
    )
    assert response.status_code == 303
    first = response.cookies["gem_session"]
    assert first and first != planted
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("gem_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    # A logged-in session that logs in again gets a new token too; the old one ends.
    profile = await bare.get("/account", headers={"Cookie": f"gem_session={first}"})
    again = await bare.post(
        "/inloggen", data={**data, "csrf_token": csrf_of(profile.text)}, headers={"Cookie": f"gem_session={first}"}
    )
    await bare.aclose()
    assert again.status_code == 303
    second = again.cookies["gem_session"]
    assert second and second != first
    assert await server.services.sessions.get(first) is None


async def test_xss_in_user_controlled_fields_is_escaped_or_refused(client: httpx.AsyncClient) -> None:
    vectors = [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        'x" hx-get="/evil" hx-trigger="load',
        "{{ 7*7 }}",
        "javascript:alert(1)",
    ]
    for vector in vectors:
        response = await form_register(client, vector)
        assert response.status_code == 422
        assert "<img src=x" not in response.text and "<script>alert" not in response.text
        assert 'hx-get="/evil"' not in response.text
        assert "49" not in re.sub(r"\d{3,}", "", response.text.split("<main", 1)[1].split("</main>", 1)[0])
    api = await client.post("/api/v1/accounts", json={"pseudonym": vectors[0], "password": PASSWORD})
    assert api.status_code == 422
    page = await client.get("/inloggen")
    login = await client.post(
        "/inloggen", data={"csrf_token": csrf_of(page.text), "pseudonym": vectors[1], "password": "x", "volgende": "/"}
    )
    assert login.status_code == 401 and "<img src=x" not in login.text
    appeal_page = await client.get("/account/bezwaar/%3Cscript%3E")
    assert "<script>" not in appeal_page.text.split("<main", 1)[1]


async def test_brute_force_is_rate_limited_with_retry_after(client: httpx.AsyncClient) -> None:
    await register(client, "Otter5")
    statuses = []
    for _ in range(6):
        response = await client.post("/api/v1/sessions", json={"pseudonym": "Otter5", "password": "fout-wachtwoord"})
        statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    blocked = await client.post("/api/v1/sessions", json={"pseudonym": "Otter5", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "opnieuw" in blocked.json()["detail"]


async def test_staff_need_totp_and_a_code_works_once(client: httpx.AsyncClient, server: RunningServer) -> None:
    staff = await make_staff(server, "volunteer", ["psychosenet"])
    body = {"pseudonym": staff["pseudonym"], "password": staff["password"]}
    without = await client.post("/api/v1/sessions", json=body)
    assert without.status_code == 401 and without.json()["code"] == "bad_credentials"  # no password oracle
    wrong = await client.post("/api/v1/sessions", json={**body, "totp": "123456"})
    code = identity(server).current_totp(staff["doc"])
    if code != "123456":
        assert wrong.status_code == 401
    ok = await client.post("/api/v1/sessions", json={**body, "totp": code})
    assert ok.status_code == 200
    replay = await client.post("/api/v1/sessions", json={**body, "totp": code})
    assert replay.status_code == 401
    page = await client.get("/staff/inloggen")
    form = await client.post(
        "/inloggen", data={"csrf_token": csrf_of(page.text), **body, "volgende": "/account"}
    )  # the member form has no TOTP field
    assert form.status_code == 401


async def test_member_cannot_do_staff_things_or_see_other_accounts(
    client: httpx.AsyncClient, server: RunningServer
) -> None:
    member = await register(client)
    other = await register(client)
    headers = auth(member["token"])
    ban = await client.post("/api/v1/bans", json={"account_id": other["id"], "reason": "test"}, headers=headers)
    assert ban.status_code == 403
    referral = await client.post("/api/v1/referral-codes", json={"flavour": "psychosenet"}, headers=headers)
    assert referral.status_code == 403
    assert (await form_register(client, "Merel77")).status_code == 303
    for path in ("/backoffice/staff", "/backoffice/outbox"):
        response = await client.get(path)
        assert response.status_code == 404, path
    profile = await client.get("/account")
    token = csrf_of(profile.text)
    verify = await client.post(f"/backoffice/staff/{other['id']}", data={"csrf_token": token, "role": "admin"})
    assert verify.status_code == 404
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["id"] == member["id"] and other["id"] not in str(me)
    # Staff of flavour A cannot issue referral codes for flavour B, nor ban staff.
    volunteer = await make_staff(server, "volunteer", ["psychosenet"])
    vol_headers = auth(await staff_token(client, server, volunteer))
    cross = await client.post("/api/v1/referral-codes", json={"flavour": "trauma"}, headers=vol_headers)
    assert cross.status_code == 403
    admin = await make_staff(server, "admin", [])
    staff_ban = await client.post(
        "/api/v1/bans", json={"account_id": admin["doc"]["_id"], "reason": "x"}, headers=vol_headers
    )
    assert staff_ban.status_code == 403


async def test_banned_validation_hash_and_device_cannot_come_back(
    client: httpx.AsyncClient, server: RunningServer
) -> None:
    device = secrets.token_urlsafe(16)
    headers_dev = {"X-Device-Token": device}
    member = await register(client, headers=headers_dev)
    email = f"weg-{secrets.token_hex(3)}@example.org"
    await client.post("/api/v1/me/validation", json={"email": email}, headers=auth(member["token"]))
    code = outbox_code(server.services.settings)
    confirmed = await client.post("/api/v1/me/validation/confirm", json={"code": code}, headers=auth(member["token"]))
    assert confirmed.status_code == 200
    moderator = await make_staff(server, "admin", [])  # a platform-wide ban is for admins
    mod_headers = auth(await staff_token(client, server, moderator))
    ban = await client.post(
        "/api/v1/bans", json={"account_id": member["id"], "reason": "herhaald grensoverschrijdend", "days": 30},
        headers=mod_headers,
    )  # fmt: skip
    assert ban.status_code == 201 and len(ban.json()["ids"]) == 3
    assert (await client.get("/api/v1/me", headers=auth(member["token"]))).status_code == 401
    login = await client.post("/api/v1/sessions", json={"pseudonym": member["pseudonym"], "password": PASSWORD})
    assert login.status_code == 403 and login.json()["code"] == "banned"
    ban_id = login.json()["ban_id"]
    appeal = await client.post(
        f"/api/v1/bans/{ban_id}/appeal", json={"text": "Ik wil graag uitleggen wat er gebeurde."}
    )
    assert appeal.status_code == 202
    # The same device cannot start over as a guest or a new member.
    assert (await client.post("/api/v1/guests", headers=headers_dev)).status_code == 403
    assert (
        await client.post("/api/v1/accounts", json={"pseudonym": "Nieuw123", "password": PASSWORD}, headers=headers_dev)
    ).status_code == 403
    # A new account on another device cannot validate with the banned address.
    fresh = await register(client)
    again = await client.post("/api/v1/me/validation", json={"email": email.upper()}, headers=auth(fresh["token"]))
    assert again.status_code == 403 and again.json()["code"] == "banned"


async def test_passwords_are_argon2id_and_upgraded_on_login(client: httpx.AsyncClient, server: RunningServer) -> None:
    member = await register(client)
    accounts = server.services.db["accounts"]
    doc = await accounts.find_one({"_id": member["id"]})
    assert doc is not None and is_argon2id(doc["password_hash"])
    assert f"m={MEMORY_COST_KIB},t={TIME_COST},p=1" in doc["password_hash"]
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await accounts.update_one({"_id": member["id"]}, {"$set": {"password_hash": weak}})
    login = await client.post("/api/v1/sessions", json={"pseudonym": member["pseudonym"], "password": PASSWORD})
    assert login.status_code == 200
    doc = await accounts.find_one({"_id": member["id"]})
    assert doc is not None and doc["password_hash"] != weak
    assert f"m={MEMORY_COST_KIB},t={TIME_COST},p=1" in doc["password_hash"]


async def test_erasure_leaves_only_a_tombstone(client: httpx.AsyncClient, server: RunningServer) -> None:
    svc = identity(server)
    db = server.services.db
    member = await register(client, f"Wis{secrets.token_hex(3)}")
    await client.post("/api/v1/me/validation", json={"email": "wis@example.org"}, headers=auth(member["token"]))
    await client.post(
        "/api/v1/me/validation/confirm", json={"code": outbox_code(server.services.settings)},
        headers=auth(member["token"]),
    )  # fmt: skip
    # A collection on the erasure list (chatserver.adapters.privacy_places.PLACES) is exported and pseudonymised.
    await db["forum_posts"].insert_many(
        [{"author_id": member["id"], "author_pseudonym": member["pseudonym"], "body": f"bericht {i}"} for i in range(3)]
    )
    export = await client.get("/api/v1/me/export", headers=auth(member["token"]))
    assert len(export.json()["collections"]["forum_posts"]) == 3
    actor = await server.services.sessions.get(member["token"])
    assert isinstance(actor, Actor)
    await svc.erase_account(actor, keep_posts=True)
    posts = [p async for p in db["forum_posts"].find({})]
    assert all(p["author_id"] == "deleted" and p["author_pseudonym"] == "verwijderd account" for p in posts)
    dump = []
    for name in await db.list_collection_names():
        dump.extend([str(d) async for d in db[name].find({})])
    text = "\n".join(dump)
    assert member["pseudonym"] not in text
    tomb = await db["accounts"].find_one({"_id": member["id"]})
    assert tomb == {"_id": member["id"], "kind": "deleted", "deleted_at": tomb["deleted_at"]} if tomb else False
    redis = server.services.redis
    async for key in redis.scan_iter(match=f"{server.services.settings.redis_key_prefix}*"):
        assert member["id"] not in key.decode()
        if (await redis.type(key)) == b"string":
            assert member["id"].encode() not in (await redis.get(key) or b"")
