"""Bets vs gauges for a workspace's active cycle: loads the data, applies the pure rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hub.domain.bets import BetInput, BetsReport, GaugeInput, bets_vs_gauges, gauge_movement
from hub.domain.scorecard import (
    InitiativeCard,
    KpiCard,
    Scorecard,
    bounds_of,
    build_scorecard,
    latest_values,
)
from hub.domain.status import Direction
from hub.models import Cycle, Workspace


@dataclass(frozen=True)
class BetsMatrix:
    """The report for one cycle (None when no cycle is active)."""

    cycle: Cycle | None
    report: BetsReport | None
    scorecard: Scorecard
    # Each KPI's value at the cycle start (the last on or before it), by KPI key.
    baselines: dict[str, Decimal] = field(default_factory=dict)

    def kpi(self, key: str) -> KpiCard:
        """The scorecard card of a gauge, for its latest value, unit and status."""
        return next(card for card in self.scorecard.kpis if card.kpi.key == key)

    def initiative(self, key: str) -> InitiativeCard:
        """The scorecard card of a bet, for its progress and owner."""
        return next(c for c in self.scorecard.initiatives if c.initiative.key == key)


def build_bets_matrix(scorecard: Scorecard) -> BetsMatrix:
    """Initiatives in play (the active cycle's and long-running ones) × the KPIs they target."""
    cycle = scorecard.cycle
    if cycle is None:
        return BetsMatrix(cycle=None, report=None, scorecard=scorecard)
    kpi_cards = scorecard.kpis
    baseline = latest_values([c.kpi.id for c in kpi_cards], on_or_before=cycle.start)
    gauges = [
        GaugeInput(
            key=card.kpi.key,
            name=card.kpi.name,
            status=card.status,
            late=card.late,
            movement=gauge_movement(
                baseline[card.kpi.id].value if card.kpi.id in baseline else None,
                card.latest.value if card.latest is not None else None,
                Direction(card.kpi.direction),
                bounds_of(card.kpi),
            ),
        )
        for card in kpi_cards
    ]
    bets = [
        BetInput(
            key=card.initiative.key,
            title=card.initiative.title,
            status=card.status,
            score=card.score,
            gauges=tuple(kpi.key for kpi in card.initiative.gauges),
        )
        # Long-running initiatives (no cycle) are bets in play this cycle too.
        for card in scorecard.initiatives
    ]
    return BetsMatrix(
        cycle=cycle,
        report=bets_vs_gauges(bets, gauges),
        scorecard=scorecard,
        baselines={
            card.kpi.key: baseline[card.kpi.id].value
            for card in kpi_cards
            if card.kpi.id in baseline
        },
    )


def bets_for(workspace: Workspace, today: date | None = None) -> BetsMatrix:
    """Bets vs gauges of a workspace today."""
    return build_bets_matrix(build_scorecard(workspace, today))
