"""What an editor's form holds for a market entry, and how it is checked into a stored document's fields.

One form: the description, for whom and for what, languages, cost, platform, maker, quality marks, privacy,
evidence, links, the local details of a local offer, and the editorial rating on three separate scales, each
with its reasons. A refusal names the field and says in Dutch what to change; nothing is stored half.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatserver.domain import markt as rules
from chatserver.domain.markt import RegionIndex, clean_text, fold, search_terms
from chatserver.i18n import N_
from chatserver.services.markt.errors import MarktError

MAX_TITLE = 120
MIN_TITLE = 3
MAX_SUMMARY = 300
MAX_BODY = 6000
MAX_SHORT = 300
MAX_REASON = 600
MAX_LINKS = 6
MAX_URL = 500
MAX_REGIONS = 40
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
PHONE_RE = re.compile(r"^[0-9 +()\-]{3,20}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-z]{2,}$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """The raw form of one entry (strings and lists of strings, as posted)."""

    values: Mapping[str, str]
    lists: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return str(self.values.get(name, ""))

    def many(self, name: str) -> list[str]:
        return [str(v) for v in self.lists.get(name, ())]


def _text(draft: EntryDraft, name: str, limit: int, label: str, required: bool = False, minimum: int = 0) -> str:
    value = clean_text(draft.get(name), limit + 1)
    if required and len(value) < max(1, minimum):
        if minimum > 1:
            raise MarktError(name, 422, N_("Vul %s in (minstens %s tekens).") % (label, minimum), name)
        raise MarktError(name, 422, N_("Vul %s in.") % label, name)
    if len(value) > limit:
        capital = label[0].upper() + label[1:]
        raise MarktError(name, 422, N_("%s mag hoogstens %s tekens zijn.") % (capital, limit), name)
    return value


def _choices(draft: EntryDraft, name: str, allowed: Mapping[str, str], label: str, required: bool = False) -> list[str]:
    chosen = list(dict.fromkeys(v for v in draft.many(name) if v in allowed))
    if required and not chosen:
        raise MarktError(name, 422, N_("Kies minstens één %s.") % label, name)
    return chosen


def _url(value: str, name: str) -> str:
    value = value.strip()
    if value and (len(value) > MAX_URL or not URL_RE.match(value)):
        raise MarktError(name, 422, N_("Een link begint met https:// of http:// en bevat geen spaties."), name)
    return value


def parse_links(text: str) -> list[dict[str, str]]:
    """One link per line, ``label | https://…`` or just the address."""
    links: list[dict[str, str]] = []
    for line in clean_text(text, 4000).splitlines():
        if not line.strip():
            continue
        label, _, url = line.rpartition("|") if "|" in line else ("", "", line)
        links.append({"label": clean_text(label, 80) or N_("Website"), "url": _url(url, "links")})
    if len(links) > MAX_LINKS:
        raise MarktError("links", 422, N_("Geef hoogstens %s links.") % MAX_LINKS, "links")
    return links


def links_text(links: Sequence[Mapping[str, str]]) -> str:
    return "\n".join(f"{link.get('label', '')} | {link.get('url', '')}" for link in links)


def _rating(draft: EntryDraft) -> dict[str, Any]:
    """The editorial rating: each scale a score 1–5 with its reasons, or not rated at all."""
    rating: dict[str, Any] = {}
    for scale, label in rules.RATING_SCALES.items():
        raw = draft.get(f"rating_{scale}").strip()
        reason = _text(draft, f"rating_{scale}_reason", MAX_REASON, N_("de reden bij %s") % label.lower())
        if not raw:
            if reason:
                missing = N_("Geef ook een score bij %s.") % label.lower()
                raise MarktError(f"rating_{scale}", 422, missing, f"rating_{scale}")
            continue
        if not raw.isdigit() or not rules.SCORE_MIN <= int(raw) <= rules.SCORE_MAX:
            raise MarktError(f"rating_{scale}", 422, N_("Een score is een getal van 1 tot 5."), f"rating_{scale}")
        if len(reason) < 10:
            explain = N_("Leg de score bij %s uit (minstens 10 tekens): lezers zien de reden bij het cijfer.")
            raise MarktError(f"rating_{scale}_reason", 422, explain % label.lower(), f"rating_{scale}_reason")
        rating[scale] = {"score": int(raw), "reason": reason}
    return rating


def _regions(draft: EntryDraft, regions: RegionIndex) -> list[str]:
    """GGD regions ticked, provinces ticked, and municipalities typed by name (comma-separated)."""
    keys = [k for k in draft.many("regions") if regions.known(k)]
    by_name = {fold(g.name).lstrip("'"): g.code for g in regions.gemeenten.values()}
    unknown: list[str] = []
    for name in clean_text(draft.get("gemeenten"), 2000).split(","):
        wanted = fold(name.strip()).lstrip("'")
        if not wanted:
            continue
        code = by_name.get(wanted)
        if code is None:
            unknown.append(name.strip())
        else:
            keys.append(f"gm:{code}")
    if unknown:
        raise MarktError(
            "gemeenten", 422, N_(
                "Deze gemeente(n) kennen we niet: %s. Gebruik de naam zoals het CBS die schrijft, bijvoorbeeld "
                "‘Bergen (NH.)’ of ‘'s-Hertogenbosch’."
            ) % ', '.join(unknown[:5]), "gemeenten",
        )  # fmt: skip
    keys = list(dict.fromkeys(keys))
    if len(keys) > MAX_REGIONS:
        raise MarktError(
            "regions", 422, N_("Kies hoogstens %s regio's; kies anders een provincie.") % MAX_REGIONS, "regions"
        )
    return keys


def _local(draft: EntryDraft, regions: RegionIndex) -> dict[str, Any] | None:
    if draft.get("kind") not in rules.LOCAL_KINDS:
        return None
    keys = _regions(draft, regions)
    if not keys:
        raise MarktError("regions", 422, N_("Een lokaal aanbod hoort bij minstens één regio of gemeente."), "regions")
    phone = clean_text(draft.get("org_phone"), 40)
    if phone and not PHONE_RE.match(phone):
        raise MarktError("org_phone", 422, N_("Schrijf het telefoonnummer met cijfers, spaties en hoogstens + ( ) -."),
                         "org_phone")  # fmt: skip
    email = clean_text(draft.get("org_email"), 200)
    if email and not EMAIL_RE.match(email):
        raise MarktError("org_email", 422, N_("Dit e-mailadres van de organisatie klopt niet."), "org_email")
    return {
        "regions": keys,
        "opening_hours": _text(draft, "opening_hours", MAX_SHORT, N_("de openingstijden"), required=True),
        "referral": draft.get("referral") in ("1", "ja", "on"),
        "organisation": _text(draft, "org_name", 150, N_("de naam van de organisatie"), required=True),
        "phone": phone,
        "email": email,
        "address": _text(draft, "org_address", 200, N_("het adres van de organisatie")),
    }


def check_fields(draft: EntryDraft, regions: RegionIndex, catalog_names: Mapping[str, str]) -> dict[str, Any]:
    """The stored fields of an entry from its form, or a :class:`MarktError` naming the first field to fix."""
    kind = draft.get("kind")
    if kind not in rules.KINDS:
        raise MarktError("kind", 422, N_("Kies wat voor aanbod dit is."), "kind")
    title = " ".join(_text(draft, "title", MAX_TITLE, N_("de naam"), required=True, minimum=MIN_TITLE).split())
    fields: dict[str, Any] = {
        "kind": kind,
        "title": title,
        "summary": _text(draft, "summary", MAX_SUMMARY, N_("de korte beschrijving"), required=True, minimum=10),
        "body": _text(draft, "body", MAX_BODY, N_("de beschrijving")),
        "audience": _text(draft, "audience", MAX_SHORT, N_("voor wie het is"), required=True),
        "needs": _choices(draft, "needs", rules.NEEDS, N_("behoefte waarbij het helpt"), required=True),
        "languages": _choices(draft, "languages", rules.LANGUAGES, N_("taal"), required=True),
        "costs": _choices(draft, "costs", rules.COSTS, N_("soort kosten"), required=True),
        "cost_note": _text(draft, "cost_note", MAX_SHORT, N_("de toelichting op de kosten")),
        "platforms": _choices(draft, "platforms", rules.PLATFORMS, N_("platform"), required=True),
        "maker": _text(draft, "maker", 150, N_("wie het maakt"), required=True),
        "quality_marks": _choices(draft, "quality_marks", rules.QUALITY_MARKS, "keurmerk"),
        "mdr_class": draft.get("mdr_class") if draft.get("mdr_class") in rules.MDR_CLASSES else "",
        "privacy_note": _text(draft, "privacy_note", MAX_SHORT * 2, N_("wat er met gegevens gebeurt"), required=True),
        "privacy_url": _url(draft.get("privacy_url"), "privacy_url"),
        "evidence": draft.get("evidence") if draft.get("evidence") in rules.EVIDENCE else "onbekend",
        "evidence_note": _text(draft, "evidence_note", MAX_SHORT, N_("de toelichting op het bewijs")),
        "links": parse_links(draft.get("links")),
        "local": _local(draft, regions),
        "rating": _rating(draft),
    }
    if "ce_mdr" in fields["quality_marks"] and not fields["mdr_class"]:
        raise MarktError("mdr_class", 422, N_("Kies de MDR-klasse bij een CE-markering als medisch hulpmiddel."),
                         "mdr_class")  # fmt: skip
    flavours = list(dict.fromkeys(f for f in draft.many("flavours") if f))
    if not flavours:
        raise MarktError("flavours", 422, N_("Kies minstens één community waarin dit aanbod verschijnt."), "flavours")
    if any(f not in catalog_names for f in flavours):
        raise MarktError("flavours", 422, N_("Een van de gekozen communities bestaat niet."), "flavours")
    fields["flavours"] = flavours
    fields["search_terms"] = search_terms(" ".join(
        [title, fields["summary"], fields["body"], fields["audience"], fields["maker"]]
        + [rules.NEEDS[n] for n in fields["needs"]] + [rules.KINDS[kind]]
    ))  # fmt: skip
    return fields


def form_values(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored entry as the editor's form shows it."""
    values: dict[str, Any] = {k: doc.get(k, "") for k in (
        "kind", "title", "summary", "body", "audience", "cost_note", "maker", "mdr_class", "privacy_note",
        "privacy_url", "evidence", "evidence_note")}  # fmt: skip
    for name in ("needs", "languages", "costs", "platforms", "quality_marks", "flavours"):
        values[name] = list(doc.get(name) or [])
    values["links"] = links_text(doc.get("links") or [])
    local = doc.get("local") or {}
    values["regions"] = [k for k in local.get("regions", []) if not str(k).startswith("gm:")]
    values["gemeenten_codes"] = [str(k)[3:] for k in local.get("regions", []) if str(k).startswith("gm:")]
    values.update(opening_hours=local.get("opening_hours", ""), referral=bool(local.get("referral")),
                  org_name=local.get("organisation", ""), org_phone=local.get("phone", ""),
                  org_email=local.get("email", ""), org_address=local.get("address", ""))  # fmt: skip
    for scale in rules.RATING_SCALES:
        rated = (doc.get("rating") or {}).get(scale) or {}
        values[f"rating_{scale}"] = str(rated.get("score", ""))
        values[f"rating_{scale}_reason"] = rated.get("reason", "")
    return values
