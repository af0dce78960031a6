"""Features of a text for the crisis model: the prepared form, word n-grams and character n-grams per word.

Training (``moderation.train``) and scoring (``moderation.model``) use these same functions, so what the model
learned is exactly what it sees at run time. Pure Python, no I/O.
"""

from __future__ import annotations

import functools
import itertools

from moderation.text import collapse_repeats, plain_sentences

# As the rules: a hostile paste stays bounded.
MAX_FEATURE_CHARS = 20_000
CHAR_NGRAMS = (3, 4, 5)


# Spellings that hide a word behind slang or an abbreviation, mapped to the plain word(s) the rest of the corpus uses.
# Tokens, after normalisation and with every letter run shortened to one letter.
SLANG: dict[str, str] = {
    "zm": "zelfmoord",
    "zmd": "zelfmoord",
    "zmg": "zelfmoordgedachten",
    "zelfmort": "zelfmoord",
    "zelfmord": "zelfmoord",
    "kms": "kill myself",
    "kys": "kill yourself",
    "unalive": "kill",
    "unaliven": "dood",
    "unalived": "killed",
    "sewerslide": "suicide",
    "suicde": "suicide",
    "sucide": "suicide",
    "suiside": "suicide",
    "selfharm": "self harm",
    "zelfbeschadigen": "zelf beschadigen",
    "ctb": "suicide",
    "od": "overdose",
    "wnt": "want",
    "wanna": "want to",
    "gonna": "going to",
    "gna": "going to",
    "gona": "going to",
    "ff": "even",
    "nie": "niet",
    "ni": "niet",
    "nimeer": "niet meer",
    "nmr": "niet meer",
    "mn": "mijn",
    "m": "me",
    "k": "ik",
    "ic": "ik",
    "kwil": "ik wil",
    "kga": "ik ga",
    "kben": "ik ben",
    "kheb": "ik heb",
    "ge": "jij",
    "gij": "jij",
    "da": "dat",
    "u": "you",
    "ur": "your",
    "im": "i am",
    "ive": "i have",
    "idk": "i dont know",
    "rn": "right now",
    "tn": "tonight",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "pls": "please",
}
# After collapsing letter runs the slang keys must be in collapsed form too.
_SLANG = {collapse_repeats(key, keep=1): collapse_repeats(value, keep=1) for key, value in SLANG.items()}
# A word of a spelled-out form → the short forms it came from ("zelfmord" → "zm", "zmd"), to show what was written.
SLANG_SOURCES: dict[str, tuple[str, ...]] = {}
for _short, _plain in sorted(_SLANG.items()):
    for _word_of_plain in _plain.split():
        SLANG_SOURCES[_word_of_plain] = (*SLANG_SOURCES.get(_word_of_plain, ()), _short)


@functools.lru_cache(maxsize=1024)
def prepare_sentences(text: str) -> tuple[str, ...]:
    """The form the model reads, per sentence: normalised, look-alikes folded, spaced letters joined, letter runs
    shortened to one, punctuation gone, numbers reduced to their size, slang spelled out."""
    out: list[str] = []
    forms = _FORMS
    for sentence in plain_sentences(text[:MAX_FEATURE_CHARS]):
        out.append(" ".join([forms.get(word) or _word(word) for word in sentence.split()]))
    return tuple(out)


# Plain word → the word the model reads (slang spelled out, numbers by size); bounded, cleared when full.
_FORMS: dict[str, str] = {}


def _word(word: str) -> str:
    form = ("0" if len(word) <= 2 else "00") if word.isdigit() else _SLANG.get(word, word)
    if len(_FORMS) >= 100_000:
        _FORMS.clear()
    _FORMS[word] = form
    return form


def prepare(text: str) -> str:
    """All sentences of ``prepare_sentences`` in one line (for training and for reading)."""
    return " ".join(prepare_sentences(text))


@functools.lru_cache(maxsize=65_536)
def word_ngrams(word: str) -> tuple[str, ...]:
    """Character n-grams of one word padded with spaces (sklearn's ``char_wb``), the word itself included."""
    padded = f" {word} "
    grams: list[str] = [f"w:{word}"]
    size = len(padded)
    for n in CHAR_NGRAMS:
        if n > size:
            break
        grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return tuple(grams)


def features(sentences: tuple[str, ...] | list[str]) -> list[str]:
    """Every feature occurrence of prepared sentences (repeats count): per word its character n-grams and the word,
    and the word bigrams within each sentence. No sentences, no features."""
    out: list[str] = []
    for sentence in sentences:
        words = sentence.split()
        for word in words:
            out.extend(word_ngrams(word))
        out.extend(f"b:{a} {b}" for a, b in itertools.pairwise(words))
    return out
