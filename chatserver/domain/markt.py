"""The VitaliteitsMarkt's rules: kinds, needs, the editorial workflow, rating scales, filters, the needs
questionnaire and its shortlist, and the coarse regions of local offers. Pure: no I/O, no clock of its own."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from chatserver.domain import editorial

# The workflow and who edits live in chatserver.domain.editorial (shared with the market); named here too.
from chatserver.domain.editorial import (
    ACTION_NAMES,
    EDITOR_ROLES,
    MAX_SLUG_CHARS,
    STATUSES,
    TRANSITIONS,
    allowed_actions,
    is_editor,
    target_of,
)
from chatserver.i18n import N_

__all__ = [
    "ACTION_NAMES",
    "COSTS",
    "EDITOR_ROLES",
    "EVIDENCE",
    "KINDS",
    "LANGUAGES",
    "MAX_SLUG_CHARS",
    "NEEDS",
    "RATING_SCALES",
    "STATUSES",
    "TRANSITIONS",
    "Answers",
    "Filters",
    "Gemeente",
    "RegionIndex",
    "allowed_actions",
    "is_editor",
    "target_of",
]

# --- the catalogue's closed sets (key -> Dutch label) ---------------------------------------------------------------

KINDS: dict[str, str] = {
    "app": N_("App"),
    "programma": N_("Online programma of cursus"),
    "website": N_("Website"),
    "boek": N_("Boek"),
    "hulplijn": N_("Hulplijn"),
    "lokaal": N_("Lokale groep of centrum"),
}
LOCAL_KINDS = frozenset({"lokaal"})
NEEDS: dict[str, str] = {
    "somber": N_("Somberheid en depressie"),
    "angst": N_("Angst en paniek"),
    "stress": N_("Stress en burn-out"),
    "slaap": N_("Slapen"),
    "eenzaam": N_("Eenzaamheid en contact"),
    "verslaving": N_("Verslaving en middelen"),
    "trauma": N_("Trauma en nare ervaringen"),
    "eten": N_("Eten en lichaamsbeeld"),
    "psychose": N_("Psychose en stemmen horen"),
    "dwang": N_("Dwang en piekeren"),
    "naasten": N_("Als naaste"),
    "zelfzorg": N_("Ontspanning en zelfzorg"),
}
COSTS: dict[str, str] = {
    "gratis": N_("Gratis"),
    "vergoed": N_("Vergoed door de zorgverzekering"),
    "betaald": N_("Betaald"),
}
LANGUAGES: dict[str, str] = {
    "nl": N_("Nederlands"),
    "en": N_("Engels"),
    "fy": N_("Fries"),
    "tr": N_("Turks"),
    "ar": N_("Arabisch"),
    "pl": N_("Pools"),
    "pap": N_("Papiaments"),
    "ngt": N_("Nederlandse Gebarentaal"),
}
PLATFORMS: dict[str, str] = {
    "web": N_("Browser"),
    "ios": N_("iPhone (iOS)"),
    "android": N_("Android"),
    "telefoon": N_("Telefoon"),
    "papier": N_("Op papier"),
    "locatie": N_("Op een locatie"),
}
# How well it is known to work, strongest first; the filter "at least" uses this order.
EVIDENCE: dict[str, str] = {
    "effectief": N_("Effectief volgens onderzoek"),
    "onderzocht": N_("Onderzocht, effect nog niet vastgesteld"),
    "praktijk": N_("Gebaseerd op praktijkervaring"),
    "onbekend": N_("Onbekend"),
}
QUALITY_MARKS: dict[str, str] = {
    "onlinehulpstempel": N_("Onlinehulpstempel"),
    "ce_mdr": N_("CE-markering als medisch hulpmiddel (MDR)"),
    "erkend_interventie": N_("Erkende interventie (databank)"),
    "thuisarts": N_("Aanbevolen op Thuisarts.nl"),
}
MDR_CLASSES: dict[str, str] = {"": N_("Geen medisch hulpmiddel"), "I": N_("Klasse I"), "IIa": N_("Klasse IIa"),
                               "IIb": N_("Klasse IIb"), "III": N_("Klasse III")}  # fmt: skip
WHERE: dict[str, str] = {
    "": N_("Online en in de buurt"),
    "online": N_("Alleen online en op afstand"),
    "lokaal": N_("Alleen in de buurt"),
}
SORTS: dict[str, str] = {"relevant": N_("Best passend"), "naam": N_("Naam (A–Z)"),
                         "ervaringen": N_("Meeste ervaringen"), "nieuw": N_("Nieuwste eerst")}  # fmt: skip

# --- ratings: the editors' three scales and the members' test reports, side by side, never one number -------------

RATING_SCALES: dict[str, str] = {
    "credibility": N_("Betrouwbaarheid"),
    "experience": N_("Gebruikservaring"),
    "privacy": N_("Privacy-transparantie"),
}
SCORE_MIN = 1
SCORE_MAX = 5
SCORE_WORDS = {1: N_("zwak"), 2: N_("matig"), 3: N_("redelijk"), 4: N_("goed"), 5: N_("uitstekend")}
RECOMMEND: dict[str, str] = {"ja": N_("Ja"), "misschien": N_("Misschien"), "nee": N_("Nee")}
USED_FOR: dict[str, str] = {
    "weken": N_("Een paar weken"),
    "maanden": N_("Een paar maanden"),
    "langer": N_("Langer dan een half jaar"),
}
EASE_WORDS = {1: N_("heel lastig"), 2: N_("lastig"), 3: N_("gaat wel"), 4: N_("makkelijk"), 5: N_("heel makkelijk")}


@dataclass(frozen=True, slots=True)
class ScaleRating:
    score: int
    reason: str


@dataclass(frozen=True, slots=True)
class ReportStats:
    """What the members' published test reports say together; ``count`` is what every figure rests on."""

    count: int = 0
    ease_sum: int = 0
    recommend: Mapping[str, int] = field(default_factory=dict)

    @property
    def ease_average(self) -> float | None:
        return None if self.count == 0 else round(self.ease_sum / self.count, 1)

    def recommend_count(self, answer: str) -> int:
        return int(self.recommend.get(answer, 0))


def report_stats(reports: Iterable[Mapping[str, object]]) -> ReportStats:
    """Counts over the published answers of test reports (each a mapping with ``ease`` and ``recommend``)."""
    count = 0
    ease_sum = 0
    recommend: dict[str, int] = {}
    for answers in reports:
        ease = answers.get("ease")
        if not isinstance(ease, int) or not SCORE_MIN <= ease <= SCORE_MAX:
            continue
        count += 1
        ease_sum += ease
        key = str(answers.get("recommend", ""))
        if key in RECOMMEND:
            recommend[key] = recommend.get(key, 0) + 1
    return ReportStats(count=count, ease_sum=ease_sum, recommend=recommend)


# --- search words (no $text: the words are stored with the entry and matched with $in) -----------------------------

# i18n: Dutch stop words for the search, not a text
_STOPWORD_TEXT = (
    "de het een en van in op te dat die is ik je jij we wij ze zij hij er met voor aan om maar ook als dan nog wel "
    "niet geen bij uit of tot naar over zo wat wie hoe waar mijn jouw zijn haar hun dit deze al was"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split(" "))
_TOKEN = re.compile(r"[a-z0-9]+")
MAX_SEARCH_TERMS = 300
MAX_QUERY_TERMS = 8


def fold(text: str) -> str:
    """Lower-cased, accent-folded text (``Één café`` → ``een cafe``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def clean_text(value: str, limit: int) -> str:
    """Names, links and search words made clean, format characters dropped too (``editorial.clean_text``)."""
    return editorial.clean_text(value, limit, drop_format=True)


def slugify(title: str) -> str:
    return editorial.slugify(title, "aanbod")


def search_terms(text: str, limit: int = MAX_SEARCH_TERMS) -> list[str]:
    """The normalised words of a text: folded, without stop words and one-letter words, unique, capped."""
    seen: dict[str, None] = {}
    for token in _TOKEN.findall(fold(text)):
        if len(token) >= 2 and token not in _STOPWORDS:
            seen.setdefault(token[:40], None)
        if len(seen) >= limit:
            break
    return list(seen)


# --- filters ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """What a visitor filters on; every value is a known key or empty (unknown values are dropped)."""

    need: str = ""
    kind: str = ""
    cost: str = ""
    language: str = ""
    evidence: str = ""  # "at least this level"
    where: str = ""
    query: str = ""
    sort: str = "relevant"

    @property
    def active(self) -> bool:
        return bool(self.need or self.kind or self.cost or self.language or self.evidence or self.where or self.query)

    def as_params(self) -> dict[str, str]:
        """The query-string form (the same names the filter form uses), without empty values."""
        pairs = {"behoefte": self.need, "soort": self.kind, "kosten": self.cost, "taal": self.language,
                 "bewijs": self.evidence, "waar": self.where, "q": self.query,
                 "sorteer": "" if self.sort == "relevant" else self.sort}  # fmt: skip
        return {k: v for k, v in pairs.items() if v}


def _known(value: str | None, allowed: Mapping[str, str]) -> str:
    value = (value or "").strip()
    return value if value in allowed and value else ""


def parse_filters(params: Mapping[str, str]) -> Filters:
    """Filters from query parameters; anything unknown is ignored, the query capped and cleaned."""
    query = " ".join("".join(ch for ch in str(params.get("q", ""))[:200] if ch.isprintable()).split())
    sort = str(params.get("sorteer", "") or "relevant")
    return Filters(
        need=_known(params.get("behoefte"), NEEDS),
        kind=_known(params.get("soort"), KINDS),
        cost=_known(params.get("kosten"), COSTS),
        language=_known(params.get("taal"), LANGUAGES),
        evidence=_known(params.get("bewijs"), EVIDENCE),
        where=_known(params.get("waar"), WHERE),
        query=query,
        sort=sort if sort in SORTS else "relevant",
    )


def is_local(entry: Mapping[str, object]) -> bool:
    return str(entry.get("kind", "")) in LOCAL_KINDS


def evidence_at_least(entry_level: str, wanted: str) -> bool:
    order = list(EVIDENCE)
    if wanted not in order:
        return True
    return entry_level in order and order.index(entry_level) <= order.index(wanted)


def matches(entry: Mapping[str, object], filters: Filters) -> bool:
    """Whether a published entry passes the filters (the text query is scored separately)."""
    checks = (
        not filters.need or filters.need in _list(entry.get("needs")),
        not filters.kind or entry.get("kind") == filters.kind,
        not filters.cost or filters.cost in _list(entry.get("costs")),
        not filters.language or filters.language in _list(entry.get("languages")),
        not filters.evidence or evidence_at_least(str(entry.get("evidence", "")), filters.evidence),
        filters.where != "online" or not is_local(entry),
        filters.where != "lokaal" or is_local(entry),
    )
    return all(checks)


def query_score(entry: Mapping[str, object], terms: Sequence[str]) -> int:
    """How many of the query's words the entry has (0 without a query); the words are already folded."""
    if not terms:
        return 0
    have = set(_list(entry.get("search_terms")))
    # A word of four letters or more also finds longer words it starts ("ademhaling" → "ademhalingsoefening").
    return sum(1 for t in terms if t in have or (len(t) >= 4 and any(h.startswith(t) for h in have)))


def _list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple | set | frozenset) else []


# --- the needs questionnaire and its shortlist ------------------------------------------------------------------------

FORMATS: dict[str, str] = {
    "zelf": N_("Zelf aan de slag, op mijn eigen tempo"),
    "lezen": N_("Iets lezen of luisteren"),
    "praten": N_("Praten met iemand"),
    "samen": N_("Samen met anderen, in een groep"),
}
FORMAT_KINDS: dict[str, frozenset[str]] = {
    "zelf": frozenset({"app", "programma"}),
    "lezen": frozenset({"boek", "website"}),
    "praten": frozenset({"hulplijn"}),
    "samen": frozenset({"lokaal"}),
}
SHORTLIST_SIZE = 5


@dataclass(frozen=True, slots=True)
class Answers:
    """'What would help you now?': the needs, the way of working, and two limits."""

    needs: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    free_only: bool = False
    language: str = ""

    @property
    def empty(self) -> bool:
        return not self.needs and not self.formats


def parse_answers(needs: Iterable[str], formats: Iterable[str], free_only: str, language: str) -> Answers:
    return Answers(
        needs=tuple(dict.fromkeys(n for n in needs if n in NEEDS))[:4],
        formats=tuple(dict.fromkeys(f for f in formats if f in FORMATS)),
        free_only=free_only in ("1", "ja", "on", "true"),
        language=language if language in LANGUAGES else "",
    )


@dataclass(frozen=True, slots=True)
class Suggestion:
    entry_id: str
    score: int
    reasons: tuple[str, ...]


def suggest(entry: Mapping[str, object], answers: Answers, near: bool = False) -> Suggestion | None:
    """How well a published entry fits the answers, with the reasons in plain Dutch; None when it does not fit.

    Needs weigh most (3 each), the way of working next (2), a good evidence level and being near add 1.
    A hard limit (free only, a language) excludes; without a matching need an entry never makes the list.
    """
    if answers.free_only and "gratis" not in _list(entry.get("costs")):
        return None
    if answers.language and answers.language not in _list(entry.get("languages")):
        return None
    shared = [n for n in answers.needs if n in _list(entry.get("needs"))]
    if answers.needs and not shared:
        return None
    reasons = [N_("helpt bij %s") % NEEDS[n].lower() for n in shared]
    score = 3 * len(shared)
    kind = str(entry.get("kind", ""))
    fitting = [f for f in answers.formats if kind in FORMAT_KINDS[f]]
    if fitting:
        score += 2
        reasons.append(FORMATS[fitting[0]].lower())
    if str(entry.get("evidence", "")) in ("effectief", "onderzocht"):
        score += 1
        reasons.append(EVIDENCE[str(entry["evidence"])].lower())
    if near:
        score += 1
        reasons.append(N_("bij jou in de buurt"))
    if score == 0:
        return None
    return Suggestion(entry_id=str(entry.get("_id", "")), score=score, reasons=tuple(reasons))


def shortlist(
    entries: Iterable[Mapping[str, object]], answers: Answers, near_ids: frozenset[str] = frozenset()
) -> list[Suggestion]:
    """The best few entries for the answers, best first (ties: name order)."""
    found: list[tuple[Suggestion, str]] = []
    for entry in entries:
        suggestion = suggest(entry, answers, near=str(entry.get("_id", "")) in near_ids)
        if suggestion is not None:
            found.append((suggestion, fold(str(entry.get("title", "")))))
    found.sort(key=lambda pair: (-pair[0].score, pair[1]))
    return [s for s, _ in found[:SHORTLIST_SIZE]]


# --- regions: municipality, GGD region, province; never finer ---------------------------------------------------------

REGION_PREFIXES = ("gm", "ggd", "pv")


@dataclass(frozen=True, slots=True)
class Gemeente:
    code: str  # CBS GMxxxx
    name: str
    province: str
    ggd_code: str  # CBS GGxxxx
    ggd_name: str


def province_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")


@dataclass(frozen=True)
class RegionIndex:
    """The municipalities and what they lie in; a region key is ``gm:GM0363``, ``ggd:GG3406`` or
    ``pv:noord-holland``. Build it with :meth:`build`."""

    gemeenten: Mapping[str, Gemeente]
    provinces: Mapping[str, str]  # key -> name
    ggd_regions: Mapping[str, str]  # code -> name
    region_members: Mapping[str, frozenset[str]]
    source: str = ""

    @classmethod
    def build(cls, gemeenten: Iterable[Gemeente], source: str = "") -> RegionIndex:
        by_code = {g.code: g for g in gemeenten}
        provinces: dict[str, str] = {}
        ggds: dict[str, str] = {}
        members: dict[str, set[str]] = {}
        for g in by_code.values():
            provinces[province_key(g.province)] = g.province
            ggds[g.ggd_code] = g.ggd_name
            for key in (f"pv:{province_key(g.province)}", f"ggd:{g.ggd_code}", f"gm:{g.code}"):
                members.setdefault(key, set()).add(g.code)
        return cls(
            gemeenten=by_code,
            provinces=dict(sorted(provinces.items())),
            ggd_regions=dict(sorted(ggds.items(), key=lambda kv: fold(kv[1]))),
            region_members={k: frozenset(v) for k, v in members.items()},
            source=source,
        )

    def members(self, key: str) -> frozenset[str]:
        """The municipality codes a region key covers (empty for an unknown key)."""
        return self.region_members.get(key, frozenset())

    def known(self, key: str) -> bool:
        return bool(self.members(key))

    def label(self, key: str) -> str:
        prefix, _, value = key.partition(":")
        if prefix == "gm" and value in self.gemeenten:
            return N_("gemeente %s") % self.gemeenten[value].name
        if prefix == "ggd" and value in self.ggd_regions:
            name = self.ggd_regions[value]
            return name if name.startswith("GGD ") else N_("GGD-regio %s") % name
        if prefix == "pv" and value in self.provinces:
            return N_("provincie %s") % self.provinces[value]
        return ""

    def overlap(self, visitor: str, offer_regions: Iterable[str]) -> bool:
        """Whether an offer in ``offer_regions`` lies in (or covers) the visitor's region."""
        mine = self.members(visitor)
        return bool(mine) and any(mine & self.members(region) for region in offer_regions)

    def coarse(self, key: str) -> str:
        """The GGD region of a key (or the province key itself): the finest level the uptake counters keep."""
        prefix, _, value = key.partition(":")
        if prefix == "gm" and value in self.gemeenten:
            return f"ggd:{self.gemeenten[value].ggd_code}"
        return key if self.known(key) else ""

    def gemeenten_of_province(self, province: str) -> list[Gemeente]:
        return sorted((g for g in self.gemeenten.values() if province_key(g.province) == province),
                      key=lambda g: fold(g.name).lstrip("'"))  # fmt: skip


def iso_week(day: date) -> str:
    """``2030-W02``: the ISO week the uptake counters are kept per."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
