"""What leaves the backoffice: suppression that no total undoes (attacked by bound propagation and by linear
programming), and the discrete Laplace noise (seeded)."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction

import pytest

from chatserver.domain import reflectie_privacy as p
from chatserver.domain.reflectie_privacy import Equation, Status

T = p.DEFAULT_THRESHOLD


def lp_range(
    cell: Hashable,
    values: Mapping[Hashable, int],
    status: Mapping[Hashable, Status],
    equations: Sequence[Equation],
) -> tuple[float, float]:
    """The strongest differencing attack: the least and greatest value of ``cell`` that every published table
    allows (a linear programme over all cells, with what each shown cell tells as bounds)."""
    optimize = pytest.importorskip("scipy.optimize")
    keys = list(values)
    index = {key: i for i, key in enumerate(keys)}
    rows, rhs = [], []
    for eq in equations:
        row = [0.0] * len(keys)
        row[index[eq.margin]] = -1.0
        for part in eq.parts:
            row[index[part]] += 1.0
        rows.append(row)
        rhs.append(0.0)
    bounds = []
    for key in keys:
        low, high = p.bounds_known(status[key], values[key], T)
        bounds.append((low, None if high == math.inf else high))
    out = []
    for sign in (1.0, -1.0):
        objective = [0.0] * len(keys)
        objective[index[cell]] = sign
        result = optimize.linprog(objective, A_eq=rows, b_eq=rhs, bounds=bounds, method="highs")
        assert result.status == 0
        out.append(sign * result.fun)
    return out[0], out[1]


GGDS = {"ggd:GG1": "pv:a", "ggd:GG2": "pv:a", "ggd:GG3": "pv:b", "ggd:GG4": "pv:b", "ggd:GG5": "pv:c"}


def test_primary_suppression_alone_is_undone_by_the_total() -> None:
    """The attack works: with totals shown exactly, one small cell is the total minus the rest."""
    values = {"X": 100, "a": 3, "b": 50, "c": 47}
    eqs = [Equation("X", ("a", "b", "c"))]
    naive = {k: (Status.PRIMARY if v < T else Status.SHOWN) for k, v in values.items()}
    assert p.feasible_ranges(values, naive, eqs, T)["a"] == (3, 3)
    assert lp_range("a", values, naive, eqs) == (3, 3)


def test_secondary_suppression_leaves_the_whole_range_open() -> None:
    values = {"X": 100, "a": 3, "b": 50, "c": 47}
    eqs = [Equation("X", ("a", "b", "c"))]
    status = p.protect(values, eqs)
    assert status == {"X": Status.SHOWN, "a": Status.PRIMARY, "b": Status.SHOWN, "c": Status.SECONDARY}
    assert p.feasible_ranges(values, status, eqs, T)["a"] == (0, 9)
    assert lp_range("a", values, status, eqs) == (0, 9)
    assert [p.shown_as(values[k], status[k]) for k in ("X", "a", "b", "c")] == ["100", "< 10", "50", "×"]


def test_two_small_cells_together_are_not_enough() -> None:
    """0 + 0 under a shown total would give both away: a third cell is suppressed."""
    values = {"X": 40, "a": 0, "b": 0, "c": 40}
    eqs = [Equation("X", ("a", "b", "c"))]
    status = p.protect(values, eqs)
    assert status["c"] == Status.SECONDARY or status["X"] == Status.SECONDARY
    for cell in ("a", "b"):
        assert lp_range(cell, values, status, eqs) == (0, 9)


def test_a_province_split_in_small_regions_keeps_six_values() -> None:
    values, eqs = p.month_release({"x": 80}, {"": 67, "ggd:GG5": 7, "pv:c": 6}, GGDS)
    status = p.protect(values, eqs)
    for cell in (p.region_key("ggd:GG5"), p.province_only_key("pv:c")):
        low, high = lp_range(cell, values, status, eqs)
        assert high - low >= p.DEFAULT_PROTECTION


def test_a_small_total_suppresses_its_parts() -> None:
    values, eqs = p.month_release({"x": 4, "y": 3}, {"": 5, "ggd:GG1": 2}, GGDS)
    status = p.protect(values, eqs)
    assert status[p.TOTAL] == Status.PRIMARY
    assert not p.exposed(values, status, eqs, T)


def test_the_difference_attack_on_a_release_fails() -> None:
    """Flavour split and region split of one month, differenced in every way linear programming allows."""
    by_flavour = {"psychosenet": 57, "proud2bme": 4, "trauma": 31, "dwang": 0}
    by_region = {"": 60, "ggd:GG1": 12, "ggd:GG2": 3, "pv:a": 1, "ggd:GG3": 14, "ggd:GG5": 2}
    values, eqs = p.month_release(by_flavour, by_region, GGDS)
    status = p.protect(values, eqs)
    primaries = [k for k, s in status.items() if s == Status.PRIMARY]
    assert p.flavour_key("proud2bme") in primaries and p.region_key("ggd:GG2") in primaries
    assert status[p.TOTAL] == Status.SHOWN  # the total itself stays useful
    for cell in primaries:
        low, high = lp_range(cell, values, status, eqs)
        assert (low, high) == p.feasible_ranges(values, status, eqs, T)[cell]
        assert high - low >= p.DEFAULT_PROTECTION and low <= values[cell] <= high, cell
    assert lp_range(p.flavour_key("proud2bme"), values, status, eqs) == (0, T - 1)


withheld: list[int] = []


@pytest.mark.parametrize("seed", range(40))
def test_random_releases_never_give_a_small_cell_away(seed: int) -> None:
    rng = random.Random(seed)
    flavours = [f"f{i}" for i in range(rng.randint(2, 6))]
    by_flavour = {f: rng.choice([0, 1, 2, 5, 9, 10, 12, 25, 80, 300]) for f in flavours}
    total = sum(by_flavour.values())
    regions = ["", *GGDS, "pv:a", "pv:b", "pv:c"]
    by_region: Counter[str] = Counter()
    for _ in range(total):
        by_region[rng.choice(regions) if rng.random() < 0.6 else ""] += 1
    values, eqs = p.month_release(by_flavour, dict(by_region), GGDS)
    status = p.protect(values, eqs)
    if set(status.values()) == {Status.WITHHELD}:
        withheld.append(seed)
        return
    for cell, s in status.items():
        if s == Status.PRIMARY:
            low, high = lp_range(cell, values, status, eqs)
            assert high - low >= p.DEFAULT_PROTECTION and low <= values[cell] <= high, (seed, cell)
        if s == Status.SECONDARY:
            assert values[cell] >= T


def test_releases_are_never_withheld_here() -> None:
    assert withheld == []


def test_a_release_needs_matching_totals_and_known_regions() -> None:
    with pytest.raises(ValueError, match="same total"):
        p.month_release({"x": 3}, {"": 2}, GGDS)
    with pytest.raises(ValueError, match="outside"):
        p.month_release({"x": 3}, {"ggd:GG9": 3}, GGDS)


def test_exact_bernoulli_of_exp() -> None:
    rng = random.Random(7)
    draws = 20_000
    hits = sum(p.bernoulli_exp(Fraction(3, 2), rng) for _ in range(draws))
    assert hits / draws == pytest.approx(math.exp(-1.5), abs=0.01)
    with pytest.raises(ValueError):
        p.bernoulli_exp(Fraction(-1), rng)


def test_discrete_laplace_has_the_stated_distribution() -> None:
    rng = random.Random(2024)
    epsilon = Fraction(1, 2)
    draws = [p.discrete_laplace(epsilon, rng) for _ in range(40_000)]
    alpha = math.exp(-0.5)
    counts = Counter(draws)
    for k in (-2, -1, 0, 1, 2, 4):
        expected = (1 - alpha) / (1 + alpha) * alpha ** abs(k)
        assert counts[k] / len(draws) == pytest.approx(expected, abs=0.01), k
    assert sum(draws) / len(draws) == pytest.approx(0, abs=0.1)
    assert sum(d * d for d in draws) / len(draws) == pytest.approx(2 * alpha / (1 - alpha) ** 2, rel=0.05)


def test_the_noise_bound_holds_for_95_percent_of_draws() -> None:
    rng = random.Random(5)
    epsilon = Fraction(1, 4)
    bound = p.noise_bound(epsilon)
    draws = [p.discrete_laplace(epsilon, rng) for _ in range(10_000)]
    inside = sum(abs(d) <= bound for d in draws) / len(draws)
    assert 0.95 <= inside <= 0.97
    assert p.noise_bound(Fraction(2)) < bound  # more budget, less noise


def test_neighbouring_counts_are_almost_indistinguishable() -> None:
    """ε-DP, empirically: the chance of any output moves by at most a factor e^ε between n and n + 1."""
    epsilon = Fraction(1)
    rng = random.Random(11)
    draws = 60_000
    a = Counter(p.discrete_laplace(epsilon, rng) + 20 for _ in range(draws))
    b = Counter(p.discrete_laplace(epsilon, rng) + 21 for _ in range(draws))
    for value in range(18, 24):
        ratio = a[value] / b[value]
        assert math.exp(-1) * 0.85 <= ratio <= math.exp(1) * 1.15, value


def test_noisy_counts_and_buckets_are_clamped_and_seeded() -> None:
    one = [p.noisy_count(0, Fraction(1), random.Random(3)) for _ in range(5)]
    assert all(n >= 0 for n in one)
    assert p.noisy_buckets({1: 4}, 3, Fraction(1), random.Random(9)) == p.noisy_buckets(
        {1: 4}, 3, Fraction(1), random.Random(9)
    )
    assert set(p.noisy_buckets({}, 4, Fraction(1), random.Random(1))) == {0, 1, 2, 3}
    assert p.share_of_budget(Fraction(1), 4) == Fraction(1, 4)
    with pytest.raises(ValueError):
        p.share_of_budget(Fraction(1), 0)
    with pytest.raises(ValueError):
        p.discrete_laplace(Fraction(0), random.Random(1))
