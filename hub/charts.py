"""Geometry for the server-rendered SVG charts: sparklines and the KPI detail chart.

Hand-written rather than a chart library: two small, static pictures that must print,
work without JavaScript and draw the green/amber/red zones as bands. This module only
computes coordinates; `templates/macros/charts.html` turns them into SVG, so every label
is escaped by Jinja like any other text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from hub.domain.status import Bounds


class Point(NamedTuple):
    """One period on a chart: its label (the period key) and value, or None for a gap."""

    label: str
    value: Decimal | None
    text: str = ""  # the value as the user reads it ("91,000 €"), for tooltips


class Mark(NamedTuple):
    """A plotted point."""

    x: float
    y: float
    label: str
    text: str


class Band(NamedTuple):
    """A threshold zone drawn as a horizontal band."""

    zone: str  # green | amber | red
    y: float
    height: float


class Tick(NamedTuple):
    y: float
    text: str


class XLabel(NamedTuple):
    x: float
    text: str


@dataclass
class Chart:
    """Everything the chart template draws, in SVG user units."""

    width: int
    height: int
    left: float
    right: float
    lines: list[str] = field(default_factory=list)  # polyline `points` attributes
    marks: list[Mark] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[XLabel] = field(default_factory=list)
    description: str = "no values yet"

    @property
    def last(self) -> Mark | None:
        return self.marks[-1] if self.marks else None


def _scale(low: float, high: float, top: float, bottom: float) -> Callable[[float], float]:
    span = (high - low) or 1.0

    def y(value: float) -> float:
        return round(bottom - (value - low) / span * (bottom - top), 2)

    return y


def _lines(xs: Sequence[float], ys: Sequence[float | None]) -> list[str]:
    """Polyline point lists, broken where a period has no value."""
    runs: list[list[str]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{x:g},{y:g}")
    return [" ".join(run) for run in runs if run]


def _plot(chart: Chart, points: Sequence[Point], y: Callable[[float], float]) -> list[float]:
    step = (chart.width - chart.left - chart.right) / max(len(points) - 1, 1)
    xs = [round(chart.left + i * step, 2) for i in range(len(points))]
    ys = [None if p.value is None else y(float(p.value)) for p in points]
    chart.lines = _lines(xs, ys)
    chart.marks = [
        Mark(x, py, p.label, p.text or str(p.value))
        for x, py, p in zip(xs, ys, points, strict=True)
        if py is not None
    ]
    chart.description = ", ".join(f"{m.label}: {m.text}" for m in chart.marks) or "no values yet"
    return xs


def sparkline(points: Sequence[Point], *, width: int = 120, height: int = 28) -> Chart:
    """A small trend line of the last periods; the template marks the latest value."""
    pad = 3.0
    chart = Chart(width=width, height=height, left=pad, right=pad)
    numbers = [float(p.value) for p in points if p.value is not None]
    if numbers:
        _plot(chart, points, _scale(min(numbers), max(numbers), pad, height - pad))
    return chart


def zone_bands(bounds: Bounds, low: float, high: float) -> list[tuple[str, float, float]]:
    """The zones between `low` and `high` as (zone, from, to), in drawing order.

    Amber is the background; green and red are drawn over it, exactly where PRODUCT.md §2
    puts them (green inside [green_min, green_max], red outside [red_min, red_max]).
    """
    if bounds.is_open():
        return []

    def clamp(value: Decimal | None, default: float) -> float:
        return default if value is None else min(max(float(value), low), high)

    bands = [("amber", low, high)]
    green_low, green_high = clamp(bounds.green_min, low), clamp(bounds.green_max, high)
    if green_high > green_low:
        bands.append(("green", green_low, green_high))
    if bounds.red_min is not None and float(bounds.red_min) > low:
        bands.append(("red", low, clamp(bounds.red_min, low)))
    if bounds.red_max is not None and float(bounds.red_max) < high:
        bands.append(("red", clamp(bounds.red_max, high), high))
    return bands


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round-numbered axis values (steps of 1, 2, 2.5 or 5 × 10ⁿ) within [low, high]."""
    if not high > low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    value = math.ceil(low / step) * step
    ticks = []
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10) + 0.0)  # + 0.0 turns -0.0 into 0.0
        value += step
    return ticks


def kpi_chart(
    points: Sequence[Point],
    bounds: Bounds,
    *,
    tick_text: Callable[[Decimal], str] = str,
    width: int = 720,
    height: int = 260,
) -> Chart:
    """Values over time over the KPI's green, amber and red zones.

    The y range covers the values and every finite bound (so the zones show even when
    all values sit in one of them), padded by 8 %.
    """
    chart = Chart(width=width, height=height, left=64.0, right=32.0)
    top, bottom = 12.0, height - 30.0
    numbers = [float(p.value) for p in points if p.value is not None]
    limits = [
        float(b)
        for b in (bounds.red_min, bounds.green_min, bounds.green_max, bounds.red_max)
        if b is not None
    ]
    everything = numbers + limits or [0.0, 1.0]
    low, high = min(everything), max(everything)
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad
    y = _scale(low, high, top, bottom)
    xs = _plot(chart, points, y)
    chart.bands = [
        Band(zone, y(end), round(y(start) - y(end), 2))
        for zone, start, end in zone_bands(bounds, low, high)
    ]
    chart.ticks = [Tick(y(t), tick_text(Decimal(repr(t)))) for t in nice_ticks(low, high)]
    every = max(1, math.ceil(len(points) / 8))
    chart.x_labels = [
        XLabel(xs[i], p.label)
        for i, p in enumerate(points)
        if i % every == 0 or (i == len(points) - 1 and i % every >= every / 2)
    ]
    return chart
