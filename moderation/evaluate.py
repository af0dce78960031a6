"""Measure the crisis detector: ``python -m moderation.evaluate``.

Prints precision, recall and F1 overall, per category and per language, for the grouped cross-validation of the
training corpus (computed by ``python -m moderation.train`` and stored with the weights) and for the held-out set
(computed now, with the shipped detector). For must-not-flag categories the interesting figure is the false-positive
count: their recall is meaningless. The misjudged texts of the held-out set are never printed: looking at them would
be tuning on it. Other labelled files may be given as arguments, with ``--show-errors``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from moderation.corpus import HELD_OUT_SET, MUST_FLAG, Example, load, scores_by
from moderation.crisis import DETECTOR_VERSION, detect
from moderation.model import read_meta

Table = Mapping[str, Mapping[str, float]]


def flags_of(examples: Sequence[Example]) -> list[bool]:
    return [detect(example.text).flagged for example in examples]


def measure(examples: Sequence[Example]) -> tuple[Table, Table]:
    """(by category, by language) for the shipped detector."""
    flags = flags_of(examples)
    return scores_by(examples, flags, "category"), scores_by(examples, flags, "lang")


def format_table(title: str, by_category: Table, by_lang: Table) -> str:
    overall = by_category["all"]
    lines = [
        f"{title}: {int(overall['n'])} texts",
        f"  overall   precision {overall['precision']:.3f}  recall {overall['recall']:.3f}  F1 {overall['f1']:.3f}"
        f"  (tp {int(overall['tp'])}, fp {int(overall['fp'])}, tn {int(overall['tn'])}, fn {int(overall['fn'])})",
        "  must-flag categories: recall",
    ]
    for name, cell in by_category.items():
        if name in MUST_FLAG or (name.startswith("legacy_") and cell["tp"] + cell["fn"] > 0):
            lines.append(f"    {name:<16} {cell['recall']:.3f}  ({int(cell['tp'])}/{int(cell['tp'] + cell['fn'])})")
    lines.append("  must-not-flag categories: false positives")
    for name, cell in by_category.items():
        if name != "all" and name not in MUST_FLAG and cell["tp"] + cell["fn"] == 0:
            lines.append(f"    {name:<16} {int(cell['fp'])}/{int(cell['fp'] + cell['tn'])}")
    lines.append("  per language")
    for name, cell in by_lang.items():
        if name != "all":
            lines.append(
                f"    {name:<4} precision {cell['precision']:.3f}  recall {cell['recall']:.3f}  F1 {cell['f1']:.3f}"
                f"  (n {int(cell['n'])})"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moderation.evaluate", description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path, help="other labelled TSV files to measure")
    parser.add_argument("--show-errors", action="store_true", help="print the misjudged texts of the given files")
    args = parser.parse_args(argv)
    print(f"detector {DETECTOR_VERSION}")
    if not args.paths:
        cv = read_meta().get("cross_validation", {})
        if cv:
            print(
                format_table(
                    "training corpus, grouped cross-validation (out-of-fold)", cv["by_category"], cv["by_lang"]
                )
            )
            print(f"  hidden spellings of must-flag texts, out-of-fold recall {cv['hidden_spelling_recall']:.3f}")
        print(format_table(f"held-out set {HELD_OUT_SET.name}", *measure(load(HELD_OUT_SET))))
    for path in args.paths:
        if path.resolve() == HELD_OUT_SET.resolve() and args.show_errors:
            parser.error("the held-out set's errors are not shown: looking at them would be tuning on it")
        examples = load(path)
        print(format_table(path.name, *measure(examples)))
        if args.show_errors:
            for example, flag in zip(examples, flags_of(examples), strict=True):
                if flag != example.label:
                    print(f"  {'missed' if example.label else 'false alarm'} [{example.category}] {example.text}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
