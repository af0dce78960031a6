"""The Reflectietafel's pure rules: the catalogue, buckets, medians from histograms, time cells."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from chatserver.domain import reflectie as r


def test_metric_names_are_bounded_and_shaped_for_keys() -> None:
    assert 10 <= len(r.CATALOGUE) <= 64
    for name, metric in r.CATALOGUE.items():
        assert name == metric.name
        assert re.fullmatch(r"[a-z]+(\.[a-z_]+)?", name), name
        assert "|" not in name and ":" not in name
        assert len(metric.variants) <= 16
        for variant in metric.variants:
            assert re.fullmatch(r"[a-z0-9-]+", variant)


def test_a_count_takes_no_value_and_a_distribution_needs_one() -> None:
    visit = r.CATALOGUE["visit"]
    wait = r.CATALOGUE["oneonone.wait"]
    assert r.bucket_of(visit, None) is None
    with pytest.raises(r.UnknownMetric):
        r.bucket_of(visit, 3)
    for bad in (None, -1, float("nan"), float("inf")):
        with pytest.raises(r.UnknownMetric):
            r.bucket_of(wait, bad)


@pytest.mark.parametrize(
    ("seconds", "bucket"), [(0, 0), (14.9, 0), (15, 1), (59, 2), (60, 3), (299, 4), (300, 5), (10**7, 14)]
)
def test_durations_fall_in_their_bucket(seconds: float, bucket: int) -> None:
    assert r.bucket_of(r.CATALOGUE["oneonone.wait"], seconds) == bucket


def test_scores_are_one_to_five() -> None:
    feedback = r.CATALOGUE["oneonone.feedback"]
    assert [r.bucket_of(feedback, s) for s in (1, 2, 3, 4, 5)] == [0, 1, 2, 3, 4]
    for bad in (0, 6, -2):
        with pytest.raises(r.UnknownMetric):
            r.bucket_of(feedback, bad)


def test_variants_are_a_closed_set_or_a_short_token() -> None:
    assert r.check_variant(r.CATALOGUE["visit"], "forum") == "forum"
    with pytest.raises(r.UnknownMetric):
        r.check_variant(r.CATALOGUE["visit"], "/f/psychosenet/forum/123")
    with pytest.raises(r.UnknownMetric):
        r.check_variant(r.CATALOGUE["visit"], None)
    held = r.CATALOGUE["crisis.held"]
    assert r.check_variant(held, "v3.1") == "v3.1"
    assert r.check_variant(held, "Some Account Id 1234567890 long") == r.OTHER_VARIANT
    assert r.check_variant(held, None) == r.OTHER_VARIANT
    with pytest.raises(r.UnknownMetric):
        r.check_variant(r.CATALOGUE["forum.post"], "x")


def _buckets(metric: r.Metric, values: list[float]) -> dict[int, int]:
    out: dict[int, int] = {}
    for value in values:
        index = r.bucket_of(metric, value)
        assert index is not None
        out[index] = out.get(index, 0) + 1
    return out


def test_the_median_of_a_histogram_lies_in_the_bucket_of_the_true_median() -> None:
    wait = r.CATALOGUE["oneonone.wait"]
    values = [20, 45, 90, 100, 110, 400, 5000]  # median 100 s
    median = r.quantile(wait, _buckets(wait, values), 0.5)
    assert median is not None
    assert (median.low, median.high) == (60, 120)
    assert 60 <= median.estimate < 120
    assert r.bucket_label(wait, median) == "1 min – 2 min"


def test_percentiles_use_the_nearest_rank() -> None:
    wait = r.CATALOGUE["oneonone.wait"]
    buckets = _buckets(wait, [10] * 9 + [4000])
    p90 = r.quantile(wait, buckets, 0.9)
    p95 = r.quantile(wait, buckets, 0.95)
    assert p90 is not None and p95 is not None
    assert (p90.low, p90.high) == (0, 15)
    assert (p95.low, p95.high) == (3600, 7200)
    assert r.quantile(wait, {}, 0.5) is None
    top = r.quantile(wait, _buckets(wait, [10**6]), 0.5)
    assert top is not None and top.high is None
    assert r.bucket_label(wait, top).startswith("meer dan")


def test_score_medians_and_means_are_exact() -> None:
    feedback = r.CATALOGUE["oneonone.feedback"]
    buckets = _buckets(feedback, [5, 4, 4, 2, 5])
    median = r.quantile(feedback, buckets, 0.5)
    assert median is not None and median.estimate == 4
    assert r.mean_score(buckets) == pytest.approx(4.0)
    assert r.mean_score({}) is None


def test_time_cells_are_local_days_weeks_months_and_hours_of_week() -> None:
    late = datetime(2030, 1, 6, 23, 30, tzinfo=UTC)  # 00:30 on Monday 7 January in Amsterdam
    assert r.local_day(late) == date(2030, 1, 7)
    assert r.local_hour(late) == 0
    assert r.iso_week(date(2030, 1, 7)) == "2030-W02"
    assert r.month_of(date(2030, 1, 7)) == "2030-01"
    assert r.hour_of_week(date(2030, 1, 7), 0) == 0
    assert r.hour_of_week(date(2030, 1, 13), 23) == 167
    assert r.days_of_week("2030-W02")[0] == date(2030, 1, 7)
    assert len(r.days_of_month("2028-02")) == 29
    assert r.previous_month("2030-01") == "2029-12"
    assert r.previous_week("2030-W01") == "2029-W52"
    for bad in ("2030-13", "jan", "2030-W2"):
        with pytest.raises(ValueError):
            r.days_of_month(bad) if "W" not in bad else r.days_of_week(bad)


def test_cells_sum_without_losing_buckets_or_hours() -> None:
    one = r.Bucketed(2, {3: 2}, {10: 2})
    two = r.Bucketed(1, {3: 1, 4: 0}, {11: 1})
    cell = r.Cell("oneonone.wait", "psychosenet", date(2030, 1, 7))
    total = r.sum_cells([(cell, one), (cell, two)])
    assert (total.count, total.buckets[3], total.hours) == (3, 3, {10: 2, 11: 1})
    assert cell.week == "2030-W02" and cell.month == "2030-01"


def test_duration_labels_are_dutch() -> None:
    assert r.duration_label(45) == "45 s"
    assert r.duration_label(600) == "10 min"
    assert r.duration_label(5400) == "1,5 uur"
    assert r.duration_label(2 * 86400) == "2 dagen"
    assert (r.duration_label(3600), r.duration_label(86400)) == ("1 uur", "1 dag")  # the singular of each
    assert (
        r.variant_label("visit", "spreekuur") == "Spreekuur" and r.variant_label("message", "chat") == "1-op-1 gesprek"
    )
    assert r.variant_label("crisis.held", "rules-2") == "rules-2"  # an open sub-kind reads as itself
