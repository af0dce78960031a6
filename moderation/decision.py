"""The crisis decision: hold, review or nothing, from the rules and the model's probability (pure).

The combining step is a second, small logistic regression (trained by ``python -m moderation.train`` on
out-of-fold model scores, so it learns how far to trust the model) over the model's log-odds and the rules' signals
(moderation.crisis_rules.Signals): an explicit plan, a death wish, a story of the past, someone else, news or
prevention, a time word. A critical rule (plan, means, stated intent) always holds, whatever the numbers say.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from moderation.crisis_rules import SIGNAL_NAMES, Signals

COMBINER_INPUTS = ("model_logit", *SIGNAL_NAMES)
_MODEL = COMBINER_INPUTS.index("model_logit")
_LOG_SENTENCES = COMBINER_INPUTS.index("log_sentences")
_LOG_WORDS = COMBINER_INPUTS.index("log_words")
# The signals that only the marker scans find (the rules' verdict itself is known before them).
_MARKERS = tuple(
    COMBINER_INPUTS.index(name)
    for name in ("past_marker", "other_marker", "information", "soon", "keyword", "first_person")
)
_LOGIT_BOUND = 12.0


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Hold at or above ``hold``; put before a peer expert at or above ``review``."""

    hold: float
    review: float


@dataclass(frozen=True, slots=True)
class Combiner:
    """Weights over COMBINER_INPUTS and a bias; ``weights`` has one entry per input."""

    weights: tuple[float, ...]
    bias: float

    def __post_init__(self) -> None:
        if len(self.weights) != len(COMBINER_INPUTS):
            raise ValueError(f"a combiner needs {len(COMBINER_INPUTS)} weights, got {len(self.weights)}")

    def upper_bound(self, model_probability: float, sentences: int, words: int) -> float:
        """For a text on which the rules found nothing: the highest combined probability its markers could still give,
        knowing the model and the text's size. Below the review threshold the markers need not be looked for."""
        w = self.weights
        margin = self.bias + w[_MODEL] * logit(model_probability)
        margin += w[_LOG_SENTENCES] * math.log1p(sentences) + w[_LOG_WORDS] * math.log1p(words)
        for index in _MARKERS:
            if w[index] > 0.0:
                margin += w[index]
        return 1.0 / (1.0 + math.exp(-max(-35.0, min(35.0, margin))))

    def probability(self, model_probability: float, signals: Signals) -> float:
        margin = self.bias + sum(w * x for w, x in zip(self.weights, inputs(model_probability, signals), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-35.0, min(35.0, margin))))


def logit(probability: float) -> float:
    """Log-odds, bounded so a probability of 0 or 1 stays a finite input."""
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return max(-_LOGIT_BOUND, min(_LOGIT_BOUND, math.log(p / (1 - p))))


def inputs(model_probability: float, signals: Signals) -> Sequence[float]:
    return [logit(model_probability), *signals.vector()]


def decide(
    signals: Signals, combined: float, thresholds: Thresholds, *, needs_review: bool = False
) -> tuple[bool, bool]:
    """(hold, review) from the rules' signals and the combined probability.

    A critical rule always holds. At or above the hold threshold the message is held. Below it, the review band,
    and whatever the rules mark for care (the writer's past, someone else), go before a peer expert without a hold.
    """
    if signals.critical or combined >= thresholds.hold:
        return True, False
    return False, combined >= thresholds.review or needs_review
