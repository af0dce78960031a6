"""The crisis rules' patterns: explicit Dutch and English expressions of intent, plans, means, a death wish and
self-harm, and the marker patterns (someone else, the past, news, time words, keywords), written in plain spelling
and compiled once (pure)."""

from __future__ import annotations

import re
from typing import Literal

CrisisCategory = Literal["plan", "intent", "ideation", "self_harm", "past", "other_person", "model", "context"]

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
