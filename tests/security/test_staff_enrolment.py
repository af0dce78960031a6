"""Staff TOTP enrolment: recovery codes that work once instead of a TOTP code, hashed at rest, behind the one
log-in answer; the QR code of the otpauth:// URI; demo staff who moderate every flavour."""

from __future__ import annotations

import base64
import re
import urllib.parse

import httpx
import pytest

from chatserver.demo import seed_demo_staff
from chatserver.domain.accounts import skeleton
from chatserver.services.identity import RECOVERY_CODES
from chatserver.web.qr import qr_svg_data_uri

from ..conftest import RunningServer
from ..integration.test_oneonone_support import login, post_form, staff
from .test_identity_web import identity


async def _login(client: httpx.AsyncClient, pseudonym: str, password: str, code: str) -> tuple[int, object]:
    response = await client.post("/api/v1/sessions", json={"pseudonym": pseudonym, "password": password, "totp": code})
    return response.status_code, response.json()


async def test_a_recovery_code_stands_in_for_the_totp_code_once(
    client: httpx.AsyncClient,
    server: RunningServer,
) -> None:
    svc = identity(server)
    created = await svc.create_staff(None, "mwherstel1", "peer_expert", ["trauma"], verified=True)
    codes = created.recovery_codes
    assert len(codes) == len(set(codes)) == RECOVERY_CODES
    stored = await svc.repo.get(created.account_id)
    assert stored is not None
    assert len(stored["recovery_hashes"]) == RECOVERY_CODES
    assert not any(code in repr(stored) for code in codes)  # only keyed hashes at rest
    wrong_code = await _login(client, created.pseudonym, created.password, "000000")
    wrong_password = await _login(client, created.pseudonym, "fout-wachtwoord-99", codes[0])
    assert wrong_code == wrong_password  # one answer for every failure, recovery code or not
    assert wrong_code[0] == 401
    status, _ = await _login(client, created.pseudonym, created.password, codes[0].upper())
    assert status == 200
    again = await _login(client, created.pseudonym, created.password, codes[0])
    assert again == wrong_code  # spent: it fails exactly like a wrong code
    made_up = await _login(client, created.pseudonym, created.password, "abcd-efgh")
    assert made_up == wrong_code
    left = await svc.repo.get(created.account_id)
    assert left is not None and len(left["recovery_hashes"]) == RECOVERY_CODES - 1


def test_the_otpauth_uri_becomes_an_svg_qr_code_made_here() -> None:
    uri = "otpauth://totp/GEM%20community:mw?secret=JBSWY3DPEHPK3PXP&issuer=GEM%20community"
    data = qr_svg_data_uri(uri)
    assert data.startswith("data:image/svg+xml")
    head, _, body = data.partition(",")
    svg = base64.b64decode(body).decode() if head.endswith(";base64") else urllib.parse.unquote(body)
    assert "<svg" in svg and "<path" in svg


async def test_the_demo_staff_moderate_every_flavour(server: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    services = server.services
    await seed_demo_staff(services)
    slugs = sorted(f.slug for f in services.catalog)
    svc = identity(server)
    for role in ("volunteer", "peer_expert", "professional", "editor", "admin"):
        doc = await svc.repo.by_pseudonym_key(skeleton(f"demo-{role.replace('_', '-')}"))
        assert doc is not None, role
        assert sorted(doc["flavours"]) == slugs, role
    out = capsys.readouterr().out
    assert "demo-peer-expert" in out and "herstelcodes" in out and "otpauth://" in out


async def test_an_admin_renews_a_lost_second_factor_and_the_old_one_stops_working(
    client: httpx.AsyncClient, server: RunningServer
) -> None:
    svc = identity(server)
    created = await svc.create_staff(None, "mwkwijt1", "volunteer", ["trauma"], verified=True)
    old_code = created.recovery_codes[0]
    status, body = await _login(client, created.pseudonym, created.password, created.recovery_codes[1])
    assert status == 200
    old_token = body["token"]  # type: ignore[index]
    async with httpx.AsyncClient(base_url=server.url) as admin:
        await login(server, admin, staff("admin", ("trauma",), name="beheer-tf"))
        unconfirmed = await post_form(
            admin, "/backoffice/staff", f"/backoffice/staff/{created.account_id}/tweede-factor", {}
        )
        assert unconfirmed.status_code == 422 and "er is niets veranderd" in unconfirmed.text
        status, _ = await _login(client, created.pseudonym, created.password, old_code)
        assert status == 200  # nothing changed: the old recovery code still works (and is now spent)
        old_code = created.recovery_codes[3]
        renewed = await post_form(
            admin, "/backoffice/staff", f"/backoffice/staff/{created.account_id}/tweede-factor", {"bevestig": "ja"}
        )
        assert renewed.status_code == 303
        shown = await admin.get("/backoffice/staff")
        again = await admin.get("/backoffice/staff")
        member = await svc.register_member("gewoonlid1", "lange-wandeling-42", "ip-tf")
        refused = await post_form(
            admin, "/backoffice/staff", f"/backoffice/staff/{member.actor.account_id}/tweede-factor", {"bevestig": "ja"}
        )
    assert "nieuwe tweede factor" in shown.text and "data:image/svg+xml" in shown.text
    new_codes = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4})</code>", shown.text)
    assert len(new_codes) == RECOVERY_CODES and old_code not in new_codes
    assert "data:image/svg+xml" not in again.text  # shown once
    assert refused.status_code == 404  # not a staff account
    gone = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_token}"})
    assert gone.status_code == 401  # every session ended
    old = await _login(client, created.pseudonym, created.password, created.recovery_codes[2])
    assert old[0] == 401
    status, _ = await _login(client, created.pseudonym, created.password, new_codes[0])
    assert status == 200
