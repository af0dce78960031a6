"""Translations: Dutch by default, another language by the visitor's choice, every string marked and translated.

The catalogue checks read the committed files (``chatserver/locale``); each failure says which make target brings
them up to date (docs/decisions/0022).
"""

from __future__ import annotations

import ast
import functools
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
    LOCALE_DIR,
    SUPPORTED,
    catalog_path,
    pick_language,
    plural_translator,
    translate,
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


def test_a_message_formatted_where_it_was_written_is_translated_with_its_values() -> None:
    assert (
        translate("en", "Je bericht is te lang (hoogstens 4000 tekens).")
        == "Your message is too long (4000 characters at most)."
    )
    assert translate("en", "Medewerkers in dienst: 3.") == "Staff on shift: 3."
    assert translate("nl", "Medewerkers in dienst: 3.") == "Medewerkers in dienst: 3."


def test_values_that_are_messages_are_translated_too() -> None:
    assert translate("en", "morgen om 09:00") == "tomorrow at 09:00"
    assert translate("en", "maandag 7 december om 14:00") == "Monday 7 December at 14:00"
    assert translate("en", "maandag, dinsdag: 10:00–13:00") == "Monday, Tuesday: 10:00–13:00"
    assert translate("en", "Vul de naam in.") == "Fill in the name."  # a lower-case phrase inside a sentence


def test_sentences_joined_from_several_messages_are_translated_one_by_one() -> None:
    joined = "Je bericht is even tegengehouden. Is er direct gevaar? Bel 112."
    assert translate("en", joined) == "Your message has been held for a moment. Is there immediate danger? Call 112."
    assert translate("en", "Dit bericht is al verwijderd. Mijn eigen woorden.") == (
        "This message has already been deleted. Mijn eigen woorden."
    )


def test_text_that_is_no_message_comes_back_unchanged() -> None:
    assert translate("en", "Hallo allemaal") == "Hallo allemaal"
    assert translate("en", "") == ""


def test_a_sentence_of_ones_own_is_not_half_translated_by_a_message_with_little_fixed_text() -> None:
    own = "Bel je huisarts, of 's avonds en in het weekend de huisartsenpost."
    assert translate("en", own) == own  # "Bel %s" names a number or a line, not a whole sentence
    assert translate("en", "Twijfel je? " + own) == "Twijfel je? " + own
    assert translate("en", "Bel 0800-0432") == "Call 0800-0432"
    assert translate("en", "wo 20") == "Wed 20"
    assert translate("en", "1 uur – 2 uur") == "1 hour – 2 hours"
    assert translate("en", "1 dag") == "1 day"


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


# --- every Dutch text in the Python that speaks to people is marked --------------------------------------------------

# A literal "looks Dutch" when it has two or more words and one of these (none of them an English word), or when it is
# a capitalised message id (a label: "Verbergen").
DUTCH_TEXT = (
    "de het een je jij jouw jullie uw niet van en op te voor met deze dit dat kan kun kunt wordt worden zijn geen er "
    "naar bij ook nog al wat wij mag mogen moet moeten heeft hebt heb hier daar alleen wel nu om tot uit aan meer dan "
    "als maar zo eerst opnieuw probeer lukte gaat ging staat bent wil wilt zal zou iets niets iemand niemand bericht "
    "berichten gesprek melding pagina dag dagen uur minuut minuten"
)
DUTCH_WORDS = frozenset(DUTCH_TEXT.split(" "))
MARKERS = frozenset({"_", "N_", "gettext", "ngettext"})
LOG_CALLS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})
# Python that does not speak to a visitor or staff member in the interface: the command line and its setup, the
# operator's configuration checks, demo content, the data files' checks, the adapters' messages to operators,
# metric help texts and the API description for developers.
NOT_SPOKEN = (
    "cli.py",
    "config.py",
    "demo.py",
    "flavours.py",
    "logs.py",
    "metrics.py",
    "adapters/",
    "data/",
    "services/content_demo.py",
    "services/forum/demo.py",
    "services/markt/demo.py",
    "services/staff_cli.py",
    "web/api/openapi.py",
)
REVIEWED = re.compile(r"#\s*i18n:")  # "# i18n: content" on or above a statement: reviewed, stays as it is
WORDS = re.compile(r"[^\W\d_]+")


@functools.cache
def dutch_only_words() -> frozenset[str]:
    """Words of the Dutch message ids that no English translation uses ("wachttijd", "percentiel" once marked):
    the catalogue's own vocabulary, so a new unmarked text that shares words with marked ones is found too."""
    dutch: set[str] = set()
    english: set[str] = set()
    for message in read_catalog(po_path("en")):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, list | tuple) else [message.id]
        strings = message.string if isinstance(message.string, list | tuple) else [message.string]
        dutch.update(w.lower() for text in ids for w in WORDS.findall(text))
        english.update(w.lower() for text in strings for w in WORDS.findall(text or ""))
    return frozenset(w for w in dutch - english if len(w) >= 3)


def looks_dutch(text: str, msgids: frozenset[str]) -> bool:
    if text in msgids and text[:1].isupper():
        return True
    words = [w.lower() for w in WORDS.findall(text)]
    vocabulary = DUTCH_WORDS | dutch_only_words()
    return len(words) >= 2 and " " in text.strip() and any(w in vocabulary for w in words)


def unmarked_python(source: str, msgids: frozenset[str]) -> list[tuple[int, str]]:
    """The Dutch-looking string literals outside ``_``/``N_``/``ngettext``, log calls, docstrings and reviewed lines."""
    tree = ast.parse(source)
    lines = source.splitlines()
    skip: set[int] = set()

    def skip_all(node: ast.AST) -> None:
        skip.update(id(sub) for sub in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in MARKERS or name == "compile" or (isinstance(func, ast.Attribute) and name in LOG_CALLS):
                skip_all(node)  # marked, a regular expression, or a log line
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):  # docstrings, also of attributes
            skip_all(node)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            skip_all(node)
        if isinstance(node, ast.stmt):
            above = lines[node.lineno - 2] if node.lineno > 1 else ""
            if REVIEWED.search(above) or REVIEWED.search(lines[node.lineno - 1]):
                skip_all(node)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if REVIEWED.search(lines[node.lineno - 1]) or not looks_dutch(node.value, msgids):
                continue
            found.append((node.lineno, node.value))
    return sorted(found)


SPOKEN_MODULES = sorted(
    [
        str(p.relative_to(PROJECT_ROOT))
        for p in (PROJECT_ROOT / "chatserver").rglob("*.py")
        if not str(p.relative_to(PROJECT_ROOT / "chatserver")).startswith(NOT_SPOKEN)
    ]
    # the moderation domain's refusals, notices and reasons (its patterns and word lists are not texts)
    + ["moderation/queue.py", "moderation/rules.py", "moderation/crisis.py"]
)


@pytest.mark.parametrize("module", SPOKEN_MODULES)
def test_python_marks_its_dutch_texts(module: str) -> None:
    msgids = frozenset(messages(read_catalog(POT)))
    found = unmarked_python((PROJECT_ROOT / module).read_text(encoding="utf-8"), msgids)
    assert not found, f"{module}: mark with N_(…) (or `# i18n: why` for content): {found}"


@pytest.mark.parametrize(
    ("source", "unmarked"),
    [
        ('X = "Je bericht is verstuurd."', True),
        ('X = N_("Je bericht is verstuurd.")', False),
        ('X = N_("Nog %d minuten.") % n', False),
        ('log.info("dit is een logregel voor de beheerder")', False),
        ('def f():\n    """Een docstring is geen tekst voor de bezoeker."""', False),
        ('X = "Snel weg"', True),  # one of the message ids
        ('X = "room_message"', False),
        ('X = "Welkom in de ruimte!"  # i18n: stored content', False),
        ('# i18n: content\nX = ("Hoi, fijn dat je er bent.",)', False),
        ('X = f"Je bericht is te lang: {n} tekens."', True),
    ],
)
def test_the_python_check_itself(source: str, unmarked: bool) -> None:
    assert bool(unmarked_python(source, frozenset({"Snel weg"}))) is unmarked


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
