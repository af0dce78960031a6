"""Crisis detection: one decision from the rules and the trained model — hold and alert, review, or nothing.

Layers (docs/decisions/0006, 0014, 0015): the text is normalised (moderation.text); the rules
(moderation.crisis_rules) catch explicit plans, means and intent and name them; the trained linear model
(moderation.model, weights in moderation/data/crisis_model.json.gz) covers the wording the rules do not know. A message
is held when a critical rule fires or the model's probability reaches the hold threshold; below that, a review band
puts it before a peer expert without holding anything. Pure, deterministic, no I/O after the weights are loaded at
import (a missing or damaged weights file stops the import: the server must not run without its detector).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Sequence

from moderation.crisis_patterns import CrisisCategory
from moderation.crisis_rules import (
    NOT_FLAGGED,
    RULES_VERSION,
    CrisisResult,
    combine,
    judge_rules,
    shape,
    signals_of,
    worst_severity,
)
from moderation.decision import decide
from moderation.features import SLANG_SOURCES, prepare_sentences
from moderation.i18n import N_
from moderation.model import CrisisModel, load
from moderation.text import fold
from moderation.tiers import Severity

__all__ = [
    "DETECTOR_VERSION",
    "NOT_FLAGGED",
    "CrisisCategory",
    "CrisisResult",
    "combine",
    "decide",
    "detect",
    "detect_recent",
    "judge_rules",
    "main",
    "worst_severity",
]

MODEL: CrisisModel = load()
# Releases and confirmations are counted per version: the rules' and the weights' together.
DETECTOR_VERSION = f"{RULES_VERSION}+{MODEL.version}"
# How many of an author's recent lines in one channel are judged together.
RECENT_LINES = 5

_RULE_REASON: dict[str, str] = {
    "plan": N_("regel: een plan, middel of plaats genoemd"),
    "intent": N_("regel: voornemen om een eind aan het leven te maken"),
    "ideation": N_("regel: doodswens of suïcidale gedachten"),
    "self_harm": N_("regel: zelfbeschadiging"),
    "past": N_("regel: over het eigen verleden"),
    "other_person": N_("regel: over iemand anders"),
}


@functools.lru_cache(maxsize=4096)
def _written_form(word: str) -> re.Pattern[str]:
    """A prepared word as it may have been written: each letter once or more, as a whole word."""
    letters = "".join(f"{re.escape(ch)}+" for ch in word)
    return re.compile(rf"(?<![a-z0-9]){letters}(?![a-z0-9])")


def _as_written(text: str, prepared_words: list[str]) -> list[str]:
    """The words as the author wrote them (lower case) for prepared words ("klar" → "klaar"), where one is found."""
    folded = fold(text)
    out: list[str] = []
    for wanted in prepared_words:
        found = None
        # A prepared word is the written one with every letter run shortened, or slang spelled out.
        for source in (wanted, *SLANG_SOURCES.get(wanted, ())):
            found = _written_form(source).search(folded)
            if found:
                break
        out.append(found.group(0) if found else wanted)
    return out


def _model_reasons(model: CrisisModel, text: str, prepared: tuple[str, ...], probability: float) -> tuple[str, ...]:
    reasons = [N_("model: %s (vasthouden vanaf %s)") % (f"{probability:.0%}", f"{model.thresholds.hold:.0%}")]
    strongest = [word for word, _ in model.strongest_words(prepared)]
    if strongest:
        reasons.append(N_("sterkste woorden: %s") % ", ".join(f"'{word}'" for word in _as_written(text, strongest)))
    return tuple(reasons)


def _judge(text: str, prepared: tuple[str, ...], model: CrisisModel) -> CrisisResult:
    rules = judge_rules(text)
    probability = model.probability(prepared)
    # Most messages: nothing the rules saw, and even the most alarming markers could not lift the combined
    # probability into the review band; skip looking for them (the answer is the same).
    if rules.severity is None and model.combiner.upper_bound(probability, *shape(text)) < model.thresholds.review:
        return CrisisResult(False, None, None, 0.0, (), DETECTOR_VERSION)
    signals = signals_of(text, rules)
    combined = model.combiner.probability(probability, signals)
    hold, review = decide(signals, combined, model.thresholds, needs_review=rules.needs_review)
    if hold and not rules.flagged and len(prepared) == 1 and prepared[0] in model.everyday_words:
        hold, review = False, True  # one everyday word ("leven", "afscheid") is not a crisis message on its own
    score = round(combined, 4)
    if not (hold or review):
        return CrisisResult(False, None, None, score, (), DETECTOR_VERSION)
    reasons: list[str] = []
    if rules.category is not None and rules.category in _RULE_REASON:
        reasons.append(_RULE_REASON[rules.category])
    if combined >= model.thresholds.review or not reasons:
        reasons.extend(_model_reasons(model, text, prepared, combined))
    if hold:
        severity: Severity = rules.severity if rules.flagged and rules.severity is not None else "high"
        if signals.soon:
            severity = "critical"
        category: CrisisCategory = rules.category if rules.flagged and rules.category is not None else "model"
        return CrisisResult(True, severity, category, score, tuple(reasons), DETECTOR_VERSION)
    category = rules.category if rules.category is not None else "model"
    return CrisisResult(False, "medium", category, score, tuple(reasons), DETECTOR_VERSION)


def detect(text: str) -> CrisisResult:
    """Judge one text. ``reasons`` may quote words of the text: show them to staff, never write them to a log."""
    return _judge(text, prepare_sentences(text), MODEL)


def detect_recent(texts: Sequence[str]) -> CrisisResult:
    """Judge an author's last few lines in one channel together (a goodbye or a plan spread over short lines).

    Each line is also judged alone by ``detect``; this catches what only the lines together say."""
    recent = [text for text in texts[-RECENT_LINES:] if text.strip()]
    if not recent:
        return CrisisResult(False, version=DETECTOR_VERSION)
    joined = "\n".join(recent)
    result = _judge(joined, prepare_sentences(joined), MODEL)
    if result.flagged or result.needs_review:
        category: CrisisCategory = "context" if result.category == "model" else result.category or "context"
        return CrisisResult(
            result.flagged,
            result.severity,
            category,
            result.score,
            (N_("samen met eerdere berichten"), *result.reasons),
            DETECTOR_VERSION,
        )
    return result


def main() -> int:
    """Contract: one text per line on stdin, ``1`` (hold and alert) or ``0`` per line on stdout, flushed per line."""
    stdin = sys.stdin.buffer
    for raw in iter(stdin.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        sys.stdout.write("1\n" if detect(line).flagged else "0\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
