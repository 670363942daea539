"""A stacked bar chart laid out on the server, for an inline SVG (no script, nothing remote).

`stacked_bars` is pure: categories and their values in, coordinates out; the template draws
them. The page always shows the same figures in a table, which is the chart's text alternative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    label: str
    # A colour with at least 3:1 contrast against white (WCAG non-text contrast).
    color: str


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    color: str
    # What a pointer hovering the segment reads (the SVG <title>).
    title: str


@dataclass(frozen=True)
class Bar:
    label: str
    label_x: float
    total: int
    total_y: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    series: tuple[Series, ...]

    @property
    def label_y(self) -> float:
        return self.bottom + 18

    @property
    def tick_label_x(self) -> float:
        return self.left - 6


def axis_top(maximum: int, ticks: int = 4) -> tuple[int, int]:
    """A round top for the axis at or above `maximum`, and the step between its `ticks` lines:
    1, 2, 2.5 or 5 times a power of ten, whole numbers only (an empty chart gets 0 to 4)."""
    if maximum <= 0:
        return ticks, 1
    power = 10 ** math.floor(math.log10(maximum / ticks))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if step >= 1 and step == int(step) and step * ticks >= maximum:
            return int(step) * ticks, int(step)
    raise AssertionError("unreachable: factor 10 always covers the maximum")


def stacked_bars(
    categories: Sequence[str],
    values: Sequence[Sequence[int]],
    series: Sequence[Series],
    *,
    width: int = 720,
    height: int = 260,
) -> BarChart:
    """One bar per category, each made of `values[i][j]` for series j, stacked from the bottom.

    :raises ValueError: when the values do not match the categories and series.
    """
    if len(values) != len(categories) or any(len(row) != len(series) for row in values):
        raise ValueError("One value per series is needed for each category.")
    left, right, top, bottom = 56.0, width - 12.0, 16.0, height - 32.0
    top_value, step = axis_top(max((sum(row) for row in values), default=0))
    plot_height = bottom - top
    slot = (right - left) / max(1, len(categories))
    bar_width = slot * 0.62

    def y_of(value: float) -> float:
        return bottom - plot_height * value / top_value

    bars = []
    for index, (category, row) in enumerate(zip(categories, values, strict=True)):
        x = left + slot * index + (slot - bar_width) / 2
        base = 0
        segments = []
        for amount, kind in zip(row, series, strict=True):
            if amount:
                segments.append(
                    Segment(
                        x=round(x, 1),
                        y=round(y_of(base + amount), 1),
                        width=round(bar_width, 1),
                        height=round(y_of(base) - y_of(base + amount), 1),
                        color=kind.color,
                        title=f"{category}: {amount:,} {kind.label.lower()}",
                    )
                )
            base += amount
        bars.append(
            Bar(
                label=category,
                label_x=round(left + slot * index + slot / 2, 1),
                total=base,
                total_y=round(y_of(base) - 4, 1),
                segments=tuple(segments),
            )
        )
    ticks = tuple(
        Tick(y=round(y_of(value), 1), value=value) for value in range(0, top_value + 1, step)
    )
    return BarChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        bars=tuple(bars),
        ticks=ticks,
        series=tuple(series),
    )
