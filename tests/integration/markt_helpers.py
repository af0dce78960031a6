"""Helpers for the market tests: an entry written through the backoffice, approving a test report."""

from __future__ import annotations

import re
from typing import Any

import httpx

from chatserver.domain.identity import Actor
from chatserver.services.markt import MarktService
from chatserver.services.moderation import StaffDecision

from ..conftest import RunningServer
from .content_helpers import csrf_of

ENTRY_FORM: dict[str, Any] = {
    "kind": "app",
    "title": "Kalmte Kompas",
    "summary": "Een app met korte oefeningen voor als piekeren je wakker houdt.",
    "body": "Oefeningen van **drie minuten**.",
    "audience": "Volwassenen die veel piekeren.",
    "needs": ["angst", "slaap"],
    "languages": ["nl"],
    "costs": ["gratis"],
    "platforms": ["ios", "android"],
    "maker": "Stichting Testvoorbeeld",
    "quality_marks": ["onlinehulpstempel"],
    "mdr_class": "",
    "privacy_note": "Geen account nodig; alles blijft op je telefoon.",
    "privacy_url": "https://example.org/privacy",
    "evidence": "onderzocht",
    "links": "Website | https://example.org/kalmte",
    "rating_credibility": "4",
    "rating_credibility_reason": "Gemaakt met psychologen van een universiteit.",
    "rating_experience": "5",
    "rating_experience_reason": "Rustig ontwerp, werkt ook met weinig energie.",
    "rating_privacy": "3",
    "rating_privacy_reason": "Privacyverklaring is er, maar de bewaartermijn ontbreekt.",
}


def markt(server: RunningServer) -> MarktService:
    found: MarktService = server.services.markt
    return found


async def create_entry(client: httpx.AsyncClient, flavours: list[str], **changes: Any) -> str:
    page = await client.get("/backoffice/markt/nieuw")
    assert page.status_code == 200, page.text[:500]
    data = {**ENTRY_FORM, **changes, "flavours": flavours, "csrf_token": csrf_of(page.text)}
    response = await client.post("/backoffice/markt/nieuw", data=data)
    assert response.status_code == 303, response.text[:3000]
    match = re.match(r"/backoffice/markt/([0-9a-f]{32})\?", response.headers["location"])
    assert match
    return match.group(1)


async def set_status(client: httpx.AsyncClient, entry_id: str, action: str, **extra: str) -> httpx.Response:
    page = await client.get(f"/backoffice/markt/{entry_id}")
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page.text), "action": action, **extra}
    return await client.post(f"/backoffice/markt/{entry_id}/status", data=data)


async def publish(client: httpx.AsyncClient, entry_id: str) -> None:
    assert (await set_status(client, entry_id, "submit")).status_code == 303
    assert (await set_status(client, entry_id, "publish")).status_code == 303


async def write_report(client: httpx.AsyncClient, url: str, **answers: str) -> httpx.Response:
    form = await client.get(url)
    assert form.status_code == 200, form.text[:500]
    data = {"helped_with": "Ik sliep beter na de avondoefening.", "ease": "4", "recommend": "ja", "not_for": "",
            "used_for": "maanden", **answers, "csrf_token": csrf_of(form.text)}  # fmt: skip
    return await client.post(url, data=data)


async def decide_report(server: RunningServer, moderator: Actor, report_id: str, kind: str = "approve") -> None:
    doc = await server.services.db["markt_reports"].find_one({"_id": report_id})
    assert doc is not None and doc["moderation_item"], "the report has no moderation item"
    moderation = server.services.moderation
    await moderation.claim(moderator, doc["moderation_item"])
    await moderation.decide(moderator, doc["moderation_item"], StaffDecision(kind=kind, reason="gelezen"))  # type: ignore[arg-type]
