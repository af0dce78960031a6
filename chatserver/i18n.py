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
        raise FileNotFoundError(f"{path} ontbreekt: maak het met `make i18n-compile`") from None  # i18n: operator


def load_catalogs() -> None:
    """Read every supported catalogue now, so that a missing or broken one stops the start, not a page."""
    for lang in SUPPORTED:
        catalog(lang)


PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?(?:0?\d+)?([sd])|%%")


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A message with placeholders read backwards: which Dutch texts it formats to, and which values they hold."""

    msgid: str
    regex: re.Pattern[str]
    slots: tuple[tuple[str, str], ...]  # (name or "" when positional, "s" or "d") per placeholder
    literal_chars: int

    def fill(self, match: re.Match[str], translated: str, value_of: Callable[[str], str]) -> str:
        values: list[object] = []
        for (_name, kind), value in zip(self.slots, match.groups(), strict=True):
            # A value that is itself a marked message (a label, a date) is translated too; anything else stays.
            values.append(int(value) if kind == "d" else value_of(value))
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
    connection translates them where the reader's language is known. Sentences that were put together from several
    messages are translated one by one. A text the catalogue does not know (a name, a person's own words) comes
    back unchanged.
    """
    if not text or lang == DEFAULT_LANG or lang not in SUPPORTED:
        return text
    found = _one(lang, text, VALUE_DEPTH)
    if found is not None:
        return found
    return _sentences(lang, text) or text


def _one(lang: str, text: str, depth: int) -> str | None:
    """One message, or one formatted message (its values translated ``depth`` levels deep); None when unknown."""
    gettext = catalog(lang).gettext
    if text in _known(lang):
        return gettext(text)
    capital = text[:1].upper() + text[1:]
    if capital != text and capital in _known(lang):  # a label written in lower case inside a sentence
        translated = gettext(capital)
        return translated[:1].lower() + translated[1:]
    small = text[:1].lower() + text[1:]
    if small != text and small in _known(lang):  # a phrase that starts a sentence ("De naam mag …")
        translated = gettext(small)
        return translated[:1].upper() + translated[1:]
    for pattern in _patterns(lang):
        match = pattern.regex.fullmatch(text)
        if match and (pattern.literal_chars > SHORT_PATTERN or _label_values(match.groups())):

            def value_of(value: str) -> str:
                return (_value(lang, value, depth - 1) if depth > 0 else None) or value

            return pattern.fill(match, gettext(pattern.msgid), value_of)
    return None


# A message with this little fixed text ("Bel %s", "%s uur", "van %s") only matches a short label: otherwise any
# sentence of someone's own that starts with "Bel " would come out half English ("Call je huisarts, …").
SHORT_PATTERN = 5
MAX_LABEL_VALUE = 80  # "maandag, dinsdag, …, zondag" fits


def _label_values(values: tuple[str | None, ...]) -> bool:
    return all(
        len(v) <= MAX_LABEL_VALUE and v[-1:] not in (".", "?", "!") and not SENTENCE_END.search(v)
        for v in values
        if isinstance(v, str)
    )


VALUE_DEPTH = 2  # "morgen om 9:00": a value ("morgen") may itself be a message, and its values too ("maandag 7 …")


def _value(lang: str, value: str, depth: int) -> str | None:
    """A value inside a formatted message: a message, or a list of them ("maandag, dinsdag"), each perhaps quoted
    ("‘Publiceren’, ‘Archiveren’"); None when unknown."""
    found = _one(lang, value, depth) or _quoted(lang, value)
    if found is None and ", " in value:
        parts = [_one(lang, part, 0) or _quoted(lang, part) for part in value.split(", ")]
        if all(part is not None for part in parts):
            return ", ".join(part for part in parts if part is not None)
    return found


def _quoted(lang: str, value: str) -> str | None:
    """A message between quotes, as refusals name an action or a status: ‘Publiceren’; None when unknown."""
    if len(value) > 2 and value[0] == "‘" and value[-1] == "’":
        inner = _one(lang, value[1:-1], 0)
        return None if inner is None else f"‘{inner}’"
    return None


SENTENCE_END = re.compile(r"(?<=[.!?…:])\s+")
MAX_SENTENCES = 12


def _sentences(lang: str, text: str) -> str | None:
    """Text made of several messages joined by spaces: each run of sentences that is one message, translated."""
    cuts = [0] + [m.end() for m in SENTENCE_END.finditer(text)]
    if len(cuts) < 2 or len(cuts) > MAX_SENTENCES:
        return None
    ends = [*cuts[1:], len(text)]
    # best[i]: the translation of text[cuts[i]:], built from whole messages; found from the end backwards.
    best: list[str | None] = [None] * len(cuts) + [""]
    for i in range(len(cuts) - 1, -1, -1):
        for j in range(i, len(cuts)):
            rest = best[j + 1]
            if rest is None:
                continue
            piece = text[cuts[i] : ends[j]]
            stripped = piece.rstrip()
            translated = _one(lang, stripped, VALUE_DEPTH)
            if translated is not None:
                best[i] = translated + piece[len(stripped) :] + rest
                break
        if best[i] is None:  # a sentence that is no message (someone's own words) stays as it is
            best[i] = text[cuts[i] : ends[i]] + (best[i + 1] or "")
    return best[0] if best[0] != text else None


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


# The modules whose marked messages may reach a page live, stored in Dutch: room and 1-on-1 system lines, moderation
# notices on a visitor's own channel, the staff console's alerts, spreekuur notices. Relative to the project root.
LIVE_SOURCES = (
    "chatserver/services/rooms.py",
    "chatserver/domain/rooms.py",
    "chatserver/services/oneonone",
    "chatserver/domain/oneonone.py",
    "chatserver/services/moderation",
    "chatserver/domain/moderation.py",
    "chatserver/domain/sanctions.py",
    "moderation",
    "chatserver/services/spreekuur",
    "chatserver/domain/spreekuur.py",
    "chatserver/services/shifts.py",
    "chatserver/protocol",
)


@cache
def live_messages(root: Path = LOCALE_DIR.parent.parent) -> tuple[str, ...]:
    """The messages marked in :data:`LIVE_SOURCES` (``N_``, ``_``), which a script may receive as a live text."""
    from babel.messages.extract import extract_from_file  # only when the pages are first built

    found: dict[str, None] = {}
    for source in LIVE_SOURCES:
        path = root / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            for _line, message, _comments, _context in extract_from_file("python", str(file)):
                if isinstance(message, str) and message:
                    found[message] = None
    return tuple(found)


@cache
def script_catalog(lang: str, js_dir: Path, live: bool = False) -> dict[str, str | list[str]]:
    """The scripts' messages in ``lang``, keyed by the Dutch message id: a text, or the forms for 1 and for more.

    ``static/js/i18n.js`` reads this from the page (``templates/base.html``); Dutch pages need none. A page that
    shows live lines (``live``) also gets :func:`live_messages`, which ``GemI18n.translate`` recognises on arrival.
    """
    if lang == DEFAULT_LANG or lang not in SUPPORTED:
        return {}
    gettext, ngettext = catalog(lang).gettext, catalog(lang).ngettext
    out: dict[str, str | list[str]] = {}
    if live:
        out.update((message, gettext(message)) for message in live_messages())
    for message in script_messages(js_dir):
        if isinstance(message, str):
            out[message] = gettext(message)
        else:
            out[message[0]] = [ngettext(message[0], message[1], 1), ngettext(message[0], message[1], 2)]
    return out
