"""The market's pure rules: filters, search words, the questionnaire's shortlist, report counts, and the CBS
municipality file with its checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatserver.data.regions import GEMEENTEN_FILE, RegionDataError, load_regions
from chatserver.domain import markt as rules

APP = {"_id": "a", "title": "Adem", "kind": "app", "needs": ["stress", "slaap"], "costs": ["gratis"],
       "languages": ["nl"], "evidence": "onderzocht", "search_terms": ["ademhalingsoefening", "stress"]}  # fmt: skip
BOOK = {"_id": "b", "title": "Boek", "kind": "boek", "needs": ["somber"], "costs": ["betaald"], "languages": ["nl"],
        "evidence": "praktijk", "search_terms": ["boek"]}  # fmt: skip
GROUP = {"_id": "g", "title": "Groep", "kind": "lokaal", "needs": ["eenzaam", "stress"], "costs": ["gratis"],
         "languages": ["nl"], "evidence": "praktijk", "local": {"regions": ["ggd:GG3406"]}}  # fmt: skip


def test_unknown_filter_values_are_dropped_and_the_query_is_capped() -> None:
    filters = rules.parse_filters({"behoefte": '{"$gt": ""}', "soort": "app", "sorteer": "$where", "q": "x" * 500})
    assert filters.need == "" and filters.kind == "app" and filters.sort == "relevant" and len(filters.query) == 200


def test_filters_match_need_kind_cost_evidence_and_where() -> None:
    assert rules.matches(APP, rules.Filters(need="slaap", cost="gratis", evidence="onderzocht"))
    assert not rules.matches(BOOK, rules.Filters(evidence="onderzocht"))
    assert not rules.matches(GROUP, rules.Filters(where="online"))
    assert rules.matches(GROUP, rules.Filters(where="lokaal"))


def test_search_words_are_folded_and_a_word_finds_longer_words_it_starts() -> None:
    assert rules.search_terms("Rustig café, de ADEMHALING!") == ["rustig", "cafe", "ademhaling"]  # "de": a stop word
    assert rules.query_score(APP, ["ademhaling"]) == 1
    assert rules.query_score(APP, ["ade"]) == 0  # short words match whole words only


def test_shortlist_puts_shared_needs_first_and_respects_the_limits() -> None:
    answers = rules.parse_answers(["stress", "onbekend"], ["zelf"], "1", "")
    found = rules.shortlist([BOOK, GROUP, APP], answers, near_ids=frozenset({"g"}))
    assert [s.entry_id for s in found] == ["a", "g"]
    assert "helpt bij stress en burn-out" in found[0].reasons and "bij jou in de buurt" in found[1].reasons
    assert rules.shortlist([BOOK], rules.parse_answers(["somber"], [], "1", "")) == []  # not free


def test_report_stats_count_only_valid_answers() -> None:
    stats = rules.report_stats([{"ease": 4, "recommend": "ja"}, {"ease": 2, "recommend": "nee"}, {"ease": 9}])
    assert stats.count == 2 and stats.ease_average == 3.0 and stats.recommend_count("ja") == 1


def test_the_municipality_file_loads_with_source_and_year() -> None:
    regions = load_regions()
    assert len(regions.gemeenten) == 342 and len(regions.provinces) == 12 and len(regions.ggd_regions) == 25
    assert "CBS" in regions.source and "2023" in regions.source
    assert regions.label("gm:GM0363") == "gemeente Amsterdam"
    assert regions.overlap("gm:GM0363", ["ggd:GG3406"]) and regions.overlap("pv:noord-holland", ["gm:GM0363"])
    assert not regions.overlap("gm:GM0014", ["ggd:GG3406"])
    assert regions.coarse("gm:GM0363") == "ggd:GG3406" and regions.coarse("Damstraat 1") == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("GM0358,Aalsmeer", "GM0363,Aalsmeer"), "twee keer"),
        (lambda t: t.replace("GM0014,Groningen,Groningen", "GM0014,Groningen,Atlantis"), "onbekende provincie"),
        (lambda t: t.replace("GM0363,", "AMS1,"), "geen GMxxxx"),
        (lambda t: t.replace("gemeentecode,gemeente", "code,naam"), "kolommen"),
    ],
)
def test_a_broken_municipality_file_stops_with_one_line(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "gemeenten.csv"
    broken.write_text(change(GEMEENTEN_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(RegionDataError, match=message):
        load_regions(broken)
