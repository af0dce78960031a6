"""Per-flavour moderation rules: word lists, patterns, body numbers, contact details, links and pre-moderation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

from moderation.crisis import CrisisResult, detect, detect_recent
from moderation.i18n import N_
from moderation.text import normalize, skeleton
from moderation.tiers import Severity, Tier

Action = Literal["allow", "hold", "block"]
PlaceKind = Literal["room", "forum", "spreekuur_question", "one_on_one"]
RuleName = Literal[
    "crisis",
    "crisis_review",
    "blocked_word",
    "blocked_pattern",
    "body_numbers",
    "contact_details",
    "link_limit",
    "premoderation",
]

# Live rooms and 1-on-1 chats cannot wait for a moderator; pre-moderation of new accounts holds posts and questions.
PREMODERATED_PLACES: frozenset[PlaceKind] = frozenset({"forum", "spreekuur_question"})
_ACTION_RANK: dict[Action, int] = {"allow": 0, "hold": 1, "block": 2}

REASON_WORD = N_("Je bericht bevat een woord of uitdrukking die we hier niet gebruiken. Pas je bericht aan.")
REASON_PATTERN = N_("Je bericht wordt eerst bekeken door een moderator voordat het zichtbaar wordt.")
REASON_BODY_NUMBERS = N_(
    "We delen hier geen cijfers over gewicht, BMI, calorieën of kledingmaten, omdat die voor anderen schadelijk "
    "kunnen zijn. Pas je bericht aan en probeer het opnieuw."
)
REASON_CONTACT = N_(
    "Deel hier geen contactgegevens zoals een telefoonnummer, e-mailadres of account op sociale media. "
    "Zo blijft iedereen anoniem en veilig."
)
REASON_LINKS = N_("Nieuwe accounts mogen nog niet zoveel links plaatsen. Een moderator bekijkt je bericht eerst.")
REASON_PREMODERATION = N_(
    "Omdat je account nog nieuw is, bekijkt een moderator je bericht voordat het zichtbaar wordt."
)
# Shown to staff when a message is flagged only together with the author's previous lines in the same channel.
CONTEXT_REASON = N_("Samen met de vorige berichten van deze schrijver in hetzelfde kanaal")
REASON_CRISIS = N_(
    "Je bericht is even tegengehouden zodat iemand van ons team met je mee kan kijken. Je staat er niet alleen voor."
)


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """A flavour's moderation settings; mirrors ``ModerationRules`` in the flavour files."""

    blocked_words: tuple[str, ...] = ()
    blocked_patterns: tuple[str, ...] = ()
    no_body_numbers: bool = False
    block_contact_details: bool = True
    max_links_new_account: int = 0
    premoderate_new_accounts: bool = True
    new_account_days: int = 7


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Who writes where. ``account_age_days`` is None for a guest (always treated as new)."""

    place: PlaceKind
    account_age_days: float | None = None
    peer_to_peer: bool = True
    staff_author: bool = False

    def is_new(self, settings: RuleSettings) -> bool:
        return self.account_age_days is None or self.account_age_days < settings.new_account_days


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that matched; ``detail`` describes what matched without repeating the author's text."""

    rule: RuleName
    severity: Severity
    tier: Tier
    action: Action
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    hits: tuple[RuleHit, ...] = ()
    crisis: CrisisResult = field(default_factory=lambda: CrisisResult(flagged=False))

    @property
    def reason(self) -> str | None:
        """The Dutch reason to show the author for a hold or a block, or None when allowed."""
        for hit in self.hits:
            if hit.action == self.action and self.action != "allow":
                return hit.reason
        return None


# --- body numbers (Proud2Bme) ---------------------------------------------------------------------------------

_NUMBER = r"\d+(?:[.,]\d+)?"
_NUMBER_WORD = (
    r"[a-z]*(?:een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|twintig|dertig|veertig|vijftig|zestig|zeventig"
    r"|tachtig|negentig|honderd|duizend)"
)
_UNITS = (
    r"(?:kg|kilo'?s?|kilogram|kilogrammen|gram|gr|pond|ponden|lbs?|pounds?|stone|kcal|calorie(?:en|ën|s)?"
    r"|calories|calorieen|cal|kj|kilojoule)"
)
_BODY_NUMBERS = re.compile(
    "|".join(
        (
            rf"(?<![\w.,]){_NUMBER}\s*{_UNITS}(?!\w)",
            rf"(?<!\w){_NUMBER_WORD}\s+{_UNITS}(?!\w)",
            rf"(?<!\w)bmi\s*(?:van|is|was|of|=|:|rond|onder|boven|nog|maar|nu)?\s*(?:de\s+)?{_NUMBER}",
            rf"(?<![\w.,]){_NUMBER}\s*(?:is\s+)?(?:mijn\s+|my\s+)?bmi(?!\w)",
            r"(?<!\w)(?:maat|maatje|size|confectiemaat|jeansmaat|broekmaat|kledingmaat)\s*(?:\d{1,2}|xxs|xs|zero)(?!\w)",
            rf"(?<!\w)(?:weeg|woog|wegen|weegt|weigh|weighs|weighed|weight\s+(?:is|was))\s+(?:\w+\s+){{0,2}}{_NUMBER}",
        )
    )
)

# --- contact details ------------------------------------------------------------------------------------------

_SEP = r"[\s.\-/]?"
_PHONE = re.compile(
    rf"(?<![\w+])(?:(?:\+|00)\s?31{_SEP}(?:\(0\))?{_SEP}[1-9](?:{_SEP}\d){{8}}"
    rf"|0[1-9](?:{_SEP}\d){{8}}"
    rf"|\+\s?\d{{1,3}}(?:{_SEP}\d){{7,12}})(?!\d)"
)
_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}")
_EMAIL_OBFUSCATED = re.compile(
    r"(?<!\w)[a-z0-9._%+\-]{2,}\s*(?:\(at\)|\[at\]|\{at\}|\sat\s|\sapenstaartje\s|\s@\s)\s*[a-z0-9\-]{2,}\s*"
    r"(?:\.|\(dot\)|\[dot\]|\(punt\)|\[punt\]|\sdot\s|\spunt\s)\s*(?:com|nl|be|net|org|eu|de|info|me|io)(?!\w)"
)
_HANDLE = re.compile(r"(?<![\w.@])@[a-z0-9_](?:[a-z0-9_.]{1,29})")
_SOCIAL_NAMED = re.compile(
    r"(?<!\w)(?:insta|instagram|ig|snap|snapchat|sc|tiktok|telegram|discord|whatsapp|whatsap|kik|signal|twitter|"
    r"facebook|fb|threads|bereal)\s*(?:[:=\-]|is|naam|name)\s*@?[a-z0-9_.]{2,}"
)
_SOCIAL_INVITE = re.compile(
    r"(?<!\w)(?:whats\s?app|app|bel|sms|snap|dm|pm|add|text|call|volg|follow)\s+(?:me|mij|ff|even)\b"
    r"|(?<!\w)(?:mijn|m'n|mn|my)\s+(?:insta|instagram|snap|snapchat|sc|tiktok|telegram|discord|whatsapp|kik|signal|"
    r"telefoonnummer|06-?nummer|06|mobiele nummer|phone number|number|e-?mail|mailadres|e-?mailadres)\b"
    r"|(?<!\w)(?:op|on)\s+(?:insta|instagram|snap|snapchat|tiktok|telegram|discord|whatsapp|kik)\s+"
    r"(?:ben ik|heet ik|i'?m|ik ben|als)\b"
)
_MESSAGING_URL = re.compile(
    r"(?<![\w.])(?:wa\.me|api\.whatsapp\.com|chat\.whatsapp\.com|t\.me|telegram\.me|discord\.gg|discord\.com/invite|"
    r"snapchat\.com/add|instagram\.com|tiktok\.com/@|m\.me|signal\.me|signal\.group|kik\.me)(?![\w-])"
)
_CONTACT_CHECKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_MESSAGING_URL, N_("link naar een berichtendienst")),
    (_EMAIL, N_("e-mailadres")),
    (_EMAIL_OBFUSCATED, N_("verhuld e-mailadres")),
    (_PHONE, N_("telefoonnummer")),
    (_SOCIAL_NAMED, N_("account op sociale media")),
    (_HANDLE, N_("gebruikersnaam (@)")),
    (_SOCIAL_INVITE, N_("vraag om contact buiten het platform")),
)

# --- links ----------------------------------------------------------------------------------------------------

_LINK = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![\w@.])[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.(?:nl|com|org|net|eu|be|info|io|me|app|ly|gg|co|de)"
    r"(?:/\S*)?(?![\w])"
)


@dataclass(frozen=True, slots=True)
class _Compiled:
    words: tuple[tuple[re.Pattern[str], str], ...]
    patterns: tuple[tuple[re.Pattern[str], int], ...]


_INFLECTIONS = r"(?:en|e|s|n|er|ers|tje|tjes|je|jes|ie|ies)?"


def _word_pattern(word: str) -> re.Pattern[str] | None:
    skel = skeleton(word)
    if not skel.strip():
        return None
    # A simple Dutch stem: "klootzakken" and "klootzakje" share "klootzak"; a final -e/-en is optional.
    stem = re.sub(r"(?:en|e)$", "", skel) if len(skel) > 4 else skel
    body = r"[\s\-]?".join(re.escape(part) for part in re.split(r"[\s\-]+", stem) if part)
    return re.compile(rf"(?<![a-z0-9]){body}{_INFLECTIONS}(?![a-z0-9])")


@lru_cache(maxsize=64)
def compile_rules(settings: RuleSettings) -> _Compiled:
    """Compile a flavour's word list and patterns once; a bad pattern raises ValueError naming its position."""
    words: list[tuple[re.Pattern[str], str]] = []
    for word in settings.blocked_words:
        pattern = _word_pattern(word)
        if pattern is not None:
            words.append((pattern, word))
    patterns: list[tuple[re.Pattern[str], int]] = []
    for index, source in enumerate(settings.blocked_patterns, start=1):
        try:
            patterns.append((re.compile(source), index))
        except re.error as exc:
            raise ValueError(f"blocked_patterns[{index}] is not a valid regular expression: {exc}") from exc
    return _Compiled(tuple(words), tuple(patterns))


def count_links(text: str) -> int:
    """How many links (URLs, www. addresses or bare domains) a text holds."""
    return len(_LINK.findall(normalize(text)))


def find_contact_details(text: str) -> list[str]:
    """Descriptions (not copies) of the contact details in a text."""
    plain = normalize(text)
    return [description for pattern, description in _CONTACT_CHECKS if pattern.search(plain)]


def has_body_numbers(text: str) -> bool:
    """True when the text states numbers about weight, BMI, calories or clothing sizes."""
    return _BODY_NUMBERS.search(normalize(text)) is not None


def judge_crisis(text: str, recent: Sequence[str] = ()) -> CrisisResult:
    """The crisis detector on one text and, when the author wrote before in the same channel, on their last few
    lines together (a goodbye spread over short lines); the context result says so in its reasons."""
    crisis = detect(text)
    if crisis.flagged or not recent:
        return crisis
    together = detect_recent([*recent, text])
    if not together.flagged:
        return crisis
    return replace(
        together,
        category="context",
        severity=together.severity or "critical",
        reasons=(CONTEXT_REASON, *together.reasons),
    )


def evaluate(text: str, settings: RuleSettings, context: RuleContext, recent: Sequence[str] = ()) -> Verdict:
    """Judge one text under a flavour's rules; pure and deterministic.

    ``recent`` are the author's previous lines in the same channel (oldest first), judged together with ``text``.
    """
    compiled = compile_rules(settings)
    hits: list[RuleHit] = []
    crisis = judge_crisis(text, recent)
    if crisis.flagged and crisis.severity is not None:
        detail = f"crisis: {crisis.category}"
        hits.append(RuleHit("crisis", crisis.severity, "professional", "hold", REASON_CRISIS, detail))
    elif crisis.severity is not None:
        hits.append(RuleHit("crisis_review", crisis.severity, "peer_expert", "allow", "", f"zorg: {crisis.category}"))

    skel = skeleton(text)
    for pattern, word in compiled.words:
        if pattern.search(skel):
            hits.append(RuleHit("blocked_word", "medium", "volunteer", "block", REASON_WORD, f"woordenlijst: {word}"))
            break
    plain = normalize(text)
    for pattern, index in compiled.patterns:
        if pattern.search(plain):
            hits.append(
                RuleHit("blocked_pattern", "medium", "volunteer", "hold", REASON_PATTERN, N_("patroon %s") % index)
            )
            break
    if settings.no_body_numbers and _BODY_NUMBERS.search(plain):
        hits.append(RuleHit("body_numbers", "low", "volunteer", "block", REASON_BODY_NUMBERS, N_("getal over lichaam")))
    if not context.staff_author:
        hits.extend(_author_rules(text, settings, context))

    action: Action = "allow"
    for hit in hits:
        if _ACTION_RANK[hit.action] > _ACTION_RANK[action]:
            action = hit.action
    # A crisis message is held, never refused: refusing would hide it from the professionals who must see it.
    if crisis.flagged:
        action = "hold"
        hits.sort(key=lambda hit: hit.rule != "crisis")
    return Verdict(action=action, hits=tuple(hits), crisis=crisis)


def _author_rules(text: str, settings: RuleSettings, context: RuleContext) -> list[RuleHit]:
    hits: list[RuleHit] = []
    if settings.block_contact_details and context.peer_to_peer:
        found = find_contact_details(text)
        if found:
            hits.append(RuleHit("contact_details", "low", "volunteer", "block", REASON_CONTACT, ", ".join(found)))
    new = context.is_new(settings)
    if new:
        links = count_links(text)
        if links > settings.max_links_new_account:
            detail = N_("%s links, maximaal %s") % (links, settings.max_links_new_account)
            hits.append(RuleHit("link_limit", "low", "volunteer", "hold", REASON_LINKS, detail))
    if new and settings.premoderate_new_accounts and context.place in PREMODERATED_PLACES:
        hits.append(RuleHit("premoderation", "low", "volunteer", "hold", REASON_PREMODERATION, N_("nieuw account")))
    return hits
