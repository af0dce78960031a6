"""Hidden spellings for training: the ways people disguise or mistype a message, applied to labelled texts.

Every transformation keeps the meaning (and so the label) and is deterministic for a given random generator, so
``python -m moderation.train`` gives the same corpus, and the same weights, every time.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable

# Words worth hiding: the ones a word filter would look for. A transformation prefers these when present.
SENSITIVE = (
    "zelfmoord",
    "zelfdoding",
    "suicide",
    "suicidaal",
    "suïcidaal",
    "suïcide",
    "dood",
    "sterven",
    "leven",
    "snijden",
    "krassen",
    "gesneden",
    "gekrast",
    "pillen",
    "mezelf",
    "myself",
    "kill",
    "die",
    "dead",
    "cut",
    "cutting",
    "overdose",
    "overdosis",
)
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
# Slang that people really use, from the plain words back to the short forms.
_SLANG: tuple[tuple[str, str], ...] = (
    ("zelfmoord plegen", "zm plegen"),
    ("zelfmoord", "zm"),
    ("zelfmoordgedachten", "zm gedachten"),
    ("kill myself", "kms"),
    ("killing myself", "kms"),
    ("suicide", "sewerslide"),
    ("self harm", "sh"),
    ("self-harm", "sh"),
    ("zelfbeschadiging", "sh"),
    ("ik wil", "k wil"),
    ("ik ga", "k ga"),
    ("ik ben", "k ben"),
    ("mijn", "mn"),
    ("niet", "nie"),
    ("want to", "wanna"),
    ("going to", "gonna"),
    ("i am", "im"),
    ("tonight", "tn"),
)
_WORD = re.compile(r"\w+", re.UNICODE)


def _targets(text: str) -> list[re.Match[str]]:
    words = list(_WORD.finditer(text))
    sensitive = [m for m in words if m.group(0).casefold() in SENSITIVE]
    return sensitive or [m for m in words if len(m.group(0)) >= 4]


def _replace_word(text: str, rng: random.Random, change: Callable[[str, random.Random], str]) -> str:
    targets = _targets(text)
    if not targets:
        return text
    match = rng.choice(targets)
    return text[: match.start()] + change(match.group(0), rng) + text[match.end() :]


def spaced(text: str, rng: random.Random) -> str:
    """One word written letter by letter: "z e l f m o o r d"."""
    sep = rng.choice((" ", ".", "-", "*"))
    return _replace_word(text, rng, lambda word, _: sep.join(word))


def leetspeak(text: str, rng: random.Random) -> str:
    """Digits for letters in one word: "z3lfm00rd"."""
    return _replace_word(text, rng, lambda word, _: "".join(_LEET.get(ch, ch) for ch in word))


def no_diacritics(text: str, rng: random.Random) -> str:
    """Diacritics dropped: "suïcidaal" → "suicidaal" (the generator is not needed)."""
    del rng
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn"))


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:  # swap two neighbours
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind == 1:  # drop a letter
        return word[:i] + word[i + 1 :]
    if kind == 2:  # double a letter
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiou") + word[i + 1 :]  # a wrong vowel


def typos(text: str, rng: random.Random) -> str:
    """One or two common typing mistakes."""
    text = _replace_word(text, rng, _typo)
    return _replace_word(text, rng, _typo) if rng.random() < 0.4 else text


def stretched(text: str, rng: random.Random) -> str:
    """A letter held down: "dooooood", "pleaseeee"."""

    def stretch(word: str, r: random.Random) -> str:
        i = r.randrange(len(word))
        return word[: i + 1] + word[i] * r.randrange(2, 5) + word[i + 1 :]

    return _replace_word(text, rng, stretch)


def slang(text: str, rng: random.Random) -> str:
    """Plain words replaced by the short forms young people type (zm, kms, sh, k wil, mn, nie)."""
    lowered = text.casefold()
    options = [(plain, short) for plain, short in _SLANG if plain in lowered]
    if not options:
        return text
    plain, short = rng.choice(options)
    start = lowered.index(plain)
    return text[:start] + short + text[start + len(plain) :]


def chat_style(text: str, rng: random.Random) -> str:
    """Lower case, no punctuation, as typed quickly on a phone."""
    del rng
    return re.sub(r"[.,!?;:]+", "", text.casefold()).strip()


TRANSFORMS: tuple[Callable[[str, random.Random], str], ...] = (
    spaced,
    leetspeak,
    no_diacritics,
    typos,
    stretched,
    slang,
    chat_style,
)


def variants(text: str, rng: random.Random, count: int) -> list[str]:
    """Up to ``count`` distinct hidden spellings of one text, each made by one or two transformations."""
    seen = {text}
    out: list[str] = []
    for _ in range(count * 3):
        if len(out) >= count:
            break
        first = rng.choice(TRANSFORMS)
        candidate = first(text, rng)
        if rng.random() < 0.35:
            candidate = rng.choice(TRANSFORMS)(candidate, rng)
        if candidate not in seen and candidate.strip():
            seen.add(candidate)
            out.append(candidate)
    return out
