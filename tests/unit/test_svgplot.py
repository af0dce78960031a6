"""The Reflectietafel's charts: a value axis in round steps, category labels turned when they do not fit side by
side (with room for them), and numbers left to the template so they get the reader's decimal sign."""

from __future__ import annotations

import jinja2
import pytest

from chatserver.web import svgplot
from chatserver.web.filters import number


@pytest.mark.parametrize(
    ("largest", "top", "ticks"),
    [
        (25, 30, [0, 10, 20, 30]),
        (4, 4, [0, 1, 2, 3, 4]),
        (1.5, 1.5, [0, 0.5, 1.0, 1.5]),
        (0.1, 0.1, [0, 0.025, 0.05, 0.075, 0.1]),
        (0, 1, [0, 1]),
        (730, 800, [0, 200, 400, 600, 800]),
    ],
)
def test_the_value_axis_runs_in_round_steps_to_the_largest_value_or_just_above(
    largest: float, top: float, ticks: list[float]
) -> None:
    assert svgplot.axis([[0.0, largest]]) == (pytest.approx(top), pytest.approx(ticks))


def test_short_labels_stand_side_by_side_and_long_ones_are_turned_with_room_below_and_left() -> None:
    weeks = svgplot.layout("bar", "t", ["2030-W01", "2030-W02", "2030-W03"], [("a", [1.0, 2.0, 3.0])], "c1")
    assert weeks.turn == 0 and weeks.height == svgplot.HEIGHT and weeks.left == svgplot.PAD_LEFT
    kinds = ["Home page", "Chat rooms", "1-on-1 chat", "Forum", "Consultation hours", "Articles", "VraagBaak",
             "Market", "Help", "Figures"]  # fmt: skip
    turned = svgplot.layout("bar", "t", kinds, [("a", [1.0] * len(kinds))], "c2")
    assert turned.turn == svgplot.TURN_DEGREES
    assert turned.height > svgplot.HEIGHT and turned.left > svgplot.PAD_LEFT
    assert [label.text for label in turned.x_labels] == kinds
    assert all(bar.x >= turned.left for bar in turned.bars)


def test_a_very_long_turned_label_is_cut_and_the_table_keeps_it_whole() -> None:
    long = "rules-2.lr-fbbb9204-and-a-much-longer-version"
    plot = svgplot.layout("bar", "t", [long, "x" * 30], [("a", [1.0, 2.0])], "c3")
    assert plot.x_labels[0].text.endswith("…") and len(plot.x_labels[0].text) == svgplot.MAX_TURNED_CHARS


@pytest.mark.parametrize(
    ("lang", "value", "shown"),
    [("nl", 0.25, "0,25"), ("en", 0.25, "0.25"), ("nl", 6.0, "6"), ("en", 1.5, "1.5"), ("nl", "–", "–")],
)
def test_numbers_take_the_decimal_sign_of_the_page_language(lang: str, value: object, shown: str) -> None:
    env = jinja2.Environment(autoescape=True)
    env.filters["number"] = number
    assert env.from_string("{{ v|number }}").render(v=value, lang=lang) == shown
