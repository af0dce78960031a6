"""The trained crisis model at run time: a linear model over hashed-free feature names, scored in pure Python.

The weights file is written by ``python -m moderation.train``; loading it needs neither scikit-learn nor numpy.
A text's score is ``sigmoid(bias + sum(weight[f] * count[f]) / sqrt(number of feature occurrences))``, exactly
the scaling the training used. Per word, the sum of its character n-gram weights is cached, so a message costs
one cache look-up per word plus one dictionary look-up per word pair.
"""

from __future__ import annotations

import gzip
import heapq
import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moderation.decision import COMBINER_INPUTS, Combiner, Thresholds
from moderation.features import word_ngrams

MODEL_PATH = Path(__file__).resolve().parent / "data" / "crisis_model.json.gz"
FORMAT = 1
_WORD_CACHE_SIZE = 50_000


class ModelFileError(ValueError):
    """The weights file is missing, damaged or of another format."""


class CrisisModel:
    """A loaded linear model; thread-safe for reading, with a bounded per-word cache."""

    __slots__ = ("_bigram_firsts", "_cache", "bias", "combiner", "everyday_words", "thresholds", "version", "weights")

    def __init__(
        self,
        version: str,
        bias: float,
        weights: dict[str, float],
        thresholds: Thresholds,
        combiner: Combiner,
        everyday_words: frozenset[str] = frozenset(),
    ) -> None:
        if not 0.0 < thresholds.review <= thresholds.hold < 1.0:
            raise ModelFileError("thresholds must satisfy 0 < review <= hold < 1")
        self.version = version
        self.bias = bias
        self.weights = weights
        self.thresholds = thresholds
        self.combiner = combiner
        # Words of everyday chat: alone, such a word is never held on the model's word (label policy 0014).
        self.everyday_words = everyday_words
        # The first words of the word pairs that carry a weight: other pairs need no look-up.
        self._bigram_firsts = frozenset(name[2:].split(" ", 1)[0] for name in weights if name.startswith("b:"))
        self._cache: dict[str, tuple[float, int]] = {}

    def _word(self, word: str) -> tuple[float, int]:
        get = self.weights.get
        grams = word_ngrams(word)
        total = 0.0
        for gram in grams:
            total += get(gram, 0.0)
        result = (total, len(grams))
        if len(self._cache) >= _WORD_CACHE_SIZE:
            self._cache.clear()  # crude, but a full cache means an unusual flood of new words; it refills at once
        self._cache[word] = result
        return result

    def _sentence(self, sentence: str) -> tuple[float, int]:
        words = sentence.split()
        cache = self._cache
        total = 0.0
        count = 0
        for word in words:
            hit = cache.get(word)
            if hit is None:
                hit = self._word(word)
            total += hit[0]
            count += hit[1]
        if len(words) > 1:
            get = self.weights.get
            firsts = self._bigram_firsts
            total += sum([get(f"b:{a} {b}", 0.0) for a, b in itertools.pairwise(words) if a in firsts])
            count += len(words) - 1
        return total, count

    def margin(self, sentences: Sequence[str]) -> float | None:
        """The linear score before the sigmoid; None for a text without words."""
        total = 0.0
        count = 0
        for sentence in sentences:
            part, n = self._sentence(sentence)
            total += part
            count += n
        if not count:
            return None
        return self.bias + total / math.sqrt(count)

    def probability(self, sentences: Sequence[str]) -> float:
        """The model's probability that prepared sentences must be flagged (0.0 for a text without words)."""
        margin = self.margin(sentences)
        if margin is None or margin < -35.0 or not any(len(w) > 1 for s in sentences for w in s.split()):
            return 0.0  # no words, or only single characters ("xxxx", "? ? ?"): nothing the model can read
        return 1.0 / (1.0 + math.exp(-margin))

    def strongest_words(self, sentences: Sequence[str], limit: int = 3) -> list[tuple[str, float]]:
        """The words that pushed the score up most, strongest first (for staff; never stored or logged)."""
        cache = self._cache
        contributions = {
            word: (cache.get(word) or self._word(word))[0] for sentence in sentences for word in sentence.split()
        }
        return heapq.nlargest(limit, ((w, c) for w, c in contributions.items() if c > 0), key=lambda item: item[1])


def to_document(model: CrisisModel, meta: dict[str, Any]) -> dict[str, Any]:
    """The JSON document of a model: sorted, rounded, so the same training gives the same bytes."""
    return {
        "format": FORMAT,
        "version": model.version,
        "bias": round(model.bias, 6),
        "thresholds": {"hold": model.thresholds.hold, "review": model.thresholds.review},
        "combiner": {
            "inputs": list(COMBINER_INPUTS),
            "weights": [round(w, 6) for w in model.combiner.weights],
            "bias": round(model.combiner.bias, 6),
        },
        "meta": meta,
        "everyday_words": sorted(model.everyday_words),
        "weights": {name: round(weight, 5) for name, weight in sorted(model.weights.items())},
    }


def write(model: CrisisModel, meta: dict[str, Any], path: Path = MODEL_PATH) -> None:
    """Write the weights file deterministically (gzip without a timestamp)."""
    raw = json.dumps(to_document(model, meta), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    path.write_bytes(gzip.compress(raw.encode("utf-8"), compresslevel=9, mtime=0))


def load(path: Path = MODEL_PATH) -> CrisisModel:
    """Read a weights file; raises ModelFileError with a reason when it cannot be used."""
    try:
        document = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    except (OSError, ValueError, EOFError) as exc:
        raise ModelFileError(f"cannot read the crisis model {path.name}: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{path.name} is not a crisis model of format {FORMAT}")
    try:
        weights = {str(name): float(value) for name, value in document["weights"].items()}
        thresholds = Thresholds(float(document["thresholds"]["hold"]), float(document["thresholds"]["review"]))
        combiner_document = document["combiner"]
        if tuple(combiner_document["inputs"]) != COMBINER_INPUTS:
            raise ModelFileError(f"{path.name} combines other inputs than this code computes: retrain")
        combiner = Combiner(tuple(float(w) for w in combiner_document["weights"]), float(combiner_document["bias"]))
        everyday = frozenset(str(word) for word in document["everyday_words"])
        return CrisisModel(str(document["version"]), float(document["bias"]), weights, thresholds, combiner, everyday)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{path.name} lacks a field or has a wrong value: {exc}") from exc


def read_meta(path: Path = MODEL_PATH) -> dict[str, Any]:
    """The training metadata stored beside the weights (corpus size, cross-validation figures)."""
    document = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    meta = document.get("meta", {})
    return meta if isinstance(meta, dict) else {}
