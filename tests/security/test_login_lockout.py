"""Log-in attacks: targeted lock-out (OWASP: per pseudonym and address pair, a per-account backoff that a right
password passes, the owner told) and no password oracle for staff (one answer until password and TOTP are
checked together). The clock is injected; nothing here waits on the wall clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chatserver.services.identity import ATTACK_NOTICE, LIMITS, IdentityError, IdentityService

from ..conftest import RunningServer
from ..integration.test_api_identity import PASSWORD, register
from .test_identity_web import csrf_of, identity, make_staff

ATTACKER = "ip.attacker-address-hash"
OWNER = "ip.owner-address-hash"
WRONG = "fout-wachtwoord-1"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def fake_clock(server: RunningServer) -> FakeClock:
    fake = FakeClock()
    identity(server).clock = fake
    return fake


async def fail(svc: IdentityService, pseudonym: str, address: str, password: str = WRONG) -> int:
    try:
        await svc.login(pseudonym, password, address)
    except IdentityError as exc:
        return exc.status
    return 200


async def test_failures_elsewhere_do_not_lock_the_owner_out(
    client: httpx.AsyncClient, server: RunningServer, fake_clock: FakeClock
) -> None:
    svc = identity(server)
    member = await register(client)
    statuses = []
    for n in range(40):  # from many addresses and from one: more than every per-account limit
        statuses.append(await fail(svc, member["pseudonym"], ATTACKER if n % 2 else f"ip.spray{n}"))
        fake_clock.advance(seconds=1)
    assert 429 in statuses  # the attacking address is slowed down
    # The owner, from an address that has not failed, logs in with the right password.
    session = await svc.login(member["pseudonym"], PASSWORD, OWNER)
    assert session.actor.account_id == member["id"]
    # The attacker's own address stays blocked, even with the right password: limits are per pair.
    assert await fail(svc, member["pseudonym"], ATTACKER, PASSWORD) == 429
    # Under attack a fresh address gets one try per pair window.
    assert await fail(svc, member["pseudonym"], "ip.fresh") == 401
    assert await fail(svc, member["pseudonym"], "ip.fresh") == 429
    # Time heals the pair: after the window the attacker may try again (and is told no, not blocked).
    fake_clock.advance(minutes=10)
    assert await fail(svc, member["pseudonym"], ATTACKER) == 401


async def test_the_owner_is_told_once_when_their_account_is_attacked(
    client: httpx.AsyncClient, server: RunningServer, fake_clock: FakeClock
) -> None:
    svc = identity(server)
    member = await register(client)
    backoff = LIMITS["login_fail_account"].burst
    for n in range(backoff + 5):
        await fail(svc, member["pseudonym"], f"ip.bot{n}")
    notes = [d async for d in server.services.db["notifications"].find({"account_id": member["id"]})]
    assert [n["text"] for n in notes] == [ATTACK_NOTICE]
    # The bell on the owner's pages shows it.
    page = await client.get("/account/meldingen", headers={"Authorization": f"Bearer {member['token']}"})
    assert page.status_code == 200 and "Iemand probeert" in page.text
    # An unknown pseudonym under attack has no owner to tell and answers the same as a known one.
    assert await fail(svc, "niemand-hier", "ip.bot") == 401


async def test_no_address_in_clear_in_redis(client: httpx.AsyncClient, server: RunningServer) -> None:
    member = await register(client)
    for _ in range(3):
        await client.post("/api/v1/sessions", json={"pseudonym": member["pseudonym"], "password": "fout-fout-1"})
    prefix = server.services.settings.redis_key_prefix
    keys = [k.decode() if isinstance(k, bytes) else k async for k in server.services.redis.scan_iter(f"{prefix}*")]
    assert any(":login_fail_pair:" in k for k in keys)
    assert not any("127.0.0.1" in k for k in keys)
    for key in keys:
        if ":login_fail_" in key:
            assert 0 < int(await server.services.redis.pttl(key)) <= 3_600_000  # short-lived


async def test_staff_answers_are_identical_until_password_and_totp_are_checked(
    client: httpx.AsyncClient, server: RunningServer, fake_clock: FakeClock
) -> None:
    staff = await make_staff(server, "volunteer", ["trauma"])
    svc = identity(server)
    right, wrong = staff["password"], "fout-wachtwoord-99"
    attempts = {
        "right password, no code": {"password": right},
        "wrong password, no code": {"password": wrong},
        "right password, wrong code": {"password": right, "totp": "000000"},
        "wrong password, right code": {"password": wrong, "totp": svc.current_totp(staff["doc"])},
    }
    answers = {}
    for name, body in attempts.items():
        response = await client.post("/api/v1/sessions", json={"pseudonym": staff["pseudonym"], **body})
        answers[name] = (response.status_code, response.json())
    assert len({repr(a) for a in answers.values()}) == 1, answers
    assert answers["right password, no code"][0] == 401
    assert answers["right password, no code"][1]["code"] == "bad_credentials"
    fake_clock.advance(seconds=90)  # a fresh code window
    ok = await client.post(
        "/api/v1/sessions",
        json={"pseudonym": staff["pseudonym"], "password": right, "totp": svc.current_totp(staff["doc"])},
    )
    assert ok.status_code == 200, ok.text


def error_text(html: str) -> str:
    """The error messages of a form, without tokens and echoed values."""
    return " ".join(re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)<', html))


async def test_the_html_login_forms_do_not_tell_a_right_staff_password(
    client: httpx.AsyncClient, server: RunningServer, fake_clock: FakeClock
) -> None:
    staff = await make_staff(server, "peer_expert", ["trauma"])
    for form in ("/staff/inloggen", "/inloggen"):
        answers = []
        for password in (staff["password"], "fout-wachtwoord-99"):
            page = await client.get(form)
            data = {"csrf_token": csrf_of(page.text), "pseudonym": staff["pseudonym"], "password": password}
            if form == "/staff/inloggen":
                data["totp"] = ""
            response = await client.post(form, data=data)
            answers.append((response.status_code, error_text(response.text)))
        assert answers[0] == answers[1], (form, answers)
        assert answers[0][0] == 401 and "kloppen niet" in answers[0][1]
    # The staff form asks for the code in the same step.
    assert 'name="totp"' in (await client.get("/staff/inloggen")).text
