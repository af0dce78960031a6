"""Measure the crisis detector on the labelled sentence sets: precision, recall, F1 and the confusion matrix."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from moderation.crisis import detect

DATA_DIR = Path(__file__).resolve().parent / "data"
MAIN_SET = DATA_DIR / "crisis_sentences.tsv"
HELD_OUT_SET = DATA_DIR / "crisis_heldout.tsv"


@dataclass(frozen=True, slots=True)
class LabelledSentence:
    label: bool
    lang: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Scores:
    true_positive: int
    false_positive: int
    true_negative: int
    false_negative: int

    @property
    def precision(self) -> float:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        positive = self.true_positive + self.false_negative
        return self.true_positive / positive if positive else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def total(self) -> int:
        return self.true_positive + self.false_positive + self.true_negative + self.false_negative


def load(path: Path) -> list[LabelledSentence]:
    """Read ``label<TAB>lang<TAB>kind<TAB>text`` lines; ``#`` starts a comment line."""
    sentences: list[LabelledSentence] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t", 3)
        if len(parts) != 4 or parts[0] not in ("0", "1"):
            raise ValueError(f"{path.name}:{number}: expected label, lang, kind and text separated by tabs")
        sentences.append(LabelledSentence(parts[0] == "1", parts[1], parts[2], parts[3]))
    return sentences


def score(sentences: Iterable[LabelledSentence]) -> tuple[Scores, list[LabelledSentence]]:
    """Scores and the misjudged sentences."""
    tp = fp = tn = fn = 0
    wrong: list[LabelledSentence] = []
    for sentence in sentences:
        flagged = detect(sentence.text).flagged
        if flagged and sentence.label:
            tp += 1
        elif flagged:
            fp += 1
            wrong.append(sentence)
        elif sentence.label:
            fn += 1
            wrong.append(sentence)
        else:
            tn += 1
    return Scores(tp, fp, tn, fn), wrong


def report(name: str, scores: Scores) -> str:
    """A short human-readable report."""
    return "\n".join(
        (
            f"{name}: {scores.total} sentences",
            f"  precision {scores.precision:.3f}  recall {scores.recall:.3f}  F1 {scores.f1:.3f}",
            "  confusion matrix (rows: label, columns: detector)",
            "              flag  no flag",
            f"  crisis    {scores.true_positive:6d} {scores.false_negative:8d}",
            f"  no crisis {scores.false_positive:6d} {scores.true_negative:8d}",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moderation.evaluate", description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path, help="labelled TSV files (default: main and held-out sets)")
    parser.add_argument("--show-errors", action="store_true", help="print the misjudged sentences")
    args = parser.parse_args(argv)
    paths: list[Path] = args.paths or [MAIN_SET, HELD_OUT_SET]
    for path in paths:
        scores, wrong = score(load(path))
        print(report(path.name, scores))
        if args.show_errors:
            for sentence in wrong:
                print(f"  {'missed' if sentence.label else 'false alarm'} [{sentence.kind}] {sentence.text}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
