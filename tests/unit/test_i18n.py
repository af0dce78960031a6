"""Translations: Dutch by default, another language by the visitor's choice, every string marked and translated.

The catalogue checks read the committed files (``chatserver/locale``); each failure says which make target brings
them up to date (docs/decisions/0022).
"""

from __future__ import annotations

import ast
import html
import io
import re
from collections import Counter
from pathlib import Path

import httpx
import jinja2
import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from chatserver.config import PROJECT_ROOT
from chatserver.i18n import (
    LABELS_SHOWN_BY_TEMPLATES,
    LOCALE_DIR,
    SUPPORTED,
    catalog_path,
    pick_language,
    plural_translator,
    translator,
)

POT = LOCALE_DIR / "messages.pot"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
TRANSLATED = [lang for lang in SUPPORTED if lang != "nl"]


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp)


def po_path(lang: str) -> Path:
    return catalog_path(lang).with_suffix(".po")


def key(message: Message) -> str:
    return str(message.id[0] if isinstance(message.id, list | tuple) else message.id)


def messages(catalog: Catalog) -> dict[str, Message]:
    return {key(m): m for m in catalog if m.id}


# --- choosing the language ------------------------------------------------------------------------------------------


def test_dutch_by_default_whatever_the_browser_says() -> None:
    assert pick_language(None) == "nl"
    assert pick_language("") == "nl"
    assert pick_language("other=1") == "nl"


def test_explicit_choice_of_a_supported_language() -> None:
    assert pick_language("a=b; gem_lang=en") == "en"
    assert pick_language("gem_lang=xx") == "nl"


def test_untranslated_text_falls_back_to_dutch() -> None:
    assert translator("en")("Snel weg") == "Quick exit"
    assert translator("en")("Iets zonder vertaling") == "Iets zonder vertaling"
    assert translator("nl")("Snel weg") == "Snel weg"
    assert translator("xx")("Snel weg") == "Snel weg"


def test_plural_forms_follow_the_count() -> None:
    assert plural_translator("en")("%d reactie", "%d reacties", 1) == "%d reply"
    assert plural_translator("en")("%d reactie", "%d reacties", 3) == "%d replies"
    assert plural_translator("nl")("%d reactie", "%d reacties", 0) == "%d reacties"


# --- the catalogues -------------------------------------------------------------------------------------------------


def test_the_template_holds_what_the_code_and_templates_mark() -> None:
    with (PROJECT_ROOT / "babel.cfg").open() as fp:
        method_map, options_map = parse_mapping_cfg(fp, "babel.cfg")

    def wanted(path: str) -> bool:
        name = Path(path).name
        return not name.startswith(".") and name not in {"var", "node_modules", "__pycache__", "tests"}

    found = {
        msgid if isinstance(msgid, str) else msgid[0]
        for _file, _line, msgid, *_rest in extract_from_dir(
            str(PROJECT_ROOT), method_map, options_map, directory_filter=wanted
        )
    }
    in_pot = set(messages(read_catalog(POT)))
    assert not found - in_pot, f"not yet in messages.pot (run `make i18n-update`): {sorted(found - in_pot)}"
    assert not in_pot - found, f"no longer in the code (run `make i18n-update`): {sorted(in_pot - found)}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated(lang: str) -> None:
    pot = messages(read_catalog(POT))
    po = messages(read_catalog(po_path(lang)))
    assert set(po) == set(pot), f"{lang}: run `make i18n-update` (missing {sorted(set(pot) - set(po))})"
    untranslated = [
        msgid
        for msgid, message in po.items()
        if message.fuzzy or not all(message.string if isinstance(message.string, list | tuple) else [message.string])
    ]
    assert not untranslated, f"{lang}: empty or fuzzy msgstr for {untranslated}"


PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%(?:\.\d+)?[sdf]|%%|\{[a-z_]*\}")


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_match_between_dutch_and_translation(lang: str) -> None:
    wrong = []
    for message in read_catalog(po_path(lang)):
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, list | tuple) else [message.id]
        strings = list(message.string) if isinstance(message.string, list | tuple) else [message.string]
        for text in strings:
            # Positional ones must come in the same order; named ones may move.
            expected = placeholders(ids[-1])
            got = placeholders(text)
            same = Counter(got) == Counter(expected) if "%(" in ids[-1] else got == expected
            if not same:
                wrong.append((ids[-1], text))
    assert not wrong, f"{lang}: placeholders differ: {wrong}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalogue_is_current(lang: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(po_path(lang)))
    assert catalog_path(lang).read_bytes() == compiled.getvalue(), f"{lang}: run `make i18n-compile`"


def test_labels_marked_in_i18n_still_exist_in_the_code() -> None:
    literals: set[str] = set()
    for path in (PROJECT_ROOT / "chatserver").rglob("*.py"):
        if path.name == "i18n.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
    gone = [label for label in LABELS_SHOWN_BY_TEMPLATES if label not in literals]
    assert not gone, f"reworded or removed in the code; update LABELS_SHOWN_BY_TEMPLATES in chatserver/i18n.py: {gone}"


# --- every visible string in a template is marked --------------------------------------------------------------------

LEXER = jinja2.Environment(extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)  # noqa: S701 - lexing only
HOLE = "\x00"  # where a marked string or an expression stood
NOT_TEXT_BLOCKS = frozenset({"theme_extra"})  # CSS inside <style>
TRANSLATABLE_ATTRIBUTES = frozenset(
    {"title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription", "data-confirm"}
)
TAG = re.compile(r"<([!/]?[a-zA-Z][^\s>/]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
ATTRIBUTE = re.compile(r"([\w:.-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
WORD = re.compile(r"[^\W\d_]{2,}")
# Domain names, URL schemes and paths shown as they are (/markt/…).
NOT_WORDS = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:nl|com|org|eu)\b|\b(?:tel|mailto|https?):|(?<![\w/])/[\w/.-]*")
# Not text to translate: abbreviations and names that read the same in every language.
ALLOWED_WORDS = frozenset({"UTC"})
OUTPUT_BEFORE = frozenset({"variable_begin", "else", "~"})  # a string right after these is printed as it is


def template_text(source: str) -> str:
    """The template with every ``{{ }}``, ``{% %}`` and trans block turned into a hole; printed literals stay."""
    out: list[str] = []
    tokens = [t for t in LEXER.lex(source) if t[1] != "whitespace"]
    in_trans = False
    skip_depth = 0
    i = 0
    while i < len(tokens):
        _line, kind, value = tokens[i]
        if kind == "data":
            out.append(HOLE if in_trans or skip_depth else value)
        elif kind == "block_begin":
            name = tokens[i + 1][2] if i + 1 < len(tokens) else ""
            if name == "trans":
                in_trans = True
            elif name == "endtrans":
                in_trans = False
            elif name == "block" and tokens[i + 2][2] in NOT_TEXT_BLOCKS:
                skip_depth = 1
            elif skip_depth and name == "block":
                skip_depth += 1
            elif skip_depth and name == "endblock":
                skip_depth -= 1
            out.append(HOLE)
        elif kind == "variable_begin":
            printed = []
            previous = kind
            depth = 0  # inside brackets a string is an argument, not output
            while tokens[i][1] != "variable_end":
                i += 1
                _line, kind, value = tokens[i]
                if kind == "string" and previous in OUTPUT_BEFORE and depth == 0:
                    printed.append(ast.literal_eval(value))
                if kind == "operator" and value in "([{":
                    depth += 1
                elif kind == "operator" and value in ")]}":
                    depth -= 1
                previous = value if kind in ("name", "operator") else kind
            out.append(HOLE + " ".join(printed) + HOLE)
        i += 1
    return "".join(out)


def has_words(text: str) -> bool:
    text = NOT_WORDS.sub(" ", text.replace(HOLE, " "))
    return any(word not in ALLOWED_WORDS for word in WORD.findall(text))


def unmarked_text(source: str) -> list[str]:
    text = re.sub(r"<!--.*?-->", " ", template_text(source), flags=re.S)
    text = re.sub(r"<(script|style|code)\b.*?</\1>", " ", text, flags=re.S | re.I)
    found: list[str] = []

    def check(name: str, attribute_text: str) -> None:
        attributes = {a.lower(): v[1:-1] for a, v in ATTRIBUTE.findall(attribute_text)}
        wanted = set(TRANSLATABLE_ATTRIBUTES)
        if name == "meta" and attributes.get("name") == "description":
            wanted.add("content")
        if name == "input" and attributes.get("type") in ("submit", "button", "reset"):  # a <button> shows its content
            wanted.add("value")
        found.extend(f"{a}={v!r}" for a, v in attributes.items() if a in wanted and has_words(v))

    def tag(match: re.Match[str]) -> str:
        check(match.group(1).lower(), match.group(2))
        return " "

    def attribute(match: re.Match[str]) -> str:  # printed by a macro outside a tag of its own
        check("", match.group(0))
        return " "

    outside_tags = ATTRIBUTE.sub(attribute, TAG.sub(tag, text))
    found.extend(re.sub(f"{HOLE}+", "…", line.strip()) for line in outside_tags.splitlines() if has_words(line))
    return found


TEMPLATES = sorted(str(p.relative_to(TEMPLATES_DIR)) for p in TEMPLATES_DIR.rglob("*.html"))


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_has_no_unmarked_text(name: str) -> None:
    unmarked = unmarked_text((TEMPLATES_DIR / name).read_text(encoding="utf-8"))
    assert not unmarked, f"{name}: mark with _(…), ngettext(…) or {{% trans %}}: {unmarked}"


@pytest.mark.parametrize(
    ("source", "unmarked"),
    [
        ("<p>Hallo</p>", True),
        ('<p>{{ _("Hallo") }}</p>', False),
        ('<p>{{ "Hallo" }}</p>', True),
        ('<p>{{ x if y else "Hallo daar" }}</p>', True),
        ('<p>{{ f("Hallo") }}</p>', False),
        ("<p>{% trans %}Hallo <a href='/x'>daar</a>{% endtrans %}</p>", False),
        ('<a href="/inloggen" title="Inloggen">{{ _("x") }}</a>', True),
        ("<a href=\"/inloggen\" title=\"{{ _('Inloggen') }}\">{{ _('x') }}</a>", False),
        ('<input type="submit" value="Verstuur">', True),
        ('<input type="hidden" name="op" value="aanmelden">', False),
        ("<p>12:00 · 113 – 0800-0113, UTC</p>", False),
        ("<style>body { color: red; }</style>", False),
        ('<span class="muted">/markt/{{ slug }}</span> <code>/f/{{ x }}/markt</code>', False),
        ('{{ f("rating_" ~ scale ~ "_reason", _(label) ~ " – " ~ _("reden")) }}', False),
        ('<p>{{ "Hallo " ~ name }}</p>', True),
    ],
)
def test_the_unmarked_text_check_itself(source: str, unmarked: bool) -> None:
    assert bool(unmarked_text(source)) is unmarked


# --- pages in English -----------------------------------------------------------------------------------------------

# Dutch interface words that must not be left on an English page. A flavour's own texts (flavours/*.toml: room names,
# crisis lines' descriptions) are content, not interface, and stay Dutch; the words in PORTAL_WORDS occur there.
DUTCH_UI_WORDS = (
    "Inloggen",
    "Snel weg",
    "Terug",
    "Versturen",
    "Verstuur",
    "Hulp bij crisis",
    "Naar de inhoud",
    "Direct hulp nodig",
    "Bel gratis",
    "Alle communities",
    "Kies een community",
    "Schuilnaam",
    "Wachtwoord",
    "Account aanmaken",
    "Hulplijnen",
    "Geen trackers",
    "Voor wie",
    "Startpagina",
    "Openingstijden",
    "Stel je vraag",
    "Artikelen",
    "Chatruimtes",
    "Wachtkamer",
    "Onderdelen van",
)
PORTAL_WORDS = ("zelfdoding", "Zelfmoordpreventie", "Welkom")
ENGLISH_PAGES = (
    "/",
    "/hulp",
    "/privacy",
    "/inloggen",
    "/registreren",
    "/f/psychosenet/",
    "/f/psychosenet/hulp",
    "/f/psychosenet/markt/",
)


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    attributes = " ".join(
        v[1:-1] for a, v in ATTRIBUTE.findall(page) if a.lower() in TRANSLATABLE_ATTRIBUTES | {"content"}
    )
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attributes)


@pytest.mark.parametrize("path", ENGLISH_PAGES)
async def test_english_page_has_no_dutch_interface_words(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"Cookie": "gem_lang=en"})
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    text = visible_text(response.text)
    words = DUTCH_UI_WORDS if path.startswith("/f/") else DUTCH_UI_WORDS + PORTAL_WORDS
    left = [word for word in words if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)]
    assert not left, f"{path} in English still shows {left}"


async def test_dutch_stays_the_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/hulp")
    assert '<html lang="nl">' in response.text
    assert "Hulp bij crisis" in response.text
    assert "Snel weg" in response.text
