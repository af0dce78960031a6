"""Small server-rendered SVG charts (bars and lines): the geometry is computed here, the template
``templates/partials/reflectie/_chart.html`` draws it with a ``<title>`` and ``<desc>``; the page puts the same
numbers in a table beside each chart for screen readers. No script, no external request.

Numbers stay numbers here (the template writes them with the reader's decimal sign), the value axis has round
steps (1, 2, 2.5 or 5 times a power of ten), and category labels too long to stand side by side are turned.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 240
PAD_LEFT = 44
PAD_BOTTOM = 40
PAD_TOP = 12
COLOURS = ("#1f5f8b", "#b34700", "#2e7d32", "#6a1b9a")  # at least 4.5:1 on white
MAX_LABELS = 14
STEPS = 4  # about this many steps on the value axis
CHAR_WIDTH = 6.6  # an average character of the 11-unit axis font, in viewBox units (a little generous)
TURN_DEGREES = 40
MAX_TURNED_CHARS = 22  # a turned label longer than this is cut (the table beside the chart has it whole)


def nice_step(top: float, steps: int = STEPS) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) that covers ``top`` in about ``steps`` steps."""
    if top <= 0:
        return 1.0
    raw = top / steps
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10.0 * power


def axis(values: Sequence[Sequence[float]]) -> tuple[float, list[float]]:
    """The top of the value axis and its ticks, from 0 to a round number at or above the largest value."""
    largest = max((v for series in values for v in series), default=0.0)
    step = nice_step(largest)
    count = max(1, math.ceil(largest / step - 1e-9))
    return step * count, [round(step * i, 10) for i in range(count + 1)]


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # the tooltip: "<label>: <value>", the label translated by the template
    value: float


@dataclass(frozen=True, slots=True)
class Line:
    points: str
    colour: str
    dashed: bool


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: float


@dataclass(frozen=True, slots=True)
class Layout:
    """Everything ``templates/partials/reflectie/_chart.html`` draws; every text is escaped by the template."""

    ident: str
    title: str
    peaks: list[tuple[str, float]]  # the description: each series' name and its highest value
    width: int
    height: int
    grid: list[Tick] = field(default_factory=list)
    x_labels: list[Label] = field(default_factory=list)
    turn: int = 0  # degrees the category labels are turned (anchored at their end), 0 when they stand side by side
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[float, str, str]] = field(default_factory=list)  # x, colour, name
    left: int = PAD_LEFT
    right: int = WIDTH - 8


@dataclass(frozen=True, slots=True)
class _Axis:
    every: int  # show every n-th category label
    turn: int  # degrees, 0 when the labels stand side by side
    left: int  # the plot's left edge: room for the value labels, and for the first turned label
    extra: int  # height added below the plot for turned labels


def _category_axis(x_labels: Sequence[str]) -> _Axis:
    n = max(1, len(x_labels))
    every = max(1, -(-n // MAX_LABELS))
    room = (WIDTH - PAD_LEFT - 8) / n * every
    longest = max((len(label) for label in x_labels[::every]), default=0)
    if longest * CHAR_WIDTH <= room * 0.9:
        return _Axis(every, 0, PAD_LEFT, 0)
    length = min(longest, MAX_TURNED_CHARS) * CHAR_WIDTH
    extra = math.ceil(length * math.sin(math.radians(TURN_DEGREES)))
    reach = length * math.cos(math.radians(TURN_DEGREES))  # how far the first label runs to the left
    left = max(PAD_LEFT, math.ceil(reach - (WIDTH - PAD_LEFT - 8) / n / 2 + 4))
    return _Axis(every, TURN_DEGREES, left, extra)


def layout(
    kind: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    ident: str,
) -> Layout:
    """A bar chart (``kind="bar"``) or line chart of ``series`` over ``x_labels``."""
    cats = _category_axis(x_labels)
    left = cats.left
    plot_w = WIDTH - left - 8
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    top, ticks = axis([values for _, values in series])
    n = max(1, len(x_labels))
    step = plot_w / n
    peaks = [(name, max(values, default=0.0)) for name, values in series]
    out = Layout(ident, title, peaks, WIDTH, HEIGHT + cats.extra, turn=cats.turn, left=left)
    for tick in ticks:
        out.grid.append(Tick(PAD_TOP + plot_h - tick / top * plot_h, tick))
    for i, label in enumerate(x_labels):
        if i % cats.every == 0:
            cut = cats.turn and len(label) > MAX_TURNED_CHARS
            text = label[: MAX_TURNED_CHARS - 1] + "…" if cut else label
            out.x_labels.append(Label(left + step * (i + 0.5), HEIGHT - PAD_BOTTOM + 16, text))
    for index, (name, values) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        if kind == "bar":
            width = step * 0.8 / max(1, len(series))
            for i, value in enumerate(values):
                h = value / top * plot_h
                x = left + step * i + step * 0.1 + width * index
                out.bars.append(Bar(x, PAD_TOP + plot_h - h, width, h, colour, x_labels[i], value))
        else:
            points = " ".join(
                f"{left + step * (i + 0.5):.1f},{PAD_TOP + plot_h - value / top * plot_h:.1f}"
                for i, value in enumerate(values)
            )
            out.lines.append(Line(points, colour, index > 0))
        out.legend.append((left + index * 150, colour, name))
    return out
