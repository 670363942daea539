"""The server-drawn bar chart's layout (messaging.chart): pure, no database."""

from __future__ import annotations

import pytest

from messaging import chart

SERIES = (chart.Series("Delivered", "#1d7a3e"), chart.Series("Failed", "#b3261e"))


@pytest.mark.parametrize(
    ("maximum", "top", "step"),
    [
        (0, 4, 1),
        (1, 4, 1),
        (4, 4, 1),
        (5, 8, 2),
        (9, 20, 5),
        (37, 40, 10),
        (41, 80, 20),
        (950, 1000, 250),
        (83_000, 100_000, 25_000),
        (100_001, 200_000, 50_000),
    ],
)
def test_the_axis_top_is_a_round_number_at_or_above_the_tallest_bar(
    maximum: int, top: int, step: int
) -> None:
    assert chart.axis_top(maximum) == (top, step)
    assert top >= maximum and top == step * 4


def test_segments_stack_from_the_axis_and_their_heights_follow_the_values() -> None:
    drawn = chart.stacked_bars(["Jan", "Feb"], [(3, 1), (0, 2)], SERIES, width=400, height=200)

    january, february = drawn.bars
    assert [s.title for s in january.segments] == ["Jan: 3 delivered", "Jan: 1 failed"]
    assert [s.title for s in february.segments] == ["Feb: 2 failed"]  # a zero is not drawn
    bottom = january.segments[0].y + january.segments[0].height
    assert bottom == pytest.approx(drawn.bottom)
    # Each segment sits on the one below it.
    assert january.segments[1].y + january.segments[1].height == pytest.approx(
        january.segments[0].y, abs=0.2
    )
    unit = (drawn.bottom - drawn.top) / 4  # axis 0..4
    assert january.segments[0].height == pytest.approx(3 * unit, abs=0.2)
    assert (january.total, february.total) == (4, 2)
    assert january.label_x < february.label_x
    assert [t.value for t in drawn.ticks] == [0, 1, 2, 3, 4]


def test_an_empty_chart_still_has_an_axis_and_no_bars_drawn() -> None:
    drawn = chart.stacked_bars(["Jan"], [(0, 0)], SERIES)

    assert drawn.bars[0].segments == ()
    assert [t.value for t in drawn.ticks] == [0, 1, 2, 3, 4]


def test_values_that_do_not_match_the_series_are_refused() -> None:
    with pytest.raises(ValueError, match="One value per series"):
        chart.stacked_bars(["Jan"], [(1,)], SERIES)
    with pytest.raises(ValueError, match="One value per series"):
        chart.stacked_bars(["Jan", "Feb"], [(1, 2)], SERIES)
