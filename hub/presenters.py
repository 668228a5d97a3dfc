"""How the rules' results read on a page: status words and icons, targets, values.

Template globals and filters only; every decision stays in hub/domain. Colour is never the
only signal: each status comes with an icon and a word.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Flask

from hub.charts import Chart, Point, kpi_chart, sparkline
from hub.domain.formatting import format_value
from hub.domain.periods import Period
from hub.domain.scorecard import bounds_of
from hub.domain.scoring import InitiativeStatus
from hub.domain.status import Direction, Status
from hub.models import Kpi, Mode, Workspace

STATUS_WORDS = {
    Status.GREEN: ("✓", "Green"),
    Status.AMBER: ("!", "Amber"),
    Status.RED: ("✕", "Red"),
    Status.NONE: ("–", "No data"),
}

INITIATIVE_WORDS = {
    InitiativeStatus.ON_TRACK: ("✓", "On track", "green"),
    InitiativeStatus.AT_RISK: ("!", "At risk", "amber"),
    InitiativeStatus.OFF_TRACK: ("✕", "Off track", "red"),
    InitiativeStatus.DONE: ("✓", "Done", "green"),
    InitiativeStatus.OVERDUE: ("✕", "Overdue", "red"),
}

DIRECTION_WORDS = {
    Direction.UP: "Higher is better",
    Direction.DOWN: "Lower is better",
    Direction.RANGE: "Within a range",
}


def status_word(status: Status | str, *, no_target: bool = False) -> tuple[str, str]:
    """(icon, word) of a KPI status; a KPI with values but no target reads 'No target'."""
    status = Status(status)
    if status is Status.NONE and no_target:
        return ("–", "No target")
    return STATUS_WORDS[status]


def initiative_word(status: InitiativeStatus | str) -> tuple[str, str, str]:
    """(icon, word, colour) of an initiative status."""
    return INITIATIVE_WORDS[InitiativeStatus(status)]


def kpi_value(value: Decimal | None, kpi: Kpi, workspace: Workspace) -> str:
    """A KPI value as people read it: '$91,000', '12.5%', '4.5 h'; '—' for none."""
    return format_value(value, kpi.unit, kpi.decimals, workspace.currency)


def target_text(kpi: Kpi, workspace: Workspace) -> str:
    """The thresholds in a few words: '≥ 100,000 (red < 90,000)', '40–60', 'No target'."""
    bounds = bounds_of(kpi)
    if bounds.is_open():
        return "No target"

    def show(number: Decimal) -> str:
        return format_value(number, kpi.unit, kpi.decimals, workspace.currency)

    g_min, g_max, r_min, r_max = bounds.green_min, bounds.green_max, bounds.red_min, bounds.red_max
    if g_min is not None and g_max is not None:
        green = f"{show(g_min)}–{show(g_max)}"
    elif g_min is not None:
        green = f"≥ {show(g_min)}"
    elif g_max is not None:
        green = f"≤ {show(g_max)}"
    else:
        green = ""
    reds = []
    if r_min is not None:
        reds.append(f"< {show(r_min)}")
    if r_max is not None:
        reds.append(f"> {show(r_max)}")
    red = f"red {' or '.join(reds)}" if reds else ""
    if green and red:
        return f"{green} ({red})"
    return green or red.capitalize()


def trend_points(
    trend: list[tuple[Period, Decimal | None]], kpi: Kpi, workspace: Workspace
) -> list[Point]:
    return [Point(p.key, v, kpi_value(v, kpi, workspace)) for p, v in trend]


def kpi_sparkline(
    trend: list[tuple[Period, Decimal | None]], kpi: Kpi, workspace: Workspace
) -> Chart:
    """The geometry of a KPI's trend sparkline."""
    return sparkline(trend_points(trend, kpi, workspace))


def kpi_zone_chart(
    trend: list[tuple[Period, Decimal | None]], kpi: Kpi, workspace: Workspace
) -> Chart:
    """The geometry of a KPI's values over its threshold zones."""
    return kpi_chart(
        trend_points(trend, kpi, workspace),
        bounds_of(kpi),
        tick_text=lambda tick: format_value(
            tick, kpi.unit, min(max(kpi.decimals, _places(tick)), 6), workspace.currency
        ),
    )


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def vocabulary(workspace: Workspace) -> dict[str, str]:
    """Words that follow the workspace's mode: OKR-only workspaces say 'Objective'."""
    okr = Mode(workspace.mode) is Mode.OKR
    return {
        "initiative": "Objective" if okr else "Initiative",
        "initiatives": "Objectives" if okr else "Initiatives",
    }


def register(app: Flask) -> None:
    app.jinja_env.globals.update(
        status_word=status_word,
        initiative_word=initiative_word,
        kpi_value=kpi_value,
        target_text=target_text,
        kpi_sparkline=kpi_sparkline,
        kpi_zone_chart=kpi_zone_chart,
        vocabulary=vocabulary,
        DIRECTION_WORDS=DIRECTION_WORDS,
    )
