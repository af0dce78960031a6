"""Text normalisation for matching: Unicode folding, homoglyphs, repeated letters and spaced-out words."""

from __future__ import annotations

import functools
import re
import unicodedata

# Lone surrogates survive json.loads and break every encoder after it.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s+")
# Letters that look alike across scripts, mapped to their Latin twin (after casefold).
_HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "һ": "h",
    "ӏ": "l",
    "ɡ": "g",
    # Greek
    "α": "a",
    "β": "b",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "ς": "s",
    "σ": "o",
    "μ": "u",
    # Latin look-alikes and typographic quotes
    "ı": "i",
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ħ": "h",
    "ŀ": "l",
    "‘": "'",
    "’": "'",
    "‛": "'",
    "`": "'",
    "´": "'",
}
# Digits and symbols used as letters ("z3lfm00rd", "$uicide"); applied only inside tokens that hold a letter.
_LEET: dict[str, str] = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "@": "a",
    "$": "s",
}
_HOMOGLYPH_TABLE = str.maketrans(_HOMOGLYPHS)
_LEET_TABLE = str.maketrans(_LEET)
# Only tokens that hold a digit or symbol used as a letter need the (slower) per-token check.
_LEET_TOKEN = re.compile(r"[\w@$]*[013457@$][\w@$]*")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_REPEATS_3 = re.compile(r"([^\W\d_])\1{2,}")
_REPEATS_2 = re.compile(r"([^\W\d_])\1+")
# Three or more single letters separated by one space, dot, dash, underscore or star.
_SPACED = re.compile(r"(?<![^\W\d_])(?:[^\W\d_][ .\-_*]){2,}[^\W\d_](?![^\W\d_])")
_SPACED_SEP = re.compile(r"[ .\-_*]")
_SPACED_ASCII = re.compile(r"(?<![a-zA-Z])(?:[a-zA-Z][ .\-_*]){2,}[a-zA-Z](?![a-zA-Z])")


def _drop_invisible(text: str) -> str:
    # Cf covers zero-width spaces/joiners, soft hyphens and bidi controls; other controls become spaces. Only the
    # distinct characters of the text are looked up, and one translate pass (in C) applies the result.
    table: dict[int, str | None] = {}
    for ch in set(text):
        cat = unicodedata.category(ch)
        if cat == "Cf":
            table[ord(ch)] = None
        elif cat == "Cc" and not ch.isspace():
            table[ord(ch)] = " "
    return text.translate(table) if table else text


def strip_diacritics(text: str) -> str:
    """Remove combining marks: "suïcide" → "suicide", "één" → "een"."""
    decomposed = unicodedata.normalize("NFD", text)
    marks = {ord(ch): None for ch in set(decomposed) if unicodedata.category(ch) == "Mn"}
    return unicodedata.normalize("NFC", decomposed.translate(marks) if marks else decomposed)


# ASCII control characters other than whitespace become spaces, as _drop_invisible does.
_ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")


def _normalize_ascii(text: str) -> str:
    # For ASCII text NFKC, the diacritics pass and the zero-width removal change nothing and casefold is lower().
    return _WHITESPACE.sub(" ", _ASCII_CONTROLS.sub(" ", text).lower()).strip()


def _normalize_once(text: str) -> str:
    text = _SURROGATES.sub("\ufffd", text)
    text = unicodedata.normalize("NFKC", text)
    text = _drop_invisible(text)
    text = text.casefold()
    text = strip_diacritics(text)
    text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE.sub(" ", text).strip()


def _stable(text: str) -> bool:
    """True when a further pass of _normalize_once cannot change the text: already NFKC and NFD (so nothing
    decomposes into a mark or composes anew), casefold-stable, and without a combining mark or invisible character."""
    if not (unicodedata.is_normalized("NFKC", text) and unicodedata.is_normalized("NFD", text)):
        return False
    if text.casefold() != text:
        return False
    return all(unicodedata.category(ch) not in ("Mn", "Cf", "Cc") for ch in set(text) if not ch.isascii())


@functools.lru_cache(maxsize=256)
def normalize(text: str) -> str:
    """NFKC, casefold, no diacritics, no zero-width/bidi controls, single spaces; idempotent, never raises.

    Cached: one message is normalised by several filters in a row.
    """
    if text.isascii():
        return _normalize_ascii(text)
    # A few compatibility characters need a second pass before they are stable (casefold after NFKC).
    previous = _normalize_once(text)
    if previous.isascii() or _stable(previous):
        return previous  # another pass would change nothing
    for _ in range(3):
        current = _normalize_once(previous)
        if current == previous:
            return current
        previous = current
    return previous


_LEET_CHARS = re.compile(r"[013457@$]")
# Characters fold_homoglyphs may change in an ASCII text: without any of them it has nothing to do.
_ASCII_FOLDABLE = re.compile(r"[0-9@$`]")


def fold_homoglyphs(text: str) -> str:
    """Map Cyrillic/Greek look-alikes to Latin, and digits/symbols used as letters inside words."""
    if text.isascii() and _ASCII_FOLDABLE.search(text) is None:
        return text
    text = text.translate(_HOMOGLYPH_TABLE)
    if _LEET_CHARS.search(text) is None:
        return text

    def leet(match: re.Match[str]) -> str:
        token = match.group(0)
        if not _HAS_LETTER.search(token):
            return token
        return token.translate(_LEET_TABLE)

    return _LEET_TOKEN.sub(leet, text)


_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def collapse_repeats(text: str, keep: int = 2) -> str:
    """Shorten runs of one letter to at most ``keep`` (2 keeps Dutch double letters: "dooooood" → "dood")."""
    if keep <= 1:
        if text.isascii():
            # str.replace runs in C; a regex with a back-reference expands a template per match.
            for letter in _ASCII_LETTERS.intersection(text):
                double = letter + letter
                while double in text:
                    text = text.replace(double, letter)
            return text
        return _REPEATS_2.sub(r"\1", text)
    return _REPEATS_3.sub(lambda m: m.group(1) * keep, text)


def join_spaced(text: str) -> str:
    """Join letters written one by one: "z e l f m o o r d" → "zelfmoord"."""
    if text.isascii() and _SPACED_ASCII.search(text) is None:
        return text  # the common case, found faster with ASCII classes
    return _SPACED.sub(lambda m: _SPACED_SEP.sub("", m.group(0)), text)


@functools.lru_cache(maxsize=256)
def fold(text: str) -> str:
    """Normalised, look-alikes folded and spaced-out letters joined: the common start of the crisis rules and the
    crisis model's features (cached, since both read the same message)."""
    return join_spaced(fold_homoglyphs(normalize(text)))


_SENTENCE_END = re.compile(r"[.!?;\n]+")
_NOT_ASCII_WORD_OR_END = re.compile(r"[^a-z0-9\n]+")
# "kwil", "kga": the Dutch "ik" glued to its verb in quick typing.
_GLUED = re.compile(r"(?<![a-z])(ik|k)(wil|ga|ben|heb|denk|zie|snij|kras)(?![a-z])")


# For ASCII text one translate pass (in C) does what the two substitutions below do: sentence ends become line ends,
# every other character that is not a-z or 0-9 a space (runs of either are dropped when lines and words are split).
_ASCII_SPLIT_TABLE = {
    code: "\n" if chr(code) in ".!?;\n" else " "
    for code in range(128)
    if chr(code) not in "abcdefghijklmnopqrstuvwxyz0123456789"
}


def _split_sentences(text: str) -> tuple[str, ...]:
    if text.isascii():
        lines = text.translate(_ASCII_SPLIT_TABLE).split("\n")
        return tuple(" ".join(words) for line in lines if (words := line.split()))
    lines = _NOT_ASCII_WORD_OR_END.sub(" ", _SENTENCE_END.sub("\n", text)).split("\n")
    return tuple(stripped for line in lines if (stripped := line.strip()))


@functools.lru_cache(maxsize=256)
def plain_sentences(text: str) -> tuple[str, ...]:
    """The sentences of a text as plain ASCII words: folded (above), apostrophes dropped, every letter run shortened
    to one letter ("dooood" → "dod"), "kwil" read as "k wil", split at . ! ? ; and line ends, everything but a-z and
    0-9 a space. Shared by the crisis rules and the crisis model (cached: both read the same message)."""
    words = _WORD_FORMS
    out: list[str] = []
    for sentence in _split_sentences(fold(text).replace("'", "")):
        # Per word, through a cache: chat repeats its words, and a dictionary look-up is cheaper than a regex pass.
        forms = []
        for word in sentence.split():
            form = words.get(word)
            if form is None:
                form = _word_form(word)
            forms.append(form)
        out.append(" ".join(forms))
    return tuple(out)


# Word as written (ASCII, lower case) → its plain form; bounded, cleared when full (it refills with the common words).
_WORD_FORMS: dict[str, str] = {}
_WORD_FORMS_MAX = 100_000


def _word_form(word: str) -> str:
    form = _GLUED.sub(r"\1 \2", collapse_repeats(word, keep=1))
    if len(_WORD_FORMS) >= _WORD_FORMS_MAX:
        _WORD_FORMS.clear()
    _WORD_FORMS[word] = form
    return form


def skeleton(text: str) -> str:
    """The matching form for word filters: normalised, homoglyphs folded, spaced letters joined, every run of a
    letter shortened to one, and i/l/1 merged (so "k1ootzak", "KLOOOTZAK" and "kl00tzak" agree)."""
    folded = fold_homoglyphs(normalize(text))
    joined = join_spaced(folded)
    return collapse_repeats(joined.replace("l", "i"), keep=1)
