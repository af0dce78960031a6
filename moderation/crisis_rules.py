"""Crisis rules: explicit Dutch and English expressions of suicidal intent, plans, means and self-harm (pure,
precompiled). They catch what must never be missed and name it for staff; the trained model (moderation.model) covers
the wording the rules do not know. moderation.crisis combines both."""

from __future__ import annotations

import math
from dataclasses import dataclass

from moderation.crisis_anchors import _ANCHORED, _ANCHORS, _Marker  # noqa: F401  (_ANCHORS: for the tests)
from moderation.crisis_patterns import (
    _ANY_EXPLICIT,
    _BY_CATEGORY,
    _COMPILED,
    _FIRST_PERSON,
    _INFORMATION,
    _KEYWORD,
    _NEGATION_WORD,
    _OTHER_PERSON,
    _PAST,
    _PRESENT,
    _SOON,
    _SUBJECT_FIRST,
    CrisisCategory,
)
from moderation.text import plain_sentences
from moderation.tiers import Severity, max_severity, severity_rank

# Bumped whenever the rules, the weights or the thresholds change; releases and confirmations are counted per version.
# The model's own version is added to it by moderation.crisis.
RULES_VERSION = "rules-2"

# Long texts are examined in full, but one line of input is capped so a hostile paste stays fast.
MAX_TEXT_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class CrisisResult:
    """What the detector found; never a copy of the text.

    ``flagged`` means: hold the message, show crisis resources, alert a professional.
    An unflagged result can still carry a severity (past experiences, someone else at risk) so that
    a peer expert may take a look without holding anything.
    """

    flagged: bool
    severity: Severity | None = None
    category: CrisisCategory | None = None
    # The model's probability that the text must be flagged (0.0 when no model ran).
    score: float = 0.0
    # Why, in plain words for staff: the rule that fired, or the strongest features of the model.
    reasons: tuple[str, ...] = ()
    version: str = RULES_VERSION

    @property
    def needs_review(self) -> bool:
        return self.severity is not None


NOT_FLAGGED = CrisisResult(flagged=False)

_SEVERITY_OF: dict[CrisisCategory, Severity] = {
    "plan": "critical",
    "intent": "critical",
    "ideation": "high",
    "self_harm": "high",
    "past": "medium",
    "other_person": "medium",
}


def _sentences(text: str) -> list[str]:
    return list(plain_sentences(text[:MAX_TEXT_CHARS]))


def _negated_before(sentence: str, start: int) -> bool:
    before = sentence[:start].split()[-3:]
    return any(_NEGATION_WORD.fullmatch(word) for word in before)


def _worst(results: list[CrisisResult]) -> CrisisResult:
    best = NOT_FLAGGED
    for result in results:
        if result.severity is None:
            continue
        if best.severity is None or (result.flagged, severity_rank(result.severity)) > (
            best.flagged,
            severity_rank(best.severity),
        ):
            best = result
    return best


def _explicit(sentence: str) -> CrisisCategory | None:
    if _ANCHORED is None:
        return _explicit_by_scan(sentence)
    candidates = _ANCHORED.candidates(set(sentence.split()))
    if not candidates:
        return None
    found: CrisisCategory | None = None
    for index in candidates:
        category, pattern = _COMPILED[index]
        if found is not None and severity_rank(_SEVERITY_OF[category]) <= severity_rank(_SEVERITY_OF[found]):
            continue
        match = pattern.search(sentence)
        while match is not None:
            if _SUBJECT_FIRST.match(match.group(0)) or not _negated_before(sentence, match.start()):
                found = category
                break
            match = pattern.search(sentence, match.start() + 1)
    return found


def _explicit_by_scan(sentence: str) -> CrisisCategory | None:
    """The same answer as ``_explicit`` from the combined alternations (the reference the prefilter is tested on)."""
    if _ANY_EXPLICIT.search(sentence) is None:
        return None
    for category, pattern in _BY_CATEGORY:
        match = pattern.search(sentence)
        while match is not None:
            if _SUBJECT_FIRST.match(match.group(0)) or not _negated_before(sentence, match.start()):
                return category
            match = pattern.search(sentence, match.start() + 1)
    return None


def _is_past(sentence: str) -> bool:
    return bool(_PAST.search(sentence)) and not _PRESENT.search(sentence)


def _judge(sentence: str) -> CrisisResult:
    category = _explicit(sentence)
    if category is not None:
        if _is_past(sentence):
            return CrisisResult(flagged=False, severity="medium", category="past")
        severity = _SEVERITY_OF[category]
        if severity == "high" and _SOON.search(sentence):
            return CrisisResult(flagged=True, severity="critical", category=category)
        return CrisisResult(flagged=True, severity=severity, category=category)
    if _KEYWORD_MARKER.anchors is not None and _KEYWORD_MARKER.anchors.isdisjoint(sentence.split()):
        return NOT_FLAGGED
    keyword = _KEYWORD.search(sentence)
    if keyword is None:
        return NOT_FLAGGED
    if _NEGATION_WORD.search(sentence[: keyword.start()]):
        return NOT_FLAGGED
    if _OTHER_PERSON.search(sentence):
        return CrisisResult(flagged=False, severity="medium", category="other_person")
    if _is_past(sentence):
        return CrisisResult(flagged=False, severity="medium", category="past")
    if _INFORMATION.search(sentence):
        return NOT_FLAGGED
    words = sentence.split()
    if _FIRST_PERSON.search(sentence) or len(words) <= 3:
        kind: CrisisCategory = "self_harm" if _is_self_harm_word(keyword.group(0)) else "ideation"
        return CrisisResult(flagged=True, severity="high", category=kind)
    return NOT_FLAGGED


def _is_self_harm_word(word: str) -> bool:
    return word.startswith(("zelfbeschadiging", "zelfverwonding", "automutilatie", "self"))


@dataclass(frozen=True, slots=True)
class Signals:
    """What the rules saw in a text, beyond their verdict: the inputs of the combining step (moderation.decision)."""

    critical: bool  # an explicit plan, means or stated intent
    high: bool  # an explicit death wish or self-harm, or a keyword in the first person
    past: bool  # the rules judged it the writer's past
    other: bool  # the rules judged it about someone else
    past_marker: bool  # a word of the past anywhere ("vroeger", "years ago")
    other_marker: bool  # someone else named anywhere ("mijn zus", "a friend")
    information: bool  # news, a book, prevention, 113, "how can I help"
    soon: bool  # a time word ("vanavond", "tonight")
    keyword: bool  # a word that names suicide or self-harm
    first_person: bool
    sentences: int
    words: int

    def vector(self) -> list[float]:
        """The signals as numbers, in the order of SIGNAL_NAMES."""
        return [
            float(self.critical),
            float(self.high),
            float(self.past),
            float(self.other),
            float(self.past_marker),
            float(self.other_marker),
            float(self.information),
            float(self.soon),
            float(self.keyword),
            float(self.first_person),
            math.log1p(self.sentences),
            math.log1p(self.words),
        ]


SIGNAL_NAMES = (
    "critical",
    "high",
    "past",
    "other",
    "past_marker",
    "other_marker",
    "information",
    "soon",
    "keyword",
    "first_person",
    "log_sentences",
    "log_words",
)


def analyse(text: str) -> tuple[CrisisResult, Signals]:
    """The rules' verdict on one text and the signals behind it; deterministic and free of I/O."""
    result = judge_rules(text)
    return result, signals_of(text, result)


def shape(text: str) -> tuple[int, int]:
    """(sentences, words) of a text as the rules read it."""
    sentences = _sentences(text)
    return len(sentences), sum(sentence.count(" ") + 1 for sentence in sentences)


_PAST_MARKER = _Marker(_PAST)
_OTHER_MARKER = _Marker(_OTHER_PERSON)
_INFORMATION_MARKER = _Marker(_INFORMATION)
_SOON_MARKER = _Marker(_SOON)
_KEYWORD_MARKER = _Marker(_KEYWORD)
_FIRST_PERSON_MARKER = _Marker(_FIRST_PERSON)


def keyword_words() -> frozenset[str]:
    """The words that name suicide or self-harm on their own (as the keyword rule reads them)."""
    return _KEYWORD_MARKER.anchors or frozenset()


def signals_of(text: str, result: CrisisResult) -> Signals:
    """The signals of a text, given the rules' verdict on it."""
    sentences = _sentences(text)
    # No marker pattern can span a line end, so one scan of the joined sentences answers "in any sentence?".
    joined = "\n".join(sentences)
    words = set(joined.split())
    return Signals(
        critical=result.flagged and result.severity == "critical",
        high=result.flagged and result.severity == "high",
        past=result.category == "past",
        other=result.category == "other_person",
        past_marker=_PAST_MARKER.found_in(joined, words),
        other_marker=_OTHER_MARKER.found_in(joined, words),
        information=_INFORMATION_MARKER.found_in(joined, words),
        soon=_SOON_MARKER.found_in(joined, words),
        keyword=_KEYWORD_MARKER.found_in(joined, words),
        first_person=_FIRST_PERSON_MARKER.found_in(joined, words),
        sentences=len(sentences),
        words=joined.count(" ") + len(sentences),
    )


def judge_rules(text: str) -> CrisisResult:
    """The rules' verdict on one text; deterministic and free of I/O."""
    return _worst([_judge(sentence) for sentence in _sentences(text)])


def combine(*results: CrisisResult) -> CrisisResult:
    """The most serious of several results (e.g. a title and a body)."""
    return _worst(list(results))


def worst_severity(results: list[CrisisResult]) -> Severity | None:
    """The highest severity among results, or None."""
    severity: Severity | None = None
    for result in results:
        if result.severity is not None:
            severity = result.severity if severity is None else max_severity(severity, result.severity)
    return severity
