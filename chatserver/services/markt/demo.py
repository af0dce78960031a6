"""Demo entries for the market: realistic in shape, clearly fictional in name ("fictief voorbeeld"), with local
offers in several regions and a few approved test reports. Fixed ids: running it twice changes nothing."""

from __future__ import annotations

from typing import Any

from chatserver.domain.markt import search_terms
from chatserver.ports.markt import Document, MarktStore, ReportExists

FICTION = " (fictief voorbeeld)"


def _rating(credibility: int, experience: int, privacy: int, why: tuple[str, str, str]) -> dict[str, Any]:
    scores = (credibility, experience, privacy)
    return {
        scale: {"score": score, "reason": reason}
        for scale, score, reason in zip(("credibility", "experience", "privacy"), scores, why, strict=True)
    }


def _local(regions: list[str], hours: str, organisation: str, phone: str, referral: bool = False) -> dict[str, Any]:
    return {"regions": regions, "opening_hours": hours, "referral": referral, "organisation": organisation,
            "phone": phone, "email": "", "address": ""}  # fmt: skip


DEMO_ENTRIES: tuple[dict[str, Any], ...] = (
    {
        "slug": "rustpunt-app",
        "kind": "app",
        "title": "Rustpunt" + FICTION,
        "summary": "Korte ademhalings- en ontspanningsoefeningen voor momenten van stress en spanning.",
        "audience": "Volwassenen die veel spanning voelen en zelf willen oefenen.",
        "needs": ["stress", "angst", "slaap"],
        "languages": ["nl", "en"],
        "costs": ["gratis"],
        "platforms": ["ios", "android"],
        "maker": "Stichting Adem (fictief)",
        "quality_marks": ["onlinehulpstempel"],
        "mdr_class": "",
        "evidence": "onderzocht",
        "privacy_note": "Werkt zonder account; oefeningen blijven op je telefoon.",
        "rating": _rating(
            4,
            5,
            4,
            (
                "Gemaakt met psychologen; de oefeningen volgen bekende methoden.",
                "Duidelijk en rustig; ook met weinig energie te gebruiken.",
                "Geen account nodig; de privacyverklaring is kort en begrijpelijk.",
            ),
        ),
    },
    {
        "slug": "somberweg-programma",
        "kind": "programma",
        "title": "Stap voor stap uit de somberheid" + FICTION,
        "summary": "Online cursus van acht weken met oefeningen uit de cognitieve gedragstherapie en een coach.",
        "audience": "Volwassenen met lichte tot matige somberheid, ook op de wachtlijst.",
        "needs": ["somber", "zelfzorg"],
        "languages": ["nl"],
        "costs": ["vergoed", "betaald"],
        "platforms": ["web"],
        "maker": "Praktijk Voorbeeld (fictief)",
        "quality_marks": ["ce_mdr"],
        "mdr_class": "I",
        "evidence": "effectief",
        "privacy_note": "Je maakt een account; je coach ziet je oefeningen, verder niemand.",
        "rating": _rating(
            5,
            3,
            3,
            (
                "Gebaseerd op onderzochte CGT-oefeningen; klasse I medisch hulpmiddel.",
                "Veel tekst per les; de app-versie ontbreekt nog.",
                "Privacyverklaring aanwezig, maar bewaartermijnen staan er niet duidelijk in.",
            ),
        ),
    },
    {
        "slug": "slaapwijzer-website",
        "kind": "website",
        "title": "De Slaapwijzer" + FICTION,
        "summary": "Uitleg en zelftest over slapen, met tips die je vanavond al kunt proberen.",
        "audience": "Iedereen die slecht slaapt.",
        "needs": ["slaap", "zelfzorg"],
        "languages": ["nl", "en", "tr"],
        "costs": ["gratis"],
        "platforms": ["web"],
        "maker": "Kenniscentrum Slaap (fictief)",
        "quality_marks": [],
        "mdr_class": "",
        "evidence": "praktijk",
        "privacy_note": "Geen account; de website gebruikt geen trackers.",
        "rating": _rating(
            3,
            4,
            5,
            (
                "Tips komen overeen met de richtlijnen; bronnen staan erbij.",
                "Overzichtelijk, ook op een kleine telefoon.",
                "Geen cookies of trackers; dat staat duidelijk vermeld.",
            ),
        ),
    },
    {
        "slug": "stemmen-boek",
        "kind": "boek",
        "title": "Leven met stemmen" + FICTION,
        "summary": "Ervaringsverhalen en praktische tips van mensen die stemmen horen, en van hun naasten.",
        "audience": "Mensen die stemmen horen en hun naasten.",
        "needs": ["psychose", "naasten"],
        "languages": ["nl"],
        "costs": ["betaald"],
        "platforms": ["papier"],
        "maker": "Uitgeverij Voorbeeld (fictief)",
        "quality_marks": [],
        "mdr_class": "",
        "evidence": "praktijk",
        "privacy_note": "Een boek: er worden geen gegevens verzameld.",
        "rating": {},
    },
    {
        "slug": "nachtlijn-hulplijn",
        "kind": "hulplijn",
        "title": "De Nachtlijn" + FICTION,
        "summary": "Anoniem bellen of chatten met een getrainde vrijwilliger, 's avonds en 's nachts.",
        "audience": "Iedereen die even met iemand wil praten; geen crisisdienst.",
        "needs": ["eenzaam", "somber"],
        "languages": ["nl", "en"],
        "costs": ["gratis"],
        "platforms": ["telefoon", "web"],
        "maker": "Vereniging Nachtlijn (fictief)",
        "quality_marks": [],
        "mdr_class": "",
        "evidence": "praktijk",
        "privacy_note": "Anoniem; gesprekken worden niet opgenomen.",
        "rating": {},
    },
    {
        "slug": "samen-koffie-amsterdam",
        "kind": "lokaal",
        "title": "Koffie & Kletsen Oost" + FICTION,
        "summary": "Wekelijkse inloop voor wie zich eenzaam voelt: koffie, een spelletje en een luisterend oor.",
        "audience": "Volwassenen in Amsterdam en omgeving.",
        "needs": ["eenzaam"],
        "languages": ["nl", "ar"],
        "costs": ["gratis"],
        "platforms": ["locatie"],
        "maker": "Buurthuis Voorbeeld (fictief)",
        "quality_marks": [],
        "mdr_class": "",
        "evidence": "praktijk",
        "privacy_note": "Je hoeft je niet aan te melden.",
        "rating": {},
        "local": _local(
            ["ggd:GG3406"], "Dinsdag en donderdag 10:00–12:00", "Buurthuis Voorbeeld (fictief)", "020 000 0000"
        ),
    },
    {
        "slug": "herstelgroep-utrecht",
        "kind": "lokaal",
        "title": "Herstelgroep na burn-out" + FICTION,
        "summary": "Acht bijeenkomsten in een kleine groep, begeleid door een ervaringsdeskundige.",
        "audience": "Werkenden die herstellen van een burn-out.",
        "needs": ["stress"],
        "languages": ["nl"],
        "costs": ["vergoed"],
        "platforms": ["locatie"],
        "maker": "Herstelhuis Voorbeeld (fictief)",
        "quality_marks": [],
        "mdr_class": "",
        "evidence": "onderzocht",
        "privacy_note": "Alleen je naam en telefoonnummer, voor de groep.",
        "rating": {},
        "local": _local(
            ["pv:utrecht"], "Maandagavond 19:30–21:30", "Herstelhuis Voorbeeld (fictief)", "030 000 0000", referral=True
        ),
    },
    {
        "slug": "lotgenoten-groningen",
        "kind": "lokaal",
        "title": "Lotgenotengroep Stemmen Noord" + FICTION,
        "summary": "Maandelijkse bijeenkomst voor mensen die stemmen horen; naasten zijn welkom.",
        "audience": "Mensen die stemmen horen, en hun naasten.",
        "needs": ["psychose", "naasten"],
        "languages": ["nl"],
        "costs": ["gratis"],
        "platforms": ["locatie"],
        "maker": "Vereniging Voorbeeld (fictief)",
        "quality_marks": [],
        "mdr_class": "",
        "evidence": "praktijk",
        "privacy_note": "Je hoeft je niet aan te melden.",
        "rating": {},
        "local": _local(
            ["gm:GM0014", "ggd:GG7206"],
            "Eerste woensdag van de maand, 14:00–16:00",
            "Vereniging Voorbeeld (fictief)",
            "050 000 0000",
        ),
    },
    {
        "slug": "tegenwind-rotterdam",
        "kind": "lokaal",
        "title": "Inloop Tegenwind" + FICTION,
        "summary": "Inloopspreekuur over drank, drugs en gamen, zonder afspraak en zonder oordeel.",
        "audience": "Jongeren en volwassenen in de regio Rotterdam.",
        "needs": ["verslaving"],
        "languages": ["nl", "pap"],
        "costs": ["gratis"],
        "platforms": ["locatie"],
        "maker": "Stichting Voorbeeld (fictief)",
        "quality_marks": [],
        "mdr_class": "",
        "evidence": "praktijk",
        "privacy_note": "Anoniem; niets wordt opgeschreven.",
        "rating": {},
        "local": _local(["ggd:GG4607"], "Vrijdag 13:00–17:00", "Stichting Voorbeeld (fictief)", "010 000 0000"),
    },
)

DEMO_REPORTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("rustpunt-app", "Demo-lid-Mira", {"helped_with": "De ademoefening van drie minuten helpt me voor een gesprek "
                                       "op mijn werk.", "ease": 5, "recommend": "ja", "not_for": "",
                                       "used_for": "maanden"}),
    ("rustpunt-app", "Demo-lid-Sem", {"helped_with": "Slapen ging iets beter, maar ik vergat de oefeningen vaak.",
                                      "ease": 4, "recommend": "misschien", "not_for": "Wie echte slaapproblemen "
                                      "heeft, heeft meer nodig.", "used_for": "weken"}),
)  # fmt: skip


def _doc(raw: dict[str, Any], flavours: list[str], now: Any) -> Document:
    doc: Document = {"body": "", "cost_note": "", "privacy_url": "", "evidence_note": "", "local": None,
                     "links": [{"label": "Website (voorbeeld)", "url": "https://example.org/"}], **raw}  # fmt: skip
    doc.update(_id=f"demo-{raw['slug']}", flavours=flavours, status="published", version=1, published_at=now,
               created_at=now, updated_at=now, author_id="demo", updated_by="redactie", updated_by_id="demo",
               reject_reason="", report_stats={})  # fmt: skip
    doc["search_terms"] = search_terms(" ".join(str(doc.get(k, "")) for k in ("title", "summary", "audience", "maker")))
    return doc


async def seed_demo_markt(store: MarktStore, flavours: list[str], now: Any, refresh: Any) -> int:
    """Insert the demo entries (in every flavour) and reports that are not there yet; ``refresh(entry_id)``
    recounts the reports."""
    added = 0
    for raw in DEMO_ENTRIES:
        if await store.entry(f"demo-{raw['slug']}") is None:
            await store.insert_entry(_doc(raw, flavours, now))
            added += 1
    for slug, pseudonym, answers in DEMO_REPORTS:
        entry_id = f"demo-{slug}"
        try:
            await store.insert_report({
                "_id": f"{entry_id}-report-{pseudonym.lower()}", "entry_id": entry_id, "entry_slug": slug,
                "flavour": flavours[0],
                "author_id": f"demo-{pseudonym}", "author_pseudonym": pseudonym, "pending": None,
                "published": answers, "published_at": now, "shown_in": flavours, "hidden": False,
                "status": "published", "created_at": now, "updated_at": now, "version": 1, "moderation_item": None,
            })  # fmt: skip
        except ReportExists:
            continue
        await refresh(entry_id)
    return added
