"""The portfolio: every workspace of a user, each with the health a consultant scans for."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hub.domain.scorecard import build_scorecard
from hub.domain.workspaces import workspaces_of
from hub.models import Cycle, Role, User, Workspace

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class PortfolioRow:
    """One workspace as the portfolio lists it."""

    workspace: Workspace
    role: Role
    member_count: int
    counts: dict[str, int]  # KPIs by status (green, amber, red, none) and late
    cycle: Cycle | None
    average_score: Decimal | None  # mean score of the active cycle's objectives

    @property
    def kpi_total(self) -> int:
        return sum(self.counts[s] for s in ("green", "amber", "red", "none"))


def portfolio(user: User) -> list[PortfolioRow]:
    """The user's workspaces by name, with KPI counts by colour, late KPIs and the active
    cycle's average objective score (a scorecard per workspace: a fixed number of
    queries each, whatever their size)."""
    rows = []
    for workspace, role, member_count in workspaces_of(user):
        card = build_scorecard(workspace)
        scores = [
            c.score if c.score is not None else c.percent / 100
            for c in card.initiatives
            if card.cycle is not None and c.initiative.cycle_id == card.cycle.id
        ]
        average = (sum(scores) / len(scores)).quantize(TWO_PLACES) if scores else None
        rows.append(
            PortfolioRow(workspace, role, member_count, card.status_counts(), card.cycle, average)
        )
    return rows
