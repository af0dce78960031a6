"""UI translations: gettext catalogues kept with Babel; Dutch is the source language.

A message id *is* its Dutch text. Another language lives in
``chatserver/locale/<lang>/LC_MESSAGES/messages.po`` and is served from the compiled ``messages.mo`` beside it
(``make i18n-update``, ``make i18n-compile``; docs/decisions/0022). A string missing from a catalogue falls back to
Dutch, so an untranslated string is never an error.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

from babel.support import Translations

DEFAULT_LANG = "nl"
SUPPORTED = ("nl", "en")
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


@cache
def catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang``, read once per process; Dutch (and anything unsupported) is the identity."""
    if lang == DEFAULT_LANG or lang not in SUPPORTED:
        return gettext.NullTranslations()
    path = catalog_path(lang)
    try:
        with path.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} ontbreekt: maak het met `make i18n-compile`") from None


def load_catalogs() -> None:
    """Read every supported catalogue now, so that a missing or broken one stops the start, not a page."""
    for lang in SUPPORTED:
        catalog(lang)


PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?([sd])|%%")


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A message with placeholders read backwards: which Dutch texts it formats to, and which values they hold."""

    msgid: str
    regex: re.Pattern[str]
    slots: tuple[tuple[str, str], ...]  # (name or "" when positional, "s" or "d") per placeholder
    literal_chars: int

    def fill(self, match: re.Match[str], translated: str, gettext: Callable[[str], str]) -> str:
        values: list[object] = []
        for (_name, kind), value in zip(self.slots, match.groups(), strict=True):
            # A value that is itself a marked message (a label) is translated too; anything else stays as it is.
            values.append(int(value) if kind == "d" else gettext(value))
        if any(name for name, _kind in self.slots):
            return translated % {name: value for (name, _kind), value in zip(self.slots, values, strict=True)}
        return translated % tuple(values)


def _pattern(msgid: str) -> _Pattern | None:
    parts: list[str] = []
    slots: list[tuple[str, str]] = []
    position = 0
    for found in PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[position : found.start()]))
        if found.group(0) == "%%":
            parts.append("%")
        else:
            parts.append(r"(-?\d+)" if found.group(2) == "d" else "(.+?)")
            slots.append((found.group(1) or "", found.group(2)))
        position = found.end()
    if not slots:
        return None
    parts.append(re.escape(msgid[position:]))
    literal_chars = len(PLACEHOLDER.sub("", msgid))
    return _Pattern(msgid, re.compile("".join(parts), re.S), tuple(slots), literal_chars)


@cache
def _patterns(lang: str) -> tuple[_Pattern, ...]:
    """The catalogue's messages with placeholders, the most specific (most fixed text) first."""
    found = [p for key in _known(lang) if (p := _pattern(key)) is not None]
    return tuple(sorted(found, key=lambda p: -p.literal_chars))


@cache
def _known(lang: str) -> frozenset[str]:
    """The catalogue's message ids (plural forms aside)."""
    ids = getattr(catalog(lang), "_catalog", {})
    return frozenset(key for key in ids if isinstance(key, str) and key)


def translate(lang: str, text: str) -> str:
    """``text`` in ``lang``: a marked message, also one already formatted with its values (``N_("… %s …") % x``).

    Services write their messages in Dutch, formatted where they are raised; the page, the API or the live
    connection translates them where the reader's language is known. A text the catalogue does not know (a name,
    a person's own words) comes back unchanged.
    """
    if not text or lang == DEFAULT_LANG or lang not in SUPPORTED:
        return text
    gettext = catalog(lang).gettext
    if text in _known(lang):
        return gettext(text)
    for pattern in _patterns(lang):
        match = pattern.regex.fullmatch(text)
        if match:
            return pattern.fill(match, gettext(pattern.msgid), gettext)
    return text


@cache
def translator(lang: str) -> Callable[[str], str]:
    """``_`` for ``lang``: the translated text, or the Dutch message id where the catalogue has none.

    It also translates a marked message that was formatted before it reached the page (see :func:`translate`).
    """
    if lang == DEFAULT_LANG or lang not in SUPPORTED:
        return catalog(lang).gettext
    return partial(translate, lang)


def plural_translator(lang: str) -> Callable[[str, str, int], str]:
    """``ngettext`` for ``lang``: singular or plural form for a count, with the same fallback to Dutch."""
    return catalog(lang).ngettext


def pick_language(cookie_header: str | None) -> str:
    """Dutch unless the visitor chose another supported language (cookie ``gem_lang``).

    The browser's Accept-Language is not used: the communities are Dutch, and a
    partly translated page would mix two languages.
    """
    for part in (cookie_header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "gem_lang" and value in SUPPORTED:
            return value
    return DEFAULT_LANG


def N_(message: str) -> str:  # the name gettext extractors look for
    """Marks a message for extraction where it is written down; it is translated where it is shown.

    A message with values is formatted right away, ``N_("Nog %d minuten.") % n``: :func:`translate` recognises the
    Dutch result by its message id and puts the same values into the translation.
    """
    return message


# --- the scripts' messages -------------------------------------------------------------------------------------------

ScriptMessage = str | tuple[str, str]


@cache
def script_messages(js_dir: Path) -> tuple[ScriptMessage, ...]:
    """The messages the browser scripts mark (``_``, ``N_``, ``ngettext``), as ``pybabel extract`` finds them."""
    from babel.messages.extract import extract_from_file  # only when the pages are first built

    found: dict[ScriptMessage, None] = {}
    for path in sorted(js_dir.rglob("*.js")):
        for _line, message, _comments, _context in extract_from_file("javascript", str(path)):
            if isinstance(message, str):
                found[message] = None
            elif message and all(isinstance(form, str) for form in message[:2]):
                found[(str(message[0]), str(message[1]))] = None
    return tuple(found)


@cache
def script_catalog(lang: str, js_dir: Path) -> dict[str, str | list[str]]:
    """The scripts' messages in ``lang``, keyed by the Dutch message id: a text, or the forms for 1 and for more.

    ``static/js/i18n.js`` reads this from the page (``templates/base.html``); Dutch pages need none.
    """
    if lang == DEFAULT_LANG or lang not in SUPPORTED:
        return {}
    gettext, ngettext = catalog(lang).gettext, catalog(lang).ngettext
    out: dict[str, str | list[str]] = {}
    for message in script_messages(js_dir):
        if isinstance(message, str):
            out[message] = gettext(message)
        else:
            out[message[0]] = [ngettext(message[0], message[1], 1), ngettext(message[0], message[1], 2)]
    return out


# Labels that Python modules hand to templates, which show them through ``_(label)``. Until those modules mark
# their own strings (issue 17, phase 2), they are marked here so that the catalogue has them; a unit test checks
# that each one still occurs in the code, so a reworded label shows up here instead of silently staying Dutch.
LABELS_SHOWN_BY_TEMPLATES = (
    # navigation of a flavour (wiring.SECTIONS)
    N_("Artikelen"),
    N_("Stel je vraag"),
    N_("Chat"),
    N_("Spreekuur"),
    N_("Forum"),
    # backoffice start page (wiring.BACKOFFICE_LINKS)
    N_("Moderatie"),
    N_("Auditlog moderatie"),
    N_("Inhoud en redactie"),
    N_("Uitgelicht op de startpagina's"),
    N_("VraagBaak"),
    N_("Chatruimtes"),
    N_("E-spreekuren"),
    N_("1-op-1 gesprekken"),
    N_("Mijn dienst"),
    N_("Rooster"),
    # content: kinds, categories, statuses, status actions
    N_("Artikel"),
    N_("Veelgestelde vraag"),
    N_("Ervaringsverhaal"),
    N_("Veelgestelde vragen"),
    N_("Ervaringsverhalen"),
    N_("Psycho-educatie"),
    N_("Zelfhulp"),
    N_("Geen"),
    N_("Concept"),
    N_("Ter beoordeling"),
    N_("Gepubliceerd"),
    N_("Offline gehaald"),
    N_("Gearchiveerd"),
    N_("Afgewezen"),
    N_("Ter beoordeling aanbieden"),
    N_("Publiceren"),
    N_("Offline halen"),
    N_("Archiveren"),
    N_("Afwijzen"),
    N_("Terug naar concept"),
    # chat rooms: modes and their explanations
    N_("Open voor iedereen"),
    N_("Alleen leden"),
    N_("Mededelingen"),
    N_("Alleen team"),
    N_("Met host"),
    N_("Iedereen kan meelezen en meepraten, ook zonder account."),
    N_("Voor leden met een account."),
    N_("Alleen het team plaatst hier berichten; iedereen kan meelezen."),
    N_("Overleg voor medewerkers van deze community."),
    N_("Open zolang een host van het team aanwezig is."),
    # spreekuur phases
    N_("Binnenkort"),
    N_("Nu live"),
    N_("Afgelopen"),
    N_("Gaat niet door"),
    # VraagBaak statuses
    N_("Wacht op een medewerker"),
    N_("Een medewerker is ermee bezig"),
    N_("Beantwoord"),
    N_("Doorverwezen"),
    N_("Gesloten"),
    # error pages (web.pages.site.ERRORS)
    N_("Verzoek niet begrepen"),
    N_("We konden dit verzoek niet verwerken. Controleer wat je invulde."),
    N_("Geen toegang"),
    N_("Je hebt geen toegang tot deze pagina, of het formulier is verlopen."),
    N_("Pagina niet gevonden"),
    N_("Deze pagina bestaat niet (meer). Misschien is de link verouderd."),
    N_("Niet toegestaan"),
    N_("Deze actie kan hier niet."),
    N_("Even rustig aan"),
    N_("Je hebt dit te vaak geprobeerd. Wacht even en probeer het dan opnieuw."),
    N_("Er ging iets mis"),
    N_("Er ging bij ons iets mis. Er is niets verloren gegaan; probeer het zo opnieuw."),
    N_("Even niet beschikbaar"),
    N_("Dit onderdeel is tijdelijk niet bereikbaar. Probeer het zo opnieuw."),
    # VitaliteitsMarkt (domain.markt): navigation, backoffice link and the closed sets' names
    N_("Markt"),
    N_("VitaliteitsMarkt"),
    # VitaliteitsMarkt: kinds, needs, costs, languages, platforms
    N_("App"),
    N_("Online programma of cursus"),
    N_("Website"),
    N_("Boek"),
    N_("Hulplijn"),
    N_("Lokale groep of centrum"),
    N_("Somberheid en depressie"),
    N_("Angst en paniek"),
    N_("Stress en burn-out"),
    N_("Slapen"),
    N_("Eenzaamheid en contact"),
    N_("Verslaving en middelen"),
    N_("Trauma en nare ervaringen"),
    N_("Eten en lichaamsbeeld"),
    N_("Psychose en stemmen horen"),
    N_("Dwang en piekeren"),
    N_("Als naaste"),
    N_("Ontspanning en zelfzorg"),
    N_("Gratis"),
    N_("Vergoed door de zorgverzekering"),
    N_("Betaald"),
    N_("Nederlands"),
    N_("Engels"),
    N_("Fries"),
    N_("Turks"),
    N_("Arabisch"),
    N_("Pools"),
    N_("Papiaments"),
    N_("Nederlandse Gebarentaal"),
    N_("Browser"),
    N_("iPhone (iOS)"),
    N_("Android"),
    N_("Telefoon"),
    N_("Op papier"),
    N_("Op een locatie"),
    # VitaliteitsMarkt: evidence, quality marks, MDR classes
    N_("Effectief volgens onderzoek"),
    N_("Onderzocht, effect nog niet vastgesteld"),
    N_("Gebaseerd op praktijkervaring"),
    N_("Onbekend"),
    N_("Onlinehulpstempel"),
    N_("CE-markering als medisch hulpmiddel (MDR)"),
    N_("Erkende interventie (databank)"),
    N_("Aanbevolen op Thuisarts.nl"),
    N_("Geen medisch hulpmiddel"),
    N_("Klasse I"),
    N_("Klasse IIa"),
    N_("Klasse IIb"),
    N_("Klasse III"),
    # VitaliteitsMarkt: ratings and test reports
    N_("Betrouwbaarheid"),
    N_("Gebruikservaring"),
    N_("Privacy-transparantie"),
    N_("zwak"),
    N_("matig"),
    N_("redelijk"),
    N_("goed"),
    N_("uitstekend"),
    N_("Ja"),
    N_("Misschien"),
    N_("Nee"),
    N_("Een paar weken"),
    N_("Een paar maanden"),
    N_("Langer dan een half jaar"),
    N_("heel lastig"),
    N_("lastig"),
    N_("gaat wel"),
    N_("makkelijk"),
    N_("heel makkelijk"),
    # VitaliteitsMarkt: finding: where, sort order, formats
    N_("Online en in de buurt"),
    N_("Alleen online en op afstand"),
    N_("Alleen in de buurt"),
    N_("Best passend"),
    N_("Naam (A–Z)"),
    N_("Meeste ervaringen"),
    N_("Nieuwste eerst"),
    N_("Zelf aan de slag, op mijn eigen tempo"),
    N_("Iets lezen of luisteren"),
    N_("Praten met iemand"),
    N_("Samen met anderen, in een groep"),
)
