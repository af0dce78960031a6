"""Small server-rendered SVG charts (bars and lines): the geometry is computed here, the template
``templates/partials/reflectie/_chart.html`` draws it with a ``<title>`` and ``<desc>``; the page puts the same
numbers in a table beside each chart for screen readers. No script, no external request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 240
PAD_LEFT = 44
PAD_BOTTOM = 40
PAD_TOP = 12
COLOURS = ("#1f5f8b", "#b34700", "#2e7d32", "#6a1b9a")  # at least 4.5:1 on white
MAX_LABELS = 14


def _scale(values: Sequence[Sequence[float]]) -> float:
    top = max((v for series in values for v in series), default=0.0)
    return top if top > 0 else 1.0


def _ticks(top: float) -> list[float]:
    return [top * i / 4 for i in range(5)]


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}".replace(".", ",")


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # the tooltip: "<label>: <value>", the label translated by the template
    value: str


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
class Layout:
    """Everything ``templates/partials/reflectie/_chart.html`` draws; every text is escaped by the template."""

    ident: str
    title: str
    peaks: list[tuple[str, str]]  # the description: each series' name and its highest value
    width: int
    height: int
    grid: list[Label] = field(default_factory=list)  # y: the line's height; text: the tick
    x_labels: list[Label] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[float, str, str]] = field(default_factory=list)  # x, colour, name
    left: int = PAD_LEFT
    right: int = WIDTH - 8


def layout(
    kind: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    ident: str,
) -> Layout:
    """A bar chart (``kind="bar"``) or line chart of ``series`` over ``x_labels``."""
    plot_w = WIDTH - PAD_LEFT - 8
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    top = _scale([values for _, values in series])
    n = max(1, len(x_labels))
    step = plot_w / n
    peaks = [(name, _number(max(values, default=0))) for name, values in series]
    out = Layout(ident, title, peaks, WIDTH, HEIGHT)
    for tick in _ticks(top):
        out.grid.append(Label(PAD_LEFT - 6, PAD_TOP + plot_h - tick / top * plot_h, _number(tick)))
    every = max(1, -(-n // MAX_LABELS))
    for i, label in enumerate(x_labels):
        if i % every == 0:
            out.x_labels.append(Label(PAD_LEFT + step * (i + 0.5), HEIGHT - PAD_BOTTOM + 16, label))
    for index, (name, values) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        if kind == "bar":
            width = step * 0.8 / max(1, len(series))
            for i, value in enumerate(values):
                h = value / top * plot_h
                x = PAD_LEFT + step * i + step * 0.1 + width * index
                out.bars.append(Bar(x, PAD_TOP + plot_h - h, width, h, colour, x_labels[i], _number(value)))
        else:
            points = " ".join(
                f"{PAD_LEFT + step * (i + 0.5):.1f},{PAD_TOP + plot_h - value / top * plot_h:.1f}"
                for i, value in enumerate(values)
            )
            out.lines.append(Line(points, colour, index > 0))
        out.legend.append((PAD_LEFT + index * 150, colour, name))
    return out
