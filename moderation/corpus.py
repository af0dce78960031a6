"""The labelled crisis texts: the training corpus, the older small sets, and the held-out set (never for training).

Files are UTF-8 TSV. The corpus and the held-out set have five columns, ``label lang category group text``; the older
sets have four, ``label lang kind text``, and each of their lines is a group of its own. ``#`` starts a comment line.
Categories follow the label policy, docs/decisions/0014-crisis-label-policy.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPUS_DIR = DATA_DIR / "corpus"
# The first, small sets (2025): the rules were tuned on the first; both now only train.
LEGACY_SETS = (DATA_DIR / "crisis_sentences.tsv", DATA_DIR / "crisis_heldout.tsv")
# Written from the label policy alone before any tuning; never used to choose features or thresholds.
HELD_OUT_SET = DATA_DIR / "heldout" / "crisis_heldout.tsv"
# Corpus files of everyday chat (all must-not-flag) start with this.
EVERYDAY_PREFIX = "everyday"

MUST_FLAG = ("intent", "plan", "passive", "hopeless", "goodbye", "self_harm", "self_harm_urge", "hidden")
MUST_NOT_FLAG = ("idiom", "game", "cooking", "news", "illness", "past", "other", "support", "prevention", "general")
LANGS = ("nl", "en", "mix")


@dataclass(frozen=True, slots=True)
class Example:
    label: bool
    lang: str
    category: str
    group: str
    text: str


class CorpusError(ValueError):
    """A line of a labelled file does not follow the format."""


def load(path: Path) -> list[Example]:
    """Read one labelled file, checking every line; raises CorpusError naming the file and line."""
    examples: list[Example] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        where = f"{path.name}:{number}"
        if parts[0] not in ("0", "1"):
            raise CorpusError(f"{where}: the label must be 0 or 1")
        label = parts[0] == "1"
        if len(parts) == 4:
            lang, kind, text = parts[1], parts[2], parts[3]
            examples.append(Example(label, lang, f"legacy_{kind}", f"{path.stem}:{number}", text))
            continue
        if len(parts) != 5:
            raise CorpusError(f"{where}: expected five tab-separated columns")
        _, lang, category, group, text = parts
        allowed = MUST_FLAG if label else MUST_NOT_FLAG
        if category not in allowed:
            raise CorpusError(f"{where}: category {category!r} does not fit label {parts[0]}")
        if lang not in LANGS:
            raise CorpusError(f"{where}: language {lang!r} is not one of {', '.join(LANGS)}")
        if not text.strip():
            raise CorpusError(f"{where}: empty text")
        examples.append(Example(label, lang, category, f"{path.stem}:{group}", text))
    return examples


def corpus_examples() -> list[Example]:
    """The labelled crisis corpus: must-flag texts and the must-not-flag texts that resemble them."""
    examples: list[Example] = []
    for path in sorted(CORPUS_DIR.glob("*.tsv")):
        if not path.name.startswith(EVERYDAY_PREFIX):
            examples.extend(load(path))
    return examples


def everyday_examples() -> list[Example]:
    """Everyday community chat, all must-not-flag: the background the model must learn to leave alone."""
    examples: list[Example] = []
    for path in sorted(CORPUS_DIR.glob(f"{EVERYDAY_PREFIX}*.tsv")):
        examples.extend(load(path))
    return examples


def training_examples() -> list[Example]:
    """Every text the model may learn from: the corpus, everyday chat and the older sets."""
    examples = corpus_examples() + everyday_examples()
    for path in LEGACY_SETS:
        if path.exists():
            examples.extend(load(path))
    return examples


def held_out_examples() -> list[Example]:
    """The held-out set: for measuring only."""
    return load(HELD_OUT_SET)


def scores_by(examples: Sequence[Example], flags: Sequence[bool], key: str) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and counts per value of ``key`` ('category' or 'lang') and overall ('all')."""
    table: dict[str, list[int]] = {}
    for example, flag in zip(examples, flags, strict=True):
        for name in ("all", str(getattr(example, key))):
            cell = table.setdefault(name, [0, 0, 0, 0])  # tp fp tn fn
            cell[(0 if example.label else 1) if flag else (3 if example.label else 2)] += 1
    out: dict[str, dict[str, float]] = {}
    for name, (tp, fp, tn, fn) in sorted(table.items()):
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[name] = {
            "n": tp + fp + tn + fn,
            "tp": tp,
            "fp": fp,
            "tn": tn,
            "fn": fn,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
        }
    return out
