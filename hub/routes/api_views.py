"""How API responses are shaped: plain dicts from the scorecard read model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.domain.bets_matrix import build_bets_matrix
from hub.domain.periods import local_today
from hub.domain.scorecard import (
    InitiativeCard,
    KpiCard,
    build_scorecard,
    kpi_cards,
)
from hub.extensions import db
from hub.models import Cycle, Kpi, KpiValue, Role, Workspace


def workspace_summary(workspace: Workspace, role: Role) -> dict[str, Any]:
    """Slug, name, mode, the caller's role and KPI counts by status."""
    card = build_scorecard(workspace)
    return {
        "slug": workspace.slug,
        "name": workspace.name,
        "mode": workspace.mode,
        "role": role.value,
        "counts": card.status_counts(),
    }


def cycle_json(cycle: Cycle | None) -> dict[str, Any] | None:
    if cycle is None:
        return None
    return {"name": cycle.name, "start": cycle.start, "end": cycle.end, "state": cycle.state}


def _person(user) -> str | None:  # noqa: ANN001
    # Display names only: the API never hands out members' emails beyond the members page.
    return user.display_name if user is not None else None


def kpi_json(card: KpiCard) -> dict[str, Any]:
    kpi = card.kpi
    return {
        "key": kpi.key,
        "name": kpi.name,
        "unit": kpi.unit,
        "decimals": kpi.decimals,
        "cadence": kpi.cadence,
        "aggregation": kpi.aggregation,
        "direction": kpi.direction,
        "owner": _person(kpi.owner),
        "bounds": {
            "green_min": kpi.green_min,
            "green_max": kpi.green_max,
            "red_min": kpi.red_min,
            "red_max": kpi.red_max,
        },
        "latest": (
            {"period": card.latest.period_key, "value": card.latest.value} if card.latest else None
        ),
        "status": card.status.value,
        "late": card.late,
        "why": card.result.why,
        "trend": [{"period": p.key, "value": v} for p, v in card.trend],
    }


def initiative_json(card: InitiativeCard) -> dict[str, Any]:
    initiative = card.initiative
    return {
        "key": initiative.key,
        "title": initiative.title,
        "owner": _person(initiative.owner),
        "cycle": initiative.cycle.name if initiative.cycle else None,
        "start": initiative.start_date,
        "due": initiative.due_date,
        "progress": {"score": card.score, "percent_complete": card.percent},
        "status": card.status.value,
        "gauges": [kpi.key for kpi in initiative.gauges],
        "key_results": [
            {
                "key": kr.kr.key,
                "title": kr.kr.title,
                "owner": _person(kr.kr.owner),
                "start": kr.kr.start_value,
                "target": kr.kr.target_value,
                "current": kr.current,
                "unit": kr.kr.unit,
                "confidence": kr.kr.confidence,
                "weight": kr.kr.weight,
                "kpi": kr.kr.kpi.key if kr.kr.kpi else None,
                "progress": kr.progress,
                "score": kr.score,
            }
            for kr in card.key_results
        ],
    }


def scorecard(workspace: Workspace) -> dict[str, Any]:
    """The whole scorecard of a workspace as JSON."""
    card = build_scorecard(workspace)
    return {
        "workspace": {"slug": workspace.slug, "name": workspace.name, "mode": workspace.mode},
        "as_of": card.today,
        "active_cycle": cycle_json(card.cycle),
        "counts": card.status_counts(),
        "goals": [
            {
                "title": goal.title,
                "is_goal": goal.goal is not None,
                "owner": _person(goal.goal.owner) if goal.goal else None,
                "health": {
                    "status": goal.health.status.value,
                    "counts": goal.health.counts,
                }
                if goal.health
                else None,
                "kpis": [kpi_json(k) for k in goal.kpis],
                "initiatives": [initiative_json(i) for i in goal.initiatives],
            }
            for goal in card.goals
        ],
    }


def kpi_card(workspace: Workspace, kpi: Kpi) -> dict[str, Any]:
    """One KPI as on the scorecard (the answer to a PUT)."""
    [card] = kpi_cards(workspace, [kpi], local_today(workspace.time_zone))
    return kpi_json(card)


def kpi_values(workspace: Workspace, kpi: Kpi) -> dict[str, Any]:
    """A KPI's values with provenance, oldest first."""
    rows = db.session.scalars(
        select(KpiValue).where(KpiValue.kpi_id == kpi.id).order_by(KpiValue.period_start)
    )
    return {
        "kpi": {"key": kpi.key, "name": kpi.name, "cadence": kpi.cadence, "unit": kpi.unit},
        "values": [
            {
                "period": row.period_key,
                "value": row.value,
                "note": row.note,
                "source": row.source,
                "source_ref": row.source_ref or None,
                "updated_by": _person(row.updated_by),
                "updated_at": row.updated_at,
            }
            for row in rows
        ],
    }


def bets(workspace: Workspace) -> dict[str, Any]:
    """The bets-vs-gauges rows with their flags."""
    matrix = build_bets_matrix(build_scorecard(workspace))
    report = matrix.report
    if report is None:
        return {"active_cycle": None, "rows": [], "gauges_without_bet": [], "flag_counts": {}}
    return {
        "active_cycle": cycle_json(matrix.cycle),
        "rows": [
            {
                "initiative": {
                    "key": row.bet.key,
                    "title": row.bet.title,
                    "status": row.bet.status.value,
                    "score": row.bet.score,
                },
                "gauge": (
                    {
                        "key": row.gauge.key,
                        "name": row.gauge.name,
                        "status": row.gauge.status.value,
                        "late": row.gauge.late,
                        "movement": row.gauge.movement.value,
                    }
                    if row.gauge
                    else None
                ),
                "flags": [flag.value for flag in row.flags],
            }
            for row in report.rows
        ],
        "gauges_without_bet": [
            {"key": g.key, "name": g.name, "status": g.status.value, "late": g.late}
            for g in report.unbet_gauges
        ],
        "flag_counts": {flag.value: n for flag, n in report.flag_counts.items()},
    }
