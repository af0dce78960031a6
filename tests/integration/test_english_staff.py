"""Staff who chose English (cookie gem_lang=en) read the backoffice in English: every visible piece of interface
text that the catalogue can translate is translated.

The check is general rather than a word list: a text node (or a translatable attribute) that
:func:`chatserver.i18n.translate` would still change is a Dutch message the page printed without translating it,
and one with a word that only the Dutch side of the catalogue uses is a text printed without being marked. A
flavour's own content (names, rooms, categories, its own crisis lines) and place names stay as written.
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Iterator

import pytest

from chatserver.config import PROJECT_ROOT
from chatserver.i18n import translate

from ..conftest import RunningServer
from ..unit.test_i18n import WORDS, dutch_only_words
from .content_helpers import new_client
from .test_oneonone_support import login, staff

ENGLISH = {"gem_lang": "en"}
TAG = re.compile(r"<[^>]+>")
ATTRIBUTE = re.compile(r'\b(aria-label|title|placeholder|alt|value)="([^"]*)"')
FLAVOURS = tuple(sorted(p.stem for p in (PROJECT_ROOT / "flavours").glob("*.toml")))
BACKOFFICE = (
    "/backoffice/",
    "/backoffice/moderatie",
    "/backoffice/audit",
    "/backoffice/inhoud",
    "/backoffice/uitgelicht",
    "/backoffice/markt",
    "/backoffice/vraagbaak",
    "/backoffice/ruimtes",
    "/backoffice/spreekuren",
    "/backoffice/gesprekken",
    "/backoffice/dienst",
    "/backoffice/rooster",
    "/backoffice/reflectie/",
    "/backoffice/reflectie/maand",
    "/backoffice/reflectie/regio",
    "/backoffice/staff",
    "/backoffice/verwijzingen",
    "/backoffice/outbox",
    "/f/psychosenet/cijfers/",
)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield " ".join(value.split())
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _flavour_texts(*, crisis_lines: bool) -> frozenset[str]:
    """A flavour's own content (names, rooms, categories); its crisis lines go through the catalogue."""
    found: set[str] = set()
    for path in (PROJECT_ROOT / "flavours").glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if not crisis_lines:
            data.pop("crisis_resources", None)
        found.update(_strings(data))
    return frozenset(found)


def _place_names() -> frozenset[str]:
    rows = (PROJECT_ROOT / "chatserver/data/regions/gemeenten.csv").read_text(encoding="utf-8").splitlines()
    return frozenset(cell for row in rows if not row.startswith("#") for cell in row.split(",")[1:] if cell)


FLAVOUR_TEXTS = _flavour_texts(crisis_lines=False)
# What a page may print as it is: all of a flavour's content and the names of places, longest first.
AS_WRITTEN = sorted(_flavour_texts(crisis_lines=True) | _place_names(), key=len, reverse=True)


def _unmarked(text: str) -> bool:
    """Whether ``text`` uses a Dutch-only word of the catalogue outside a flavour's content and place names."""
    words = {w.lower() for w in WORDS.findall(text)}
    if not words & dutch_only_words():
        return False
    for written in AS_WRITTEN:
        if written in text:
            text = text.replace(written, " ")
    return bool({w.lower() for w in WORDS.findall(text)} & dutch_only_words())


def without_scripts(page: str) -> str:
    return re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)


def untranslated(page: str) -> list[str]:
    """Visible texts of ``page`` that the English catalogue would still translate, or that use a word only the
    Dutch side of the catalogue knows (a text printed without being marked)."""
    page = without_scripts(page)
    texts = [html.unescape(t).strip() for t in TAG.split(page)]
    body = TAG.sub(" ", page)
    texts += [html.unescape(v).strip() for name, v in ATTRIBUTE.findall(page) if name != "value" or "type=" in body]
    left = []
    for text in texts:
        text = " ".join(text.split())
        if not text or text in FLAVOUR_TEXTS or all(part in FLAVOUR_TEXTS for part in text.split(" – ")):
            continue
        if translate("en", text) != text or _unmarked(text):
            left.append(text)
    return sorted(set(left))


@pytest.mark.parametrize("path", BACKOFFICE)
async def test_an_admin_reads_the_backoffice_in_english(server: RunningServer, path: str) -> None:
    async with await new_client(server) as client:
        client.cookies.update(ENGLISH)
        await login(server, client, staff("admin", FLAVOURS, name="Beheer"))
        response = await client.get(path, follow_redirects=True)
    assert response.status_code == 200, (path, response.status_code)
    assert '<html lang="en">' in response.text
    assert not untranslated(response.text), f"{path} in English still shows {untranslated(response.text)}"


async def test_the_reflectietafel_with_figures_reads_in_english(server: RunningServer) -> None:
    """Axis labels, sub-kinds, durations, gaps and tooltips appear only once something was counted."""
    counter = server.services.counter
    for variant in ("start", "spreekuur", "artikelen", "gesprek"):
        counter.count("visit", "psychosenet", variant=variant)
    counter.count("oneonone.requested", "psychosenet")  # nobody on the roster: a gap hour
    for seconds in (3600, 5400, 86400):
        counter.count("oneonone.wait", "psychosenet", value=seconds)
    counter.count("moderation.item", "psychosenet", variant="voormoderatie")
    counter.count("moderation.decision", "psychosenet", variant="opgeschaald")
    await counter.flush()  # type: ignore[attr-defined]
    await server.services.reflectie.rollup.run_once()
    async with await new_client(server) as client:
        client.cookies.update(ENGLISH)
        await login(server, client, staff("admin", FLAVOURS, name="Beheer"))
        response = await client.get("/backoffice/reflectie/?smaak=psychosenet")
    assert response.status_code == 200
    text = without_scripts(response.text)
    assert not untranslated(text), untranslated(text)
    assert "Gaps in the roster:" in text and "Pre-moderation" in text and "Escalated" in text
    assert re.search(r">(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d<", text), "hour-of-week labels in English"
    for dutch in ("hoogste", ">wo ", " uur", "dagen", "Voormoderatie", "nieuw"):
        assert dutch not in text, dutch
