"""The privacy scan: after sign-up, validation, log-in and recovery, no e-mail, phone or IP is stored or logged."""

from __future__ import annotations

import logging
import secrets

import httpx
import pytest

from ..conftest import RunningServer
from ..integration.test_api_identity import PASSWORD, auth, outbox_code
from .test_identity_web import csrf_of


async def _redis_dump(server: RunningServer) -> list[bytes]:
    redis = server.services.redis
    out: list[bytes] = []
    async for key in redis.scan_iter(count=500):
        out.append(key)
        kind = (await redis.type(key)).decode()
        if kind == "string":
            out.append(await redis.get(key) or b"")
        elif kind == "hash":
            for k, v in (await redis.hgetall(key)).items():
                out.extend((k, v))
        elif kind == "set":
            out.extend(await redis.smembers(key))
        elif kind == "list":
            out.extend(await redis.lrange(key, 0, -1))
        elif kind == "zset":
            out.extend(m for m, _ in await redis.zrange(key, 0, -1, withscores=True))
        elif kind == "stream":
            for _, fields in await redis.xrange(key):
                for k, v in fields.items():
                    out.extend((k, v))
    return out


async def _mongo_dump(server: RunningServer) -> list[str]:
    db = server.services.db
    out: list[str] = []
    for name in await db.list_collection_names():
        out.extend([repr(doc) async for doc in db[name].find({})])
    return out


async def test_no_email_phone_or_ip_anywhere_after_a_full_flow(
    client: httpx.AsyncClient,
    server: RunningServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As in production (chatserver.logs.configure_logging): uvicorn's access log, which prints
    # client addresses, is off. Everything else is captured at DEBUG, drivers included.
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "disabled", True)
    caplog.set_level(logging.DEBUG)
    tag = secrets.token_hex(4)
    email = f"marker-{tag}@example.org"
    local_phone = f"06{secrets.randbelow(10**8):08d}"
    phone_e164 = "+31" + local_phone[1:]
    spoofed_ip = f"203.0.113.{secrets.randbelow(250) + 1}"
    spoof = {"X-Forwarded-For": spoofed_ip, "X-Real-IP": spoofed_ip, "Forwarded": f"for={spoofed_ip}"}
    settings = server.services.settings

    async with httpx.AsyncClient(base_url=server.url, headers=spoof) as api:
        guest = (await api.post("/api/v1/guests")).json()
        member = await api.post(
            "/api/v1/accounts", json={"pseudonym": f"priv{tag}", "password": PASSWORD}, headers=auth(guest["token"])
        )
        assert member.status_code == 201
        token = member.json()["token"]
        sent = await api.post("/api/v1/me/validation", json={"email": email.upper()}, headers=auth(token))
        assert sent.status_code == 202
        confirm = await api.post(
            "/api/v1/me/validation/confirm", json={"code": outbox_code(settings)}, headers=auth(token)
        )
        assert confirm.json() == {"validated": True}
        login = await api.post("/api/v1/sessions", json={"pseudonym": f"priv{tag}", "password": PASSWORD})
        assert login.status_code == 200
        bad = await api.post("/api/v1/sessions", json={"pseudonym": f"priv{tag}", "password": "verkeerd-wachtwoord"})
        assert bad.status_code == 401
        assert (await api.post("/api/v1/ws-token", headers=auth(login.json()["token"]))).status_code == 200
        assert (await api.post("/api/v1/recovery", json={"email": email})).status_code == 202
        assert (await api.get("/api/v1/me/export", headers=auth(token))).status_code == 200

    # The page flow, with the phone number.
    client.headers.update(spoof)
    page = await client.get("/registreren")
    reg = await client.post(
        "/registreren", data={"csrf_token": csrf_of(page.text), "pseudonym": f"web{tag}", "password": PASSWORD}
    )
    assert reg.status_code == 303
    page = await client.get("/account/valideren")
    ask = await client.post(
        "/account/valideren/adres", data={"csrf_token": csrf_of(page.text), "method": "phone", "phone": local_phone}
    )
    assert ask.status_code == 303
    page = await client.get("/account/valideren?stap=code")
    code = outbox_code(settings)
    done = await client.post("/account/valideren/code", data={"csrf_token": csrf_of(page.text), "code": code})
    assert done.status_code == 303
    profile = await client.get("/account")
    assert "Ja" in profile.text

    # The markers reached the mailer (so the flow really carried them) ...
    outbox = "\n".join(p.read_text() for p in (settings.data_dir / "outbox").glob("*.eml"))
    assert email in outbox and phone_e164 in outbox

    # ... and nowhere else.
    markers = [email, email.upper(), tag + "@", local_phone, phone_e164, phone_e164[1:], spoofed_ip, "127.0.0.1"]
    mongo = "\n".join(await _mongo_dump(server))
    assert f"priv{tag}" in mongo  # the dump does see our data
    redis_values = await _redis_dump(server)
    redis_text = b"\n".join(redis_values).decode("utf-8", errors="replace")
    assert redis_values
    for marker in markers:
        assert marker not in mongo, f"{marker} in MongoDB"
        assert marker not in redis_text, f"{marker} in Redis"
    assert local_phone[1:] not in mongo and local_phone[1:] not in redis_text
    logged = [r.getMessage() for r in caplog.records]
    assert any("validation code sent" in line for line in logged)
    for line in logged:
        for marker in markers[:-1]:
            assert marker not in line, f"{marker} logged: {line}"
    for record in caplog.records:
        if record.name.startswith("chatserver"):
            assert "127.0.0.1" not in record.getMessage(), record.getMessage()
