"""The crisis decision: hold, review or nothing, from the rules' verdict and the model's probability (pure)."""

from __future__ import annotations

from moderation.crisis_rules import CrisisResult
from moderation.model import Thresholds


def decide(
    rules: CrisisResult,
    probability: float,
    thresholds: Thresholds,
    *,
    rule_high_holds: bool = True,
) -> tuple[bool, bool]:
    """(hold, review) from the rules' verdict and the model's probability.

    A critical rule (plan, means, stated intent) always holds. The model holds at or above the hold threshold. A
    rule of high severity (a death wish, self-harm) holds on its own when ``rule_high_holds``; otherwise it needs the
    model to reach the review threshold. Everything else that the rules mark for care (the writer's past, someone
    else) or that reaches the review threshold goes to a peer expert without a hold.
    """
    if rules.flagged and rules.severity == "critical":
        return True, False
    if probability >= thresholds.hold:
        return True, False
    if rules.flagged and (rule_high_holds or probability >= thresholds.review):
        return True, False
    review = probability >= thresholds.review or rules.needs_review or rules.flagged
    return False, review
