"""What may leave the backoffice: suppression of small cells that no total can undo, and optional noise.

Pure: no I/O; the random source is passed in. The method (also ``docs/decisions/0024-reflectietafel-privacy.md``):

**A release** is everything published about one metric (and sub-kind) for one calendar month: the total over all
flavours, its split per flavour, its split per province (plus "no region chosen") and each province's split per
GGD region (plus "only the province chosen"). Each split is an equation ``margin = sum(parts)``; together they
form a tree of one-dimensional tables. Weeks and days never leave the backoffice, and no sum over months is
published, so releases of different months share no equation.

1. **Primary suppression**: every number below the threshold (default 10, zero included) is shown as ``< 10``.
2. **Secondary suppression**: a published total minus the published parts would give a suppressed part back.
   So the release is attacked the way a reader could: every shown number is known exactly, a ``< 10`` lies in
   0..9 and a ``×`` (suppressed to protect another) is at least the threshold; the bounds are propagated through
   every equation until nothing changes (:func:`feasible_ranges`). A ``< 10`` cell is *open* while the range a
   reader can derive for it is narrower than the protection width (default 5: at least six possible values, as
   0..5 or 4..9). While a cell is open, one more number is suppressed as ``×`` and the attack runs again. The
   candidates are the shown numbers in an equation of an open cell, in this order: the smallest part that can
   absorb the whole range (at least twice the threshold minus one), the smallest other part, the total; the
   first that leaves fewer cells open is taken. Should no suppression close every open cell, the release is
   withheld whole. The result: **no cell shown as ``< 10`` can be narrowed to fewer than six values**; mostly
   its range stays 0..9 (it can shrink when, for example, a province of 13 is split into two GGD regions that
   are both below 10: each is then at least 4). On this tree of tables bound propagation is as strong as linear
   programming; the tests check both.
3. **Noise (optional, public pages only)**: a count gets noise from the discrete Laplace (two-sided geometric)
   distribution, ``P(k) ∝ exp(-ε|k|)``, drawn with the exact sampler of Canonne, Kamath and Steinke (2020,
   algorithms 1 and 2: integer arithmetic only, so no floating-point leak). One event changes a count by one
   (event-level privacy; a person who does many things is protected per thing, not as a whole). Each flavour
   has a budget ε per month; the public figures of that month share it equally (sequential composition), a
   distribution's buckets get noise together at one share (parallel composition: an event lies in one bucket).
   A figure is drawn once and stored, so reloading a page never spends the budget again. Beside each noisy
   figure its 95 % noise bound is stated (:func:`noise_bound`).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

DEFAULT_THRESHOLD = 10
DEFAULT_PROTECTION = 5  # a "< 10" cell keeps a range at least this wide (six values)
INF = math.inf
MAX_ROUNDS = 10_000  # propagation rounds; a tree of tables settles in a few


class Status(StrEnum):
    SHOWN = "shown"
    PRIMARY = "primary"  # below the threshold: "< 10"
    SECONDARY = "secondary"  # suppressed to protect a primary cell: "×"
    WITHHELD = "withheld"  # the whole release is withheld: "×", nothing known


@dataclass(frozen=True, slots=True)
class Equation:
    """``margin = sum(parts)`` as published: a total and its split."""

    margin: Hashable
    parts: tuple[Hashable, ...]


Bounds = tuple[float, float]


def bounds_known(status: Status, value: int, threshold: int) -> Bounds:
    """What a reader knows about a cell from how it is shown."""
    if status == Status.SHOWN:
        return (value, value)
    if status == Status.PRIMARY:
        return (0, threshold - 1)
    if status == Status.WITHHELD:
        return (0, INF)
    return (threshold, INF)


def _tighten(equation: Equation, ranges: dict[Hashable, list[float]]) -> bool:
    """One pass of ``margin = sum(parts)`` over the ranges; True when a bound moved."""
    moved = False
    parts = equation.parts
    lows = [ranges[p][0] for p in parts]
    highs = [ranges[p][1] for p in parts]
    unbounded = sum(1 for h in highs if h == INF)
    low_sum = math.fsum(lows)
    finite_high_sum = math.fsum(h for h in highs if h != INF)
    margin = ranges[equation.margin]
    if low_sum > margin[0]:
        margin[0], moved = low_sum, True
    if unbounded == 0 and finite_high_sum < margin[1]:
        margin[1], moved = finite_high_sum, True
    for index, part in enumerate(parts):
        own_unbounded = highs[index] == INF
        others_unbounded = unbounded - (1 if own_unbounded else 0)
        others_high = INF if others_unbounded else finite_high_sum - (0 if own_unbounded else highs[index])
        others_low = low_sum - lows[index]
        bound = ranges[part]
        low = margin[0] - others_high
        high = margin[1] - others_low
        if low > bound[0]:
            bound[0], moved = low, True
        if high < bound[1]:
            bound[1], moved = high, True
    return moved


def feasible_ranges(
    values: Mapping[Hashable, int], status: Mapping[Hashable, Status], equations: Sequence[Equation], threshold: int
) -> dict[Hashable, Bounds]:
    """The differencing attack: what a reader can derive about every cell from the published tables."""
    ranges = {key: list(bounds_known(status[key], values[key], threshold)) for key in values}
    for _ in range(MAX_ROUNDS):
        moved = False
        for equation in equations:
            moved = _tighten(equation, ranges) or moved
        if not moved:
            break
    return {key: (low, high) for key, (low, high) in ranges.items()}


def exposed(
    values: Mapping[Hashable, int],
    status: Mapping[Hashable, Status],
    equations: Sequence[Equation],
    threshold: int,
    width: int = DEFAULT_PROTECTION,
) -> list[Hashable]:
    """The ``< 10`` cells whose derivable range is narrower than ``width``."""
    ranges = feasible_ranges(values, status, equations, threshold)
    return [key for key, s in status.items() if s == Status.PRIMARY and ranges[key][1] - ranges[key][0] < width]


def _candidates(
    open_cells: Sequence[Hashable],
    values: Mapping[Hashable, int],
    status: Mapping[Hashable, Status],
    equations: Sequence[Equation],
    threshold: int,
) -> list[Hashable]:
    """Shown numbers that could protect the open cells, best first: parts that can absorb the whole range (at
    least twice the threshold minus one), other parts, totals; without any, every shown number, largest first."""
    ranked: dict[Hashable, tuple[int, int]] = {}
    touching = set(open_cells)
    for equation in equations:
        if touching.isdisjoint((equation.margin, *equation.parts)):
            continue
        for part in equation.parts:
            if status[part] == Status.SHOWN:
                rank = (0 if values[part] >= 2 * threshold - 1 else 1, values[part])
                ranked[part] = min(ranked.get(part, rank), rank)
        if status[equation.margin] == Status.SHOWN:
            ranked.setdefault(equation.margin, (2, values[equation.margin]))
    if not ranked:
        ranked = {key: (3, -values[key]) for key, s in status.items() if s == Status.SHOWN}
    return sorted(ranked, key=lambda key: (ranked[key], str(key)))


def protect(
    values: Mapping[Hashable, int],
    equations: Sequence[Equation],
    threshold: int = DEFAULT_THRESHOLD,
    width: int = DEFAULT_PROTECTION,
) -> dict[Hashable, Status]:
    """How each cell of a release is shown, so that no ``< 10`` cell can be narrowed (module docstring).

    Each round suppresses the best ranked candidate that leaves fewer cells open (else the one that leaves the
    fewest). When no suppression closes them all, the release is withheld as a whole (:attr:`Status.WITHHELD`)."""
    if threshold < 1 or not 0 <= width < threshold:
        raise ValueError("threshold must be at least 1 and the protection width below it")
    status = {key: (Status.PRIMARY if value < threshold else Status.SHOWN) for key, value in values.items()}
    for _ in range(len(values) + 1):
        open_cells = exposed(values, status, equations, threshold, width)
        if not open_cells:
            return status
        best: tuple[int, Hashable] | None = None
        for candidate in _candidates(open_cells, values, status, equations, threshold):
            left = len(exposed(values, {**status, candidate: Status.SECONDARY}, equations, threshold, width))
            if best is None or left < best[0]:
                best = (left, candidate)
            if left < len(open_cells):
                break  # the best ranked candidate that helps
        if best is None:
            break
        status[best[1]] = Status.SECONDARY
    return dict.fromkeys(values, Status.WITHHELD)


def shown_as(value: int | None, status: Status, threshold: int = DEFAULT_THRESHOLD) -> str:
    """The text of a published cell: the number, ``< 10`` or ``×``."""
    if status == Status.PRIMARY or value is None:
        return f"< {threshold}"
    if status in (Status.SECONDARY, Status.WITHHELD):
        return "×"
    return str(value)


TOTAL = "totaal"
NONE_CHOSEN = "regio:geen"


def flavour_key(slug: str) -> str:
    return f"smaak:{slug}"


def region_key(region: str) -> str:
    return f"regio:{region}"


def province_only_key(province: str) -> str:
    return f"regio:{province}:alleen"


def month_release(
    by_flavour: Mapping[str, int], by_region: Mapping[str, int], ggd_province: Mapping[str, str]
) -> tuple[dict[Hashable, int], list[Equation]]:
    """The cells and equations of one release (module docstring): every flavour given, every province and GGD
    region of ``ggd_province`` (GGD key -> province key), zeros included. ``by_region`` is keyed by the counted
    region (a GGD key, a province key, or "" for none) and must add up to the same total as ``by_flavour``."""
    total = sum(by_flavour.values())
    if sum(by_region.values()) != total:
        raise ValueError("the flavour split and the region split of a release must have the same total")
    values: dict[Hashable, int] = {TOTAL: total}
    values.update({flavour_key(slug): n for slug, n in by_flavour.items()})
    provinces = sorted(set(ggd_province.values()))
    values[NONE_CHOSEN] = by_region.get("", 0)
    equations = [Equation(TOTAL, tuple(flavour_key(slug) for slug in by_flavour))]
    region_parts: list[Hashable] = [NONE_CHOSEN]
    for province in provinces:
        ggds = sorted(g for g, p in ggd_province.items() if p == province)
        parts: tuple[Hashable, ...] = (*(region_key(g) for g in ggds), province_only_key(province))
        values.update({region_key(g): by_region.get(g, 0) for g in ggds})
        values[province_only_key(province)] = by_region.get(province, 0)
        values[region_key(province)] = sum(by_region.get(g, 0) for g in ggds) + by_region.get(province, 0)
        equations.append(Equation(region_key(province), parts))
        region_parts.append(region_key(province))
    unknown = set(by_region) - set(ggd_province) - set(provinces) - {""}
    if unknown:
        raise ValueError(f"regions outside the region list: {sorted(unknown)}")
    equations.append(Equation(TOTAL, tuple(region_parts)))
    return values, equations


# --- noise ------------------------------------------------------------------------------------------------------


class RandomSource(Protocol):
    """``random.SystemRandom()`` in production, ``random.Random(seed)`` in tests."""

    def randrange(self, stop: int, /) -> int: ...


def _bernoulli(numerator: int, denominator: int, rng: RandomSource) -> bool:
    return rng.randrange(denominator) < numerator


def _bernoulli_exp_unit(gamma: Fraction, rng: RandomSource) -> bool:
    """Bernoulli(exp(-gamma)) for gamma in [0, 1] (CKS algorithm 1)."""
    k = 1
    while _bernoulli(gamma.numerator, gamma.denominator * k, rng):
        k += 1
    return k % 2 == 1


def bernoulli_exp(gamma: Fraction, rng: RandomSource) -> bool:
    """Bernoulli(exp(-gamma)) for gamma >= 0, exactly."""
    if gamma < 0:
        raise ValueError("gamma must be at least 0")
    while gamma > 1:
        if not _bernoulli_exp_unit(Fraction(1), rng):
            return False
        gamma -= 1
    return _bernoulli_exp_unit(gamma, rng)


def discrete_laplace(epsilon: Fraction, rng: RandomSource) -> int:
    """One draw with ``P(k) ∝ exp(-epsilon·|k|)`` (CKS algorithm 2 with scale 1/epsilon)."""
    if epsilon <= 0:
        raise ValueError("epsilon must be positive")
    s, t = epsilon.numerator, epsilon.denominator  # scale t/s
    while True:
        u = rng.randrange(t)
        if not bernoulli_exp(Fraction(u, t), rng):
            continue
        v = 0
        while bernoulli_exp(Fraction(1), rng):
            v += 1
        y = (u + t * v) // s
        negative = rng.randrange(2) == 1
        if negative and y == 0:
            continue
        return -y if negative else y


def noise_bound(epsilon: Fraction, confidence: float = 0.95) -> int:
    """The smallest k with P(|noise| > k) <= 1 - confidence: "± k" beside a noisy figure."""
    alpha = math.exp(-float(epsilon))
    k = 0
    while 2 * alpha ** (k + 1) / (1 + alpha) > 1 - confidence:
        k += 1
    return k


def noisy_count(value: int, epsilon: Fraction, rng: RandomSource) -> int:
    """A count with noise, never below zero (clamping after the draw is post-processing: still ε-DP)."""
    return max(0, value + discrete_laplace(epsilon, rng))


def noisy_buckets(buckets: Mapping[int, int], size: int, epsilon: Fraction, rng: RandomSource) -> dict[int, int]:
    """A whole distribution at one ε: every bucket, empty ones too, gets its own draw (parallel composition)."""
    return {index: noisy_count(buckets.get(index, 0), epsilon, rng) for index in range(size)}


def share_of_budget(budget: Fraction, figures: int) -> Fraction:
    """Each figure's ε when ``figures`` figures of one period share ``budget`` (sequential composition)."""
    if figures < 1 or budget <= 0:
        raise ValueError("a positive budget over at least one figure")
    return budget / figures
