"""The SVG charts: zones where the rules put them, gaps kept, text escaped."""

from decimal import Decimal as D

import pytest
from flask import render_template_string

from hub.charts import Point, kpi_chart, nice_ticks, sparkline, zone_bands
from hub.domain.status import Bounds


def points(*values):
    return [Point(f"P{i}", None if v is None else D(str(v))) for i, v in enumerate(values)]


def test_higher_is_better_draws_red_below_the_red_line_and_green_above_the_target():
    bands = zone_bands(Bounds(green_min=D(100), red_min=D(90)), 0, 200)
    assert bands == [("amber", 0, 200), ("green", 100.0, 200), ("red", 0, 90.0)]


def test_a_range_kpi_has_red_on_both_sides():
    bounds = Bounds(green_min=D(40), green_max=D(60), red_min=D(20), red_max=D(80))
    zones = zone_bands(bounds, 0, 100)
    assert ("red", 0, 20.0) in zones
    assert ("red", 80.0, 100) in zones
    assert ("green", 40.0, 60.0) in zones


def test_no_target_draws_no_zones():
    assert zone_bands(Bounds(), 0, 100) == []


def test_zones_outside_the_drawn_range_are_left_out():
    # lower is better, every value far below the red line: no red band to draw.
    zones = zone_bands(Bounds(green_max=D(10), red_max=D(20)), 0, 5)
    assert [zone for zone, *_ in zones] == ["amber", "green"]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 100, [0, 25, 50, 75, 100]),
        (-3, 3, [-2, 0, 2]),
        (0.01, 0.05, [0.01, 0.02, 0.03, 0.04, 0.05]),
        (5, 5, [5]),
    ],
)
def test_axis_ticks_are_round_numbers(low, high, expected):
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_a_missing_period_breaks_the_line_instead_of_bridging_it():
    chart = sparkline(points(1, 2, None, 4, 5))
    assert len(chart.lines) == 2
    assert [m.label for m in chart.marks] == ["P0", "P1", "P3", "P4"]
    assert chart.last.label == "P4"


def test_a_sparkline_without_values_says_so():
    chart = sparkline(points(None, None))
    assert chart.lines == []
    assert chart.description == "no values yet"


def test_higher_values_are_drawn_higher():
    chart = kpi_chart(points(10, 20, 30), Bounds(green_min=D(25), red_min=D(15)))
    ys = [mark.y for mark in chart.marks]
    assert ys == sorted(ys, reverse=True)
    green = next(b for b in chart.bands if b.zone == "green")
    # The 30 sits inside the green band, the 10 below it.
    assert green.y <= chart.marks[2].y <= green.y + green.height
    assert chart.marks[0].y > green.y + green.height


def test_the_chart_template_escapes_labels(app):
    chart = kpi_chart([Point("<b>2026-11</b>", D(5), "<script>x</script>")], Bounds(green_min=D(4)))
    html = render_template_string(
        '{% import "macros/charts.html" as charts %}{{ charts.kpi_chart(chart, label) }}',
        chart=chart,
        label='Revenue "net"',
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;2026-11&lt;/b&gt;" in html
    assert 'fill="#dcf1e3"' in html  # the green zone is painted
    assert "Green zone" in html
