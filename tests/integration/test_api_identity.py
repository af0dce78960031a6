"""The identity API contract: guests, accounts, sessions, validation, export, erasure, OpenAPI."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import httpx

from chatserver.config import Settings

from ..conftest import RunningServer

PASSWORD = "lange-wandeling-42"


def outbox_code(settings: Settings, pattern: str = r"\b(\d{6})\b") -> str:
    files = sorted((settings.data_dir / "outbox").glob("*.eml"))
    assert files, "no message in the outbox"
    # The body only: a header (a To address like weg-585255@…) can hold six digits too.
    _, _, body = files[-1].read_text().partition("\n\n")
    match = re.search(pattern, body)
    assert match
    return match.group(1)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(client: httpx.AsyncClient, pseudonym: str | None = None, **kw: Any) -> dict[str, Any]:
    name = pseudonym or f"lid{secrets.token_hex(4)}"
    response = await client.post("/api/v1/accounts", json={"pseudonym": name, "password": PASSWORD}, **kw)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_account_creation_matches_the_contract(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/accounts", json={"pseudonym": "Zonnebloem", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"id", "pseudonym", "validated", "token"}
    assert body["pseudonym"] == "Zonnebloem" and body["validated"] is False
    me = await client.get("/api/v1/me", headers=auth(body["token"]))
    assert me.status_code == 200 and me.json()["id"] == body["id"]


async def test_login_logout_and_revoked_token(client: httpx.AsyncClient) -> None:
    account = await register(client, "Kievit77")
    login = await client.post("/api/v1/sessions", json={"pseudonym": "kievit77", "password": PASSWORD})
    assert login.status_code == 200
    token = login.json()["token"]
    assert token != account["token"]
    assert (await client.delete("/api/v1/sessions/current", headers=auth(token))).status_code == 204
    gone = await client.get("/api/v1/me", headers=auth(token))
    assert gone.status_code == 401
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["title"] == "Niet ingelogd"
    still = await client.get("/api/v1/me", headers=auth(account["token"]))
    assert still.status_code == 200


async def test_logout_everywhere_ends_every_session(client: httpx.AsyncClient) -> None:
    account = await register(client)
    second = await client.post("/api/v1/sessions", json={"pseudonym": account["pseudonym"], "password": PASSWORD})
    assert (await client.delete("/api/v1/sessions", headers=auth(account["token"]))).status_code == 204
    for token in (account["token"], second.json()["token"]):
        assert (await client.get("/api/v1/me", headers=auth(token))).status_code == 401


async def test_email_validation_with_code_from_outbox(client: httpx.AsyncClient, settings: Settings) -> None:
    account = await register(client)
    headers = auth(account["token"])
    sent = await client.post("/api/v1/me/validation", json={"email": "iemand@example.org"}, headers=headers)
    assert sent.status_code == 202
    wrong = await client.post("/api/v1/me/validation/confirm", json={"code": "000000"}, headers=headers)
    code = outbox_code(settings)
    if code != "000000":
        assert wrong.status_code == 422
    confirmed = await client.post("/api/v1/me/validation/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200 and confirmed.json() == {"validated": True}
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["validated"] is True and me["validation_method"] == "email"


async def test_address_of_another_account_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    first = await register(client)
    await client.post("/api/v1/me/validation", json={"email": "dubbel@example.org"}, headers=auth(first["token"]))
    code = outbox_code(settings)
    await client.post("/api/v1/me/validation/confirm", json={"code": code}, headers=auth(first["token"]))
    second = await register(client)
    again = await client.post(
        "/api/v1/me/validation", json={"email": " Dubbel@Example.org "}, headers=auth(second["token"])
    )
    assert again.status_code == 409
    assert again.json()["code"] == "address_in_use"


async def test_recovery_by_typing_the_address_again(client: httpx.AsyncClient, settings: Settings) -> None:
    account = await register(client)
    await client.post("/api/v1/me/validation", json={"phone": "06 12345678"}, headers=auth(account["token"]))
    code = outbox_code(settings)
    await client.post("/api/v1/me/validation/confirm", json={"code": code}, headers=auth(account["token"]))
    assert (await client.post("/api/v1/recovery", json={"phone": "+31612345678"})).status_code == 202
    recovery = outbox_code(settings, r"Herstelcode: (\S+)")
    new_password = "nieuwe-fiets-op-dinsdag"
    done = await client.post("/api/v1/recovery/confirm", json={"code": recovery, "password": new_password})
    assert done.status_code == 200
    assert (await client.get("/api/v1/me", headers=auth(account["token"]))).status_code == 401
    login = await client.post("/api/v1/sessions", json={"pseudonym": account["pseudonym"], "password": new_password})
    assert login.status_code == 200
    unknown = await client.post("/api/v1/recovery", json={"email": "niemand@example.org"})
    assert unknown.status_code == 202


async def test_guest_becomes_member_and_keeps_its_id(client: httpx.AsyncClient) -> None:
    guest = await client.post("/api/v1/guests")
    assert guest.status_code == 201
    body = guest.json()
    assert set(body) == {"id", "pseudonym", "token"} and body["pseudonym"].startswith("gast-")
    member = await register(client, headers=auth(body["token"]))
    assert member["id"] == body["id"]
    assert (await client.get("/api/v1/me", headers=auth(body["token"]))).status_code == 401


async def test_confusable_pseudonym_is_taken_with_suggestions(client: httpx.AsyncClient) -> None:
    await register(client, "Anna")
    for lookalike in ("Аnna", "ANNA", "Ánna", "Anna\u200b"):
        response = await client.post("/api/v1/accounts", json={"pseudonym": lookalike, "password": PASSWORD})
        assert response.status_code in (409, 422), lookalike
    taken = await client.post("/api/v1/accounts", json={"pseudonym": "Аnna", "password": PASSWORD})
    assert taken.json()["suggestions"]


async def test_bad_bodies_get_problem_details_never_5xx(client: httpx.AsyncClient) -> None:
    cases: list[tuple[Any, int]] = [
        ({"pseudonym": {"$gt": ""}, "password": PASSWORD}, 422),
        ({"pseudonym": "abc", "password": PASSWORD, "role": "admin"}, 422),
        ({"pseudonym": ["x"], "password": PASSWORD}, 422),
        ("not an object", 422),
    ]
    for body, status in cases:
        response = await client.post("/api/v1/accounts", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == status
    broken = await client.post("/api/v1/accounts", content=b"{\"pseudonym\": \"\\ud800", headers={
        "content-type": "application/json"})  # fmt: skip
    assert broken.status_code == 400
    plain = await client.post("/api/v1/sessions", content=b"pseudonym=x", headers={"content-type": "text/plain"})
    assert plain.status_code == 415
    assert (await client.get("/api/v1/nope")).status_code == 404
    assert (await client.put("/api/v1/me")).status_code == 405


async def test_ws_token_is_short_lived_and_single_use(client: httpx.AsyncClient, server: RunningServer) -> None:
    account = await register(client)
    response = await client.post("/api/v1/ws-token", headers=auth(account["token"]))
    assert response.status_code == 200
    body = response.json()
    assert 0 < body["expires_in"] <= 120
    sessions = server.services.sessions
    actor = await sessions.redeem_ws_token(body["token"])
    assert actor is not None and actor.account_id == account["id"]
    assert await sessions.redeem_ws_token(body["token"]) is None


async def test_flavours_list(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/flavours")
    assert response.status_code == 200
    slugs = {f["slug"] for f in response.json()}
    assert {"psychosenet", "proud2bme"} <= slugs


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for value in node.values():
            out.extend(_refs(value))
        return out
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


async def test_openapi_document_is_3_1_and_complete(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    for path, method in [
        ("/api/v1/accounts", "post"),
        ("/api/v1/sessions", "post"),
        ("/api/v1/sessions/current", "delete"),
        ("/api/v1/me/validation", "post"),
        ("/api/v1/me/validation/confirm", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/export", "get"),
        ("/api/v1/me", "delete"),
        ("/api/v1/flavours", "get"),
        ("/api/v1/guests", "post"),
        ("/api/v1/ws-token", "post"),
    ]:
        assert method in doc["paths"][path], (path, method)
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas
    assert schemas["AccountOut"]["required"] == ["id", "pseudonym", "validated", "token"]


async def test_export_and_erase(client: httpx.AsyncClient, server: RunningServer, settings: Settings) -> None:
    account = await register(client)
    headers = auth(account["token"])
    export = await client.get("/api/v1/me/export", headers=headers)
    assert export.status_code == 200
    data = export.json()
    assert data["account"]["_id"] == account["id"]
    assert "password_hash" not in export.text and "totp_nonce" not in export.text
    assert (await client.delete("/api/v1/me", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    doc = await server.services.db["accounts"].find_one({"_id": account["id"]})
    assert doc is not None and set(doc) == {"_id", "kind", "deleted_at"}
    # The erased pseudonym stays reserved (CHATSERVER_PSEUDONYM_RESERVE_DAYS), so nobody appears as its author.
    again = await client.post("/api/v1/accounts", json={"pseudonym": account["pseudonym"], "password": PASSWORD})
    assert again.status_code == 409
    assert isinstance(settings.data_dir, Path)


async def test_retention_purge_removes_old_guests_only(client: httpx.AsyncClient, server: RunningServer) -> None:
    from datetime import UTC, datetime, timedelta

    old = (await client.post("/api/v1/guests")).json()
    new = (await client.post("/api/v1/guests")).json()
    member = await register(client)
    accounts = server.services.db["accounts"]
    long_ago = datetime.now(UTC) - timedelta(days=server.services.settings.guest_retention_days + 1)
    for account_id in (old["id"], member["id"]):
        await accounts.update_one({"_id": account_id}, {"$set": {"created_at": long_ago}})
    purged = await server.services.identity.purge_once()
    assert purged >= 1
    assert await accounts.find_one({"_id": old["id"]}) is None
    assert (await client.get("/api/v1/me", headers=auth(old["token"]))).status_code == 401
    assert await accounts.find_one({"_id": new["id"]}) is not None
    assert await accounts.find_one({"_id": member["id"]}) is not None


async def test_codes_go_out_in_the_language_the_person_chose(client: httpx.AsyncClient, settings: Settings) -> None:
    """Mail and text messages follow the gem_lang choice of whoever asked; Dutch stays the default."""
    account = await register(client)
    english = {**auth(account["token"]), "Cookie": "gem_lang=en"}
    await client.post("/api/v1/me/validation", json={"email": "engels@example.org"}, headers=english)
    mail = sorted((settings.data_dir / "outbox").glob("*.eml"))[-1].read_text()
    assert "Subject: Your validation code" in mail and "valid for 15 minutes" in mail
    assert "validatiecode" not in mail and "geldig" not in mail
    code = outbox_code(settings)
    await client.post("/api/v1/me/validation/confirm", json={"code": code}, headers=english)
    assert (
        await client.post("/api/v1/recovery", json={"email": "engels@example.org"}, headers={"Cookie": "gem_lang=en"})
    ).status_code == 202
    assert outbox_code(settings, r"Your recovery code for '[^']+' is: (\S+)")
    assert (await client.post("/api/v1/recovery", json={"email": "engels@example.org"})).status_code == 202
    assert outbox_code(settings, r"Je herstelcode voor '[^']+' is: (\S+)")  # no choice made: Dutch
