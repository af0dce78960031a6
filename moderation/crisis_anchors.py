"""Which explicit patterns a sentence's words can reach: anchor words read off the compiled crisis patterns (pure).

A sentence none of whose words is an anchor of a pattern cannot match it, so the rules try only the candidates;
a test checks on the whole corpus that the answer equals the full scans."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

from moderation.crisis_patterns import _PATTERNS, _source

# --- the anchor prefilter -----------------------------------------------------------------------------------------
# Every explicit pattern needs one of a few whole words somewhere (a pattern on pills needs a word for pills). Those
# words are read from the compiled patterns themselves, one slot per pattern (a slot is what stands between two spaces
# or gaps), preferring slots without common words. A sentence none of whose words is an anchor cannot match any
# pattern, so the large alternation scan is skipped for it (about 70 % of everyday chat). A test checks on the whole
# corpus that no sentence a pattern matches is skipped.
# The regex parser of the standard library (not in the typing stubs): used once, at import, on our own patterns.
_sre_parse: Any = importlib.import_module("re._parser")
_sre: Any = importlib.import_module("re._constants")
_COMMON_WORDS = frozenset(
    [
        "ik",
        "i",
        "k",
        "it",
        "ga",
        "ben",
        "wil",
        "niet",
        "nie",
        "was",
        "zijn",
        "doen",
        "end",
        "die",
        "ic",
        "id",
        "ike",
        "im",
        "ive",
        "gan",
        "gat",
        "zal",
        "wer",
        "weg",
        "hier",
        "just",
        "want",
        "wou",
        "wilde",
        "wilen",
        "sla",
        "nem",
        "mak",
        "could",
        "going",
        "gona",
        "done",
        "down",
        "take",
        "plan",
        "dacht",
        "denk",
        "life",
        "live",
        "leven",
        "leve",
        "arm",
        "beter",
        "zelf",
        "spar",
        "al",
        "all",
        "alle",
        "my",
        "mijn",
        "mn",
        "me",
        "mij",
        "de",
        "het",
        "een",
        "the",
        "a",
        "to",
        "te",
        "van",
        "of",
        "voor",
        "op",
        "in",
        "on",
        "er",
        "aan",
        "meer",
        "mer",
        "no",
        "not",
        "geen",
        "gen",
        "zin",
        "reden",
        "is",
        "be",
        "af",
        "als",
        "if",
        "wat",
        "iets",
        "so",
        "dat",
        "je",
        "you",
        "and",
        "en",
        "om",
        "met",
        "with",
        "mezelf",
        "myself",
        "ending",
        "taking",
        "noit",
        "never",
        "vor",
        "onder",
        "front",
        "wana",
        "hoef",
        "zat",
        "moe",
        "tired",
    ]
)


def _finite_strings(items: Any) -> set[str] | None:
    """Every string a parsed, finite regex fragment can match; None when it is not finite and small."""
    out = {""}
    for op, av in items:
        if op is _sre.LITERAL:
            out = {o + chr(av) for o in out}
            continue
        if op is _sre.SUBPATTERN:
            options = _finite_strings(av[3])
        elif op is _sre.BRANCH:
            options = set()
            for branch in av[1]:
                found = _finite_strings(branch)
                if found is None:
                    return None
                options |= found
        elif op is _sre.MAX_REPEAT and av[0] == 0 and av[1] == 1:
            found = _finite_strings(av[2])
            options = None if found is None else found | {""}
        else:
            return None
        if options is None:
            return None
        out = {o + x for o in out for x in options}
        if len(out) > 20_000:
            return None
    return out


def _is_slot_boundary(item: Any) -> bool:
    op, av = item
    if op is _sre.LITERAL:
        return bool(av == ord(" "))
    optional = op is _sre.MAX_REPEAT and av[0] == 0 and av[1] == 1
    return op in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT, _sre.MAX_REPEAT, _sre.MIN_REPEAT) and not optional


def _slot_words(template: str, *, compiled: bool = False) -> list[set[str]]:
    """Per slot of a pattern, the longest word of each string the slot can match (each a whole word of a match).
    ``compiled``: the template is already a regex source (of a compiled pattern)."""
    slots: list[list[Any]] = [[]]
    for item in _sre_parse.parse(template if compiled else _source(template)):
        if _is_slot_boundary(item):
            slots.append([])
        else:
            slots[-1].append(item)
    out: list[set[str]] = []
    for slot in slots:
        strings = _finite_strings(slot) if slot else None
        if not strings or "" in strings:
            continue
        out.append({max(string.split(), key=len) for string in strings if string.split()})
    return [words for words in out if words]


def _rank(words: set[str]) -> tuple[int, int]:
    # Fewer common words first, then the longest shortest word: the slot that lets the fewest sentences through.
    return (-len(words & _COMMON_WORDS), min(map(len, words)))


@dataclass(frozen=True, slots=True)
class _Anchored:
    """Which patterns a sentence's words can reach: by the words of each pattern's best slot, then its second."""

    by_word: dict[str, tuple[int, ...]]
    second: tuple[frozenset[str] | None, ...]

    def candidates(self, words: set[str]) -> list[int]:
        found: set[int] = set()
        for word in words.intersection(self.by_word):
            found.update(self.by_word[word])
        return sorted(i for i in found if (other := self.second[i]) is None or not other.isdisjoint(words))


def _anchored() -> _Anchored | None:
    by_word: dict[str, list[int]] = {}
    second: list[frozenset[str] | None] = []
    for index, (_, template) in enumerate(_PATTERNS):
        slots = sorted(_slot_words(template), key=_rank, reverse=True)
        if not slots:
            return None  # a pattern without a finite slot: no prefilter rather than a wrong one
        for word in slots[0]:
            by_word.setdefault(word, []).append(index)
        second.append(frozenset(slots[1]) if len(slots) > 1 else None)
    return _Anchored({w: tuple(ix) for w, ix in by_word.items()}, tuple(second))


_ANCHORED = _anchored()


class _Marker:
    """A marker pattern with the words one of which every match contains (None: no such words were found)."""

    __slots__ = ("anchors", "pattern")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        slots = sorted(_slot_words(pattern.pattern, compiled=True), key=_rank, reverse=True)
        self.anchors = frozenset(slots[0]) if slots else None

    def found_in(self, text: str, words: set[str]) -> bool:
        if self.anchors is not None and self.anchors.isdisjoint(words):
            return False
        return self.pattern.search(text) is not None


_ANCHORS = None if _ANCHORED is None else frozenset(_ANCHORED.by_word)
