"""Train the crisis model: ``python -m moderation.train`` (needs the ``train`` extra: scikit-learn).

Reads the corpus (moderation.corpus.training_examples — never the held-out set), adds hidden spellings
(moderation.augment), fits a logistic regression over word and character n-grams (moderation.features), chooses the
hold and review thresholds on out-of-fold scores of a cross-validation grouped by writer/template (so rewordings
of one text never sit on both sides), and writes moderation/data/crisis_model.json.gz. Fixed seed, deterministic
output: the same corpus gives the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderation.augment import variants
from moderation.corpus import Example, held_out_examples, scores_by, training_examples
from moderation.crisis_rules import Signals, analyse, keyword_words
from moderation.decision import COMBINER_INPUTS, Combiner, Thresholds, decide, inputs
from moderation.features import features, prepare, prepare_sentences
from moderation.model import MODEL_PATH, CrisisModel, write

SEED = 20261207
FOLDS = 5
# Inverse regularisation strength; chosen by the grouped cross-validation below (--search).
C = 16.0
MIN_DOCUMENT_FREQUENCY = 2
VARIANTS_PER_TEXT = 2
# Inverse regularisation strength of the combining step (a dozen inputs, thousands of texts: mild).
COMBINER_C = 1.0
# Thresholds are chosen so the out-of-fold recall reaches these, with a margin above the targets of the label policy.
HOLD_RECALL = 0.95
# The review band is a peer expert's workload: it may take in at most this share of everyday chat (category
# "general"), out of fold. The lowest review threshold within that bound is taken.
REVIEW_MAX_EVERYDAY = 0.05
_GRID = [round(0.02 * i, 2) for i in range(1, 50)]


@dataclass(frozen=True, slots=True)
class Row:
    label: bool
    group: str
    text: str
    counts: Counter[str]
    total: int
    original: int  # index of the example it was made from


LEXICON = -1  # the ``original`` of a row from the single-word lexicon (background, never scored)
# Words that name suicide or self-harm on their own stay out of the lexicon.
_KEYWORD_WORDS = keyword_words() | frozenset(
    ("kil", "kiled", "suicide", "overdose", "harm", "dod", "sterven", "zelfmord", "zelfmordgedachten")
)


def lexicon_rows(examples: Sequence[Example]) -> list[Row]:
    """Every word of the must-not-flag texts as a text of its own, must-not-flag: a single everyday word ("live",
    "leven", "afscheid") is not a crisis message; the rules know the single words that are. Background only: always
    trained on, never scored."""
    named = _KEYWORD_WORDS
    words = sorted(
        {
            word
            for example in examples
            if not example.label
            for sentence in prepare_sentences(example.text)
            for word in sentence.split()
            if word not in named
        }
    )
    rows: list[Row] = []
    for word in words:
        grams = features((word,))
        if len(word) > 1 and grams:
            rows.append(Row(False, f"lexicon:{word}", word, Counter(grams), len(grams), LEXICON))
    return rows


def _rows(examples: Sequence[Example], seed: int) -> list[Row]:
    rows: list[Row] = []
    for index, example in enumerate(examples):
        rng = random.Random(seed ^ zlib.crc32(example.text.encode("utf-8")))
        for text in (example.text, *variants(example.text, rng, VARIANTS_PER_TEXT)):
            grams = features(prepare_sentences(text))
            if grams:
                rows.append(Row(example.label, example.group, text, Counter(grams), len(grams), index))
    return rows


def fit(rows: Sequence[Row], c: float, seed: int, version: str = "training") -> CrisisModel:
    """Fit a logistic regression on the rows; returns the model as it will run (pure Python weights)."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    document_frequency: Counter[str] = Counter()
    for row in rows:
        document_frequency.update(row.counts.keys())
    vocabulary = sorted(name for name, df in document_frequency.items() if df >= MIN_DOCUMENT_FREQUENCY)
    column = {name: i for i, name in enumerate(vocabulary)}
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for row in rows:
        scale = 1.0 / math.sqrt(row.total)
        for name, count in sorted(row.counts.items()):
            j = column.get(name)
            if j is not None:
                indices.append(j)
                data.append(count * scale)
        indptr.append(len(indices))
    matrix = csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=(len(rows), len(vocabulary)))
    labels = np.array([1 if row.label else 0 for row in rows])
    classifier = LogisticRegression(
        C=c, solver="liblinear", class_weight="balanced", max_iter=2000, random_state=seed, intercept_scaling=10.0
    )
    classifier.fit(matrix, labels)
    coefficients = classifier.coef_[0]
    weights = {name: float(coefficients[i]) for i, name in enumerate(vocabulary) if abs(coefficients[i]) >= 1e-4}
    neutral = Combiner((1.0,) + (0.0,) * (len(COMBINER_INPUTS) - 1), 0.0)
    return CrisisModel(version, float(classifier.intercept_[0]), weights, Thresholds(0.5, 0.5), neutral)


def _group_folds(examples: Sequence[Example], folds: int, seed: int) -> list[int]:
    """A fold per example, whole groups at a time, groups shuffled with the seed, folds balanced by size."""
    groups = sorted({example.group for example in examples})
    random.Random(seed).shuffle(groups)
    size: Counter[str] = Counter(example.group for example in examples)
    fold_of_group: dict[str, int] = {}
    load = [0] * folds
    for group in sorted(groups, key=lambda g: -size[g]):
        target = load.index(min(load))
        fold_of_group[group] = target
        load[target] += size[group]
    return [fold_of_group[example.group] for example in examples]


@dataclass(frozen=True, slots=True)
class OutOfFold:
    probability: list[float]
    # per example: its hidden spellings (text, probability), scored by a model that never saw the example
    hidden: list[list[tuple[str, float]]]


def cross_validate(examples: Sequence[Example], rows: Sequence[Row], c: float, seed: int) -> OutOfFold:
    """Out-of-fold model probabilities of every example and of its hidden spellings."""
    fold_of = _group_folds(examples, FOLDS, seed)
    probability = [0.0] * len(examples)
    hidden: list[list[tuple[str, float]]] = [[] for _ in examples]
    for fold in range(FOLDS):
        training = [example for index, example in enumerate(examples) if fold_of[index] != fold]
        model = fit([row for row in rows if fold_of[row.original] != fold] + lexicon_rows(training), c, seed)
        for index, example in enumerate(examples):
            if fold_of[index] == fold:
                probability[index] = model.probability(prepare_sentences(example.text))
        for row in rows:
            if fold_of[row.original] == fold and row.text != examples[row.original].text:
                hidden[row.original].append((row.text, model.probability(prepare_sentences(row.text))))
        print(f"  fold {fold + 1}/{FOLDS} done", file=sys.stderr, flush=True)
    return OutOfFold(probability, hidden)


def fit_combiner(inputs: Sequence[Sequence[float]], labels: Sequence[bool], seed: int) -> Combiner:
    """The second-level logistic regression over the model's log-odds and the rules' signals."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    classifier = LogisticRegression(
        C=COMBINER_C, solver="liblinear", class_weight="balanced", max_iter=2000, random_state=seed
    )
    classifier.fit(np.array(inputs, dtype=float), np.array([1 if label else 0 for label in labels]))
    return Combiner(tuple(float(w) for w in classifier.coef_[0]), float(classifier.intercept_[0]))


def _recall(labels: Sequence[bool], flags: Sequence[bool]) -> float:
    positives = sum(labels)
    hits = sum(1 for label, flag in zip(labels, flags, strict=True) if label and flag)
    return hits / positives if positives else 1.0


def choose_thresholds(
    labels: Sequence[bool],
    signals: Sequence[Signals],
    combined: Sequence[float],
    needs_review: Sequence[bool],
    everyday: Sequence[bool],
) -> Thresholds:
    """The highest hold threshold whose out-of-fold recall reaches HOLD_RECALL; the lowest review threshold (not
    above the hold threshold) that puts at most REVIEW_MAX_EVERYDAY of the everyday texts before a peer expert."""
    hold = _GRID[0]
    for t in _GRID:
        flags = [decide(s, p, Thresholds(t, t))[0] for s, p in zip(signals, combined, strict=True)]
        if _recall(labels, flags) >= HOLD_RECALL:
            hold = t
    everyday_count = max(1, sum(everyday))
    review = hold
    for t in reversed([t for t in _GRID if t <= hold]):
        reviewed = sum(
            1
            for s, p, r, e in zip(signals, combined, needs_review, everyday, strict=True)
            if e and decide(s, p, Thresholds(hold, t), needs_review=r)[1]
        )
        if reviewed / everyday_count > REVIEW_MAX_EVERYDAY:
            break
        review = t
    return Thresholds(hold, review)


@dataclass(frozen=True, slots=True)
class Stacked:
    combined: list[float]  # out-of-fold combined probability per example
    hidden: list[list[float]]  # the same for each example's hidden spellings
    inputs: list[list[float]]


def stack(examples: Sequence[Example], oof: OutOfFold, seed: int) -> Stacked:
    """Out-of-fold combined probabilities: the combiner is itself cross-validated (grouped, other folds)."""
    analysed = [analyse(example.text) for example in examples]
    rows = [list(inputs(p, signals)) for p, (_, signals) in zip(oof.probability, analysed, strict=True)]
    labels = [example.label for example in examples]
    fold_of = _group_folds(examples, FOLDS, seed + 1)
    combined = [0.0] * len(examples)
    hidden: list[list[float]] = [[] for _ in examples]
    for fold in range(FOLDS):
        train_rows = [(r, label) for r, label, f in zip(rows, labels, fold_of, strict=True) if f != fold]
        combiner = fit_combiner([r for r, _ in train_rows], [label for _, label in train_rows], seed)
        for index, (_, signals) in enumerate(analysed):
            if fold_of[index] != fold:
                continue
            combined[index] = combiner.probability(oof.probability[index], signals)
            for text, p in oof.hidden[index]:
                hidden[index].append(combiner.probability(p, analyse(text)[1]))
    return Stacked(combined, hidden, rows)


def train(out: Path, c: float, seed: int) -> dict[str, Any]:
    examples = _unique(training_examples())
    labels = [example.label for example in examples]
    print(f"{len(examples)} texts, {sum(labels)} must-flag; adding hidden spellings", file=sys.stderr, flush=True)
    rows = _rows(examples, seed)
    oof = cross_validate(examples, rows, c, seed)
    stacked = stack(examples, oof, seed)
    analysed = [analyse(example.text) for example in examples]
    signals = [s for _, s in analysed]
    needs_review = [r.needs_review for r, _ in analysed]
    everyday = [not example.label and example.category == "general" for example in examples]
    thresholds = choose_thresholds(labels, signals, stacked.combined, needs_review, everyday)
    flags = [decide(s, p, thresholds)[0] for s, p in zip(signals, stacked.combined, strict=True)]
    hidden_positive = [p for example, ps in zip(examples, stacked.hidden, strict=True) if example.label for p in ps]
    hidden_signals = [
        analyse(text)[1].critical
        for example, hs in zip(examples, oof.hidden, strict=True)
        if example.label
        for text, _ in hs
    ]
    hidden_held = sum(
        1 for p, critical in zip(hidden_positive, hidden_signals, strict=True) if critical or p >= thresholds.hold
    )
    meta: dict[str, Any] = {
        "texts": len(examples),
        "must_flag": sum(labels),
        "rows_with_hidden_spellings": len(rows),
        "lexicon_words": len(lexicon_rows(examples)),
        "everyday_in_review_band_max": REVIEW_MAX_EVERYDAY,
        "c": c,
        "seed": seed,
        "folds": FOLDS,
        "cross_validation": {
            "by_category": scores_by(examples, flags, "category"),
            "by_lang": scores_by(examples, flags, "lang"),
            "hidden_spelling_recall": round(hidden_held / max(1, len(hidden_positive)), 4),
        },
    }
    model = fit(rows + lexicon_rows(examples), c, seed)
    combiner = fit_combiner(stacked.inputs, labels, seed)
    digest = hashlib.sha256(
        json.dumps([sorted(model.weights.items()), combiner.weights, thresholds.hold]).encode("utf-8")
    ).hexdigest()[:8]
    everyday_words = frozenset(row.text for row in lexicon_rows(examples))
    final = CrisisModel(f"lr-{digest}", model.bias, model.weights, thresholds, combiner, everyday_words)
    write(final, meta, out)
    return meta


def _unique(examples: Sequence[Example]) -> list[Example]:
    """One example per prepared text; none whose prepared text is also in the held-out set (a common short phrase
    written independently in both must not let the held-out measurement see a training text)."""
    seen: set[str] = {prepare(example.text) for example in held_out_examples()}
    out: list[Example] = []
    for example in examples:
        key = prepare(example.text)
        if key and key not in seen:
            seen.add(key)
            out.append(example)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moderation.train", description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the weights file")
    parser.add_argument("-c", type=float, default=C, help="inverse regularisation strength")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    meta = train(args.out, args.c, args.seed)
    overall = meta["cross_validation"]["by_category"]["all"]
    print(
        f"grouped {FOLDS}-fold cross-validation: precision {overall['precision']:.3f} recall {overall['recall']:.3f}"
        f" F1 {overall['f1']:.3f}; weights written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
