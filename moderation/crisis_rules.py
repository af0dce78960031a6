"""Crisis rules: explicit Dutch and English expressions of suicidal intent, plans, means and self-harm (pure,
precompiled). They catch what must never be missed and name it for staff; the trained model (moderation.model) covers
the wording the rules do not know. moderation.crisis combines both."""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from moderation.text import plain_sentences
from moderation.tiers import Severity, max_severity, severity_rank

CrisisCategory = Literal["plan", "intent", "ideation", "self_harm", "past", "other_person", "model", "context"]

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
_ALPHA = "abcdefghijklmnopqrstuvwxyz"


def _collapse_literal(template: str) -> str:
    """Shorten letter runs in the literal parts of a template (not after a backslash, not inside [...])."""
    out: list[str] = []
    in_class = False
    escaped = False
    last_letter = ""
    for ch in template:
        if escaped:
            out.append(ch)
            escaped = False
            last_letter = ""
            continue
        if ch == "\\":
            out.append(ch)
            escaped = True
            last_letter = ""
            continue
        if in_class:
            in_class = ch != "]"
            out.append(ch)
            continue
        if ch == "[":
            in_class = True
            last_letter = ""
            out.append(ch)
            continue
        if ch in _ALPHA:
            if ch == last_letter:
                continue
            last_letter = ch
        else:
            last_letter = ""
        out.append(ch)
    return "".join(out)


# Words that negate what follows within a few words (in collapsed form: "nooit" → "noit").
_NEGATIONS = r"(?:niet|nie|gen|noit|nimer|not|never|dont|didnt|wont|no)"
# Up to three (or six) words between parts of an expression, none of them a negation.
_GAP = rf"(?:(?!{_NEGATIONS} )[a-z0-9]+ ){{0,3}}"
_WIDE_GAP = rf"(?:(?!{_NEGATIONS} )[a-z0-9]+ ){{0,6}}"
_MACROS: dict[str, str] = {
    "I": "(ik|k|ike|i|im|ive|id|ic)",
    "ME": "(mezelf|mijzelf|mn zelf|me zelf|mij zelf|mijself|myself)",
    "PILLS": "(pilen|pil|medicijnen|medicatie|tabletten|slaapilen|paracetamol|oxazepam|pils|meds|tablets)",
    "VEHICLE": "(trein|metro|tram|vrachtwagen|bus|auto|train|truck|car)",
    "HIGH": "(flat|brug|dak|gebouw|balkon|toren|bridge|rof|building|balcony|clif|klif)",
    "SOON": "(vanavond|vanacht|straks|morgen|vandaag|dit weekend|tonight|tomorow|today|this weekend)",
    "GO": "(ga|gaat|gan|zal|going to|gona|gonna|am going to|ben van plan|heb besloten|plan to|planing to|decided to)",
    "WANT": "(wil|wou|wilde|zou wilen|want to|want|wana|wish)",
}


def _compile(template: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){_source(template)}(?![a-z0-9])")


def _source(template: str) -> str:
    source = template
    for name, value in _MACROS.items():
        source = re.sub(rf"\b{name}\b", value, source)
    source = _collapse_literal(source)
    source = source.replace(" ~~ ", f" {_WIDE_GAP}").replace(" ~ ", f" {_GAP}")
    return re.sub(r"\((?!\?)", "(?:", source)


_HYPERBOLE_AFTER_DEATH = r"(?! (van|of|from|graag|als|if|to))"
_ACCIDENT_AFTER = r"(?! (while|bij het|per ongeluk|by accident|aan een|aan het|on a|on the))"

# (category, template); templates are written in plain spelling and collapsed at compile time.
_PATTERNS: tuple[tuple[CrisisCategory, str], ...] = (
    # Means, plans and places: critical.
    (
        "plan",
        r"PILLS ~ (opsparen|op sparen|opgespaard|op gespaard|gespaard|verzameld|verzamelen|hamsteren"
        r"|klaarliggen|klaar liggen|klaargelegd|klaar gelegd|saving|saved|stockpiling|collecting|collected)",
    ),
    ("plan", r"(spaar|spaarde|sparen|verzamel|verzamelde|save|saving|saved|collecting|stockpiling) ~ PILLS"),
    (
        "plan",
        r"(alle|al mijn|al mn|de hele strip|een hele strip|een handvol|de hele doos|een hele doos|all|all my"
        r"|all the|a handful of|the whole) ~ PILLS ~ (innemen|in nemen|in|slikken|nemen|op|take|swallow)",
    ),
    ("plan", r"(take|taking|swallow|slikken|innemen|nemen|neem|slik) ~ (alle|al mijn|all my|all the|all) ~ PILLS"),
    ("plan", r"(een overdosis|an overdose|overdosis) ~ (nemen|innemen|slikken|take|taking|neem)"),
    ("plan", r"(neem|nemen|take|taking|GO) ~ (een overdosis|an overdose|overdose|overdosis)"),
    ("plan", r"(voor|onder) (de|een|het) VEHICLE ~ (springen|spring|te springen|gaan liggen|liggen|lopen|stappen)"),
    (
        "plan",
        r"(spring|springen|gooi ME|werp ME|jump|jumping|lie down|step) ~ (voor|onder|in front of) (de|een|a|the)"
        r" VEHICLE",
    ),
    (
        "plan",
        r"(van|vanaf|off|from) (de|het|een|a|the|this|that|die|deze|mijn|my)? ?HIGH ~ (af )?"
        r"(springen|spring|te springen|jump|jumping)",
    ),
    ("plan", r"(springen|spring|jump|jumping) ~ (of|from|van|vanaf) (de|het|een|a|the|this|that|die|deze)? ?HIGH"),
    ("plan", r"(HIGH|spoor|rails|tracks) ~~ (GO|wil|want to) (springen|jump|spring)"),
    ("plan", r"I (sta|zit|lig|ben|am|m) ~ (op|bij|on) (het|de|the) (spoor|rails|railway|tracks)"),
    ("plan", r"(ME|me|mij) (ophangen|op te hangen|verhangen|hang|hanging)"),
    (
        "plan",
        r"(touw|strop|rope|noose) ~ (gekocht|klaar|klaarliggen|klaargelegd|geknoopt|bought|ready|tied)"
        r"(?! (voor|for))",
    ),
    ("plan", r"(bought|kocht|gekocht|got|have) (a|een) (touw|strop|rope|noose)(?! (voor|for))"),
    ("plan", r"(I|mijn|mn|my) ~~ (afscheidsbrief|afscheidsbrieven|zelfmoordbrief|suicide note)"),
    ("plan", r"(GO|plan) ~ (het|it) SOON ~ (doen|te doen|do)"),
    # Stated intent: critical.
    (
        "intent",
        r"I ~ GO ~ (ME|me|mij) ~ (iets|wat)? ?(andoen|an te doen|van kant maken|van kant te maken|doden"
        r"|te doden|ombrengen|om te brengen|kil|kiling|hurt)",
    ),
    ("intent", r"I ~ GO ~ (zelfmoord|zelfmoort|suicide|zelfdoding) (plegen|pleg|doen|comit)"),
    ("intent", r"(GO|gonna) ~ (comit suicide|kil myself|end my life|end it|take my own life|take my life)"),
    ("intent", r"I ~ (GO|maak|maakt) ~ er ~ (een )?(eind|einde) aan ~ (maken|maak)?(?! met)"),
    ("intent", r"I ~ GO ~ (een )?(eind|einde) (aan|maken aan) (mijn|mn) leven"),
    # Wishing to be dead, not wanting to live: high.
    ("ideation", rf"I ~ (wil|wou|wilde|zou willen) ~ (dood|sterven|doodgaan|dood gaan){_HYPERBOLE_AFTER_DEATH}"),
    ("ideation", rf"I ~ (want to|wanna|wish to|wish i could|just want to) (die|be dead){_HYPERBOLE_AFTER_DEATH}"),
    ("ideation", rf"(wil|wou|wilde) (ik|k) ~ (dood|sterven|doodgaan|dood gaan){_HYPERBOLE_AFTER_DEATH}"),
    ("ideation", rf"^(wil|wou) ~ (dood|sterven|doodgaan){_HYPERBOLE_AFTER_DEATH}"),
    ("ideation", rf"^(want to|wanna) (die|be dead){_HYPERBOLE_AFTER_DEATH}"),
    (
        "ideation",
        r"(wil|wou|wilde|hoef) (ik|k) ~ (niet|nie) (meer|langer) (te )?(leven|leve|bestaan|zijn|hier zijn"
        r"|wakker worden|wakker word)(?! (voor|zonder|met|bij|op|in))",
    ),
    (
        "ideation",
        r"I ~ (wil|wou|hoef|wilde|want to|wana) ~ (niet|nie) (meer|langer) (te )?(leven|leve|bestaan"
        r"|zijn|hier zijn|wakker worden|wakker word)(?! (voor|zonder|met|bij|op|in))",
    ),
    ("ideation", r"I ~ (dont|do not|no longer) ~ (want|wana) (to )?(live|be alive|exist|wake up)"),
    ("ideation", r"(niet|nie) (meer )?wakker (worden|word|te worden|wordt)"),
    ("ideation", r"(zie|zien) (het|t)? ~ (niet|nie) (meer|mer) (zitten|zitte)"),
    ("ideation", r"(verdien|verdiende|deserve) ~ (dood|dood te gaan|te sterven|sterven|to die)"),
    (
        "ideation",
        r"I ~ (denk|dacht|denken|nadenken|overweeg|overwoog|think|thinking|thought|considering"
        r"|contemplating) ~ (aan|over|about|of|erover)? ~ (zelfmoord|zelfmoort|suicide|zelfdoding|zelf moord"
        r"|ME van kant|een eind aan mijn leven|ending my life|killing myself|ending it)",
    ),
    ("ideation", r"I ~ (ben|voel me|voel mij|word|am|m|feel|feeling) ~ (suicidaal|suicidal)"),
    ("ideation", r"I ~ WANT ~ (zelfmoord|zelfmoort|suicide) (plegen|pleg|doen|comit)"),
    (
        "ideation",
        r"(ME|me) ~ (van kant maken|van kant te maken|doden|te doden|ombrengen|om te brengen"
        r"|van het leven beroven|van het leven te beroven)",
    ),
    ("ideation", r"(?<!could )(?<!kon )(kil|kiling) myself"),
    ("ideation", r"(I|wana|want to|gonna|gona|ga|wil) ~ kms"),
    ("ideation", r"(end|ending) it al"),
    ("ideation", r"(end|ending|take|taking) my (own )?life"),
    ("ideation", r"(mijn|mn) leven (beeindigen|te beeindigen)"),
    ("ideation", r"(een )?(eind|einde) (aan|maken aan|te maken aan) (mijn|mn) leven"),
    ("ideation", r"I ~ WANT ~ er ~ (een )?(eind|einde) aan ~ (maken|te maken)(?! met)"),
    ("ideation", r"er ~ (een )?(eind|einde) aan (kan|kunnen) maken"),
    ("ideation", r"uit het leven (stappen|te stappen)"),
    ("ideation", r"(beter af|better of) (zonder mij|zonder me|without me|dood|dead)"),
    (
        "ideation",
        r"(beter|better) (zijn|be|af) (als|if|wanneer) (ik|i) ~ (niet meer|nie meer|dood|weg|gone|wasnt"
        r"|was not|werent|was gone)",
    ),
    ("ideation", r"(geen|no) (reden|zin|reason) (meer )?(om|to) (te )?(leven|live|blijven leven)"),
    ("ideation", r"geen zin meer in (het|mijn|mn) leven"),
    ("ideation", r"(niets|niks|nothing) (meer |left )?(om voor te leven|to live for)"),
    (
        "ideation",
        r"(het|mijn|mn) leven (heeft|is) ~ (geen zin|zinloos|niet meer de moeite waard"
        r"|niet de moeite waard)",
    ),
    ("ideation", r"(life|my life) (is|isnt) ~ (not worth living|worth living|pointless|meaningless)"),
    ("ideation", r"(klaar met|done with) (het leven|leven|life|living)"),
    ("ideation", r"(het leven|life|living) ~ (zat|moe)"),
    ("ideation", r"(levensmoe|tired of (living|being alive|life))"),
    ("ideation", r"((voor altijd|voorgoed) verdwijnen|verdwijnen (voor altijd|voorgoed)|disappear forever)"),
    ("ideation", r"(nooit|never) (geboren|been born|born)"),
    ("ideation", r"(wish|wou dat) (i|ik) (was|were|had been|ware) ~ dead"),
    # Self-harm: high.
    (
        "self_harm",
        rf"I ~ (snij|snijd|sneed|kras|kraste|krasde|brand|beschadig|verwond|sla|cut|cuting|burn|burning"
        rf"|hurt|hurting|harm|harming) ~ ME{_ACCIDENT_AFTER}",
    ),
    (
        "self_harm",
        r"ME ~ (snijden|te snijden|krassen|te krassen|beschadigen|te beschadigen|pijn doen|pijn te doen"
        r"|verwonden|branden|slaan|andoen|an te doen)",
    ),
    ("self_harm", rf"ME ~ (gesneden|gekrast|gebrand|beschadigd|verwond|opengekrast){_ACCIDENT_AFTER}"),
    ("self_harm", r"I ~ (weer|opnieuw|again) ~ (gekrast|gesneden|cut)"),
    (
        "self_harm",
        r"in (mijn|mn|my) (arm|armen|pols|polsen|benen|been|bovenbenen|dijen|buik|wrist|wrists|arms|legs"
        r"|thighs) ~ (gesneden|gekrast|gebrand|cut|cuting)",
    ),
    ("self_harm", r"I ~~ (arm|armen|pols|polsen|benen|bovenbenen|dijen) ~ (opengekrast|opengesneden|kapot gekrast)"),
)
_COMPILED: tuple[tuple[CrisisCategory, re.Pattern[str]], ...] = tuple((cat, _compile(t)) for cat, t in _PATTERNS)
# The patterns of one category in one alternation, most severe category first: a sentence that matches anything is
# scanned at most once per category instead of once per pattern.
_BY_CATEGORY: tuple[tuple[CrisisCategory, re.Pattern[str]], ...] = tuple(
    (
        category,
        re.compile(
            rf"(?<![a-z0-9])(?:{'|'.join(f'(?:{_source(t)})' for c, t in _PATTERNS if c == category)})(?![a-z0-9])"
        ),
    )
    for category in ("plan", "intent", "ideation", "self_harm")
)
# All explicit patterns in one alternation between one pair of word boundaries: one scan tells whether any of
# them occurs at all (most sentences match none), so the per-pattern loop runs only for the few that do. The
# patterns have no capturing groups, so joining them changes no group numbers.
_ANY_EXPLICIT = re.compile(
    rf"(?<![a-z0-9])(?:{'|'.join(f'(?:{_source(template)})' for _, template in _PATTERNS)})(?![a-z0-9])"
)

# --- the anchor prefilter -----------------------------------------------------------------------------------------
# Every explicit pattern needs one of a few whole words somewhere (a pattern on pills needs a word for pills). Those
# words are read from the compiled patterns themselves, one slot per pattern (a slot is what stands between two spaces
# or gaps), preferring slots without common words. A sentence none of whose words is an anchor cannot match any
# pattern, so the large alternation scan is skipped for it (about 70 % of everyday chat). A test checks on the whole
# corpus that no sentence a pattern matches is skipped.
# The regex parser of the standard library (not in the typing stubs): used once, at import, on our own patterns.
_sre_parse: Any = importlib.import_module("re._parser")
_sre: Any = importlib.import_module("re._constants")
_COMMON_WORDS = frozenset(
    [
        "ik",
        "i",
        "k",
        "it",
        "ga",
        "ben",
        "wil",
        "niet",
        "nie",
        "was",
        "zijn",
        "doen",
        "end",
        "die",
        "ic",
        "id",
        "ike",
        "im",
        "ive",
        "gan",
        "gat",
        "zal",
        "wer",
        "weg",
        "hier",
        "just",
        "want",
        "wou",
        "wilde",
        "wilen",
        "sla",
        "nem",
        "mak",
        "could",
        "going",
        "gona",
        "done",
        "down",
        "take",
        "plan",
        "dacht",
        "denk",
        "life",
        "live",
        "leven",
        "leve",
        "arm",
        "beter",
        "zelf",
        "spar",
        "al",
        "all",
        "alle",
        "my",
        "mijn",
        "mn",
        "me",
        "mij",
        "de",
        "het",
        "een",
        "the",
        "a",
        "to",
        "te",
        "van",
        "of",
        "voor",
        "op",
        "in",
        "on",
        "er",
        "aan",
        "meer",
        "mer",
        "no",
        "not",
        "geen",
        "gen",
        "zin",
        "reden",
        "is",
        "be",
        "af",
        "als",
        "if",
        "wat",
        "iets",
        "so",
        "dat",
        "je",
        "you",
        "and",
        "en",
        "om",
        "met",
        "with",
        "mezelf",
        "myself",
        "ending",
        "taking",
        "noit",
        "never",
        "vor",
        "onder",
        "front",
        "wana",
        "hoef",
        "zat",
        "moe",
        "tired",
    ]
)


def _finite_strings(items: Any) -> set[str] | None:
    """Every string a parsed, finite regex fragment can match; None when it is not finite and small."""
    out = {""}
    for op, av in items:
        if op is _sre.LITERAL:
            out = {o + chr(av) for o in out}
            continue
        if op is _sre.SUBPATTERN:
            options = _finite_strings(av[3])
        elif op is _sre.BRANCH:
            options = set()
            for branch in av[1]:
                found = _finite_strings(branch)
                if found is None:
                    return None
                options |= found
        elif op is _sre.MAX_REPEAT and av[0] == 0 and av[1] == 1:
            found = _finite_strings(av[2])
            options = None if found is None else found | {""}
        else:
            return None
        if options is None:
            return None
        out = {o + x for o in out for x in options}
        if len(out) > 20_000:
            return None
    return out


def _is_slot_boundary(item: Any) -> bool:
    op, av = item
    if op is _sre.LITERAL:
        return bool(av == ord(" "))
    optional = op is _sre.MAX_REPEAT and av[0] == 0 and av[1] == 1
    return op in (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT, _sre.MAX_REPEAT, _sre.MIN_REPEAT) and not optional


def _slot_words(template: str, *, compiled: bool = False) -> list[set[str]]:
    """Per slot of a pattern, the longest word of each string the slot can match (each a whole word of a match).
    ``compiled``: the template is already a regex source (of a compiled pattern)."""
    slots: list[list[Any]] = [[]]
    for item in _sre_parse.parse(template if compiled else _source(template)):
        if _is_slot_boundary(item):
            slots.append([])
        else:
            slots[-1].append(item)
    out: list[set[str]] = []
    for slot in slots:
        strings = _finite_strings(slot) if slot else None
        if not strings or "" in strings:
            continue
        out.append({max(string.split(), key=len) for string in strings if string.split()})
    return [words for words in out if words]


def _rank(words: set[str]) -> tuple[int, int]:
    # Fewer common words first, then the longest shortest word: the slot that lets the fewest sentences through.
    return (-len(words & _COMMON_WORDS), min(map(len, words)))


@dataclass(frozen=True, slots=True)
class _Anchored:
    """Which patterns a sentence's words can reach: by the words of each pattern's best slot, then its second."""

    by_word: dict[str, tuple[int, ...]]
    second: tuple[frozenset[str] | None, ...]

    def candidates(self, words: set[str]) -> list[int]:
        found: set[int] = set()
        for word in words.intersection(self.by_word):
            found.update(self.by_word[word])
        return sorted(i for i in found if (other := self.second[i]) is None or not other.isdisjoint(words))


def _anchored() -> _Anchored | None:
    by_word: dict[str, list[int]] = {}
    second: list[frozenset[str] | None] = []
    for index, (_, template) in enumerate(_PATTERNS):
        slots = sorted(_slot_words(template), key=_rank, reverse=True)
        if not slots:
            return None  # a pattern without a finite slot: no prefilter rather than a wrong one
        for word in slots[0]:
            by_word.setdefault(word, []).append(index)
        second.append(frozenset(slots[1]) if len(slots) > 1 else None)
    return _Anchored({w: tuple(ix) for w, ix in by_word.items()}, tuple(second))


_ANCHORED = _anchored()


class _Marker:
    """A marker pattern with the words one of which every match contains (None: no such words were found)."""

    __slots__ = ("anchors", "pattern")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        slots = sorted(_slot_words(pattern.pattern, compiled=True), key=_rank, reverse=True)
        self.anchors = frozenset(slots[0]) if slots else None

    def found_in(self, text: str, words: set[str]) -> bool:
        if self.anchors is not None and self.anchors.isdisjoint(words):
            return False
        return self.pattern.search(text) is not None


_ANCHORS = None if _ANCHORED is None else frozenset(_ANCHORED.by_word)


# Words that name suicide or self-harm on their own; judged by context (whose, when, negated, news).
_KEYWORD = _compile(
    r"(zelfmoord|zelfmoort|zelf moord|suicide|zelfdoding|suicidaal|suicidale|suicidal|zelfmoordgedachten"
    r"|zelfmoordgedachte|zelfmoordneigingen|doodsgedachten|doodswens|zelfbeschadiging|zelfverwonding"
    r"|automutilatie|self harm|selfharm|self harming|selfharming|suicidale gedachten|suicidal thoughts"
    r"|gedachten (over|aan) (doodgaan|dood gaan|sterven|zelfmoord)|thoughts (of|about) (suicide|dying|death))"
)
_FIRST_PERSON = _compile(r"(ik|k|i|im|ive|id|me|mij|mijn|mn|mezelf|my|myself)")
_OTHER_PERSON = _compile(
    r"((mijn|mn|zijn|haar|onze|je|jouw|een|my|his|her|our|your|a) ~ (oma|opa|vader|moeder|pa|ma|broer|zus|zusje"
    r"|broertje|vriend|vriendin|vriendje|neef|nicht|om|tante|colega|klasgenot|buurman|buurvrouw|zon|dochter|kind"
    r"|man|vrouw|partner|friend|brother|sister|mother|mom|mum|father|dad|uncle|aunt|cousin|son|daughter|grandma"
    r"|grandpa|grandmother|grandfather|husband|wife|boyfriend|girlfriend|clasmate|coleague|neighbour|neighbor)"
    r"|iemand|someone|somebody|verloren aan|lost to|died by|overleden door)"
)
_PAST = _compile(
    r"(vroeger|jaren geleden|vorig jaar|in het verleden|toen ik|destijds|lang geleden|used to|years ago|last year"
    r"|in the past|back then|when i was|clean|achter me gelaten|hersteld|recovered|niet meer gedaan"
    r"|nu gaat het (goed|beter|veel beter)|doing (wel|beter) now|gaat het (nu )?(goed|beter|veel beter))"
)
_PRESENT = _compile(r"(weer|opnieuw|again|nog steeds|still|laatste tijd|lately|sinds kort)")
_INFORMATION = _compile(
    r"(boek|film|serie|artikel|nieuws|documentaire|training|cursus|preventie|book|movie|series|article|news"
    r"|prevention|113|hoe (herken|help|kan ik)|how (do|can) i help)"
)
_SOON = _compile(r"SOON")
# A negation before the speaker's own "ik"/"I" belongs to an earlier clause ("ik trek het niet meer, ik wil ...").
_SUBJECT_FIRST = re.compile(r"(ik|k|ike|i|im|ive|id|ic) ")
_NEGATION_WORD = re.compile(rf"(?<![a-z0-9]){_NEGATIONS}(?![a-z0-9])")


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
