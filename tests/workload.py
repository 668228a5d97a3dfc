"""A generated workspace of any size, for the query-count test and `make bench`."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert

from hub.domain import workspaces
from hub.domain.periods import Cadence, last_n_periods, quarter_bounds, quarter_name
from hub.extensions import db
from hub.models import (
    Cycle,
    Goal,
    Initiative,
    KeyResult,
    Kpi,
    KpiValue,
    User,
    ValueChange,
)
from hub.models.base import utcnow


def generate_workspace(
    owner: User,
    *,
    slug: str = "generated",
    kpis: int = 60,
    weeks: int = 156,
    initiatives: int = 10,
    key_results: int = 4,
    today: date | None = None,
    seed: int = 7,
):
    """A workspace with `kpis` weekly KPIs of `weeks` values each, 4 goals, an active
    cycle with `initiatives` objectives of `key_results` KRs (one KR in four linked to a
    KPI) and each initiative gauging two KPIs. Values go in with bulk inserts, history
    included, so building 10,000 values takes a second, not a minute."""
    rng = random.Random(seed)
    today = today or date.today()
    workspace = workspaces.create_workspace(
        workspaces.WorkspaceSettings(name=f"Generated {slug}", slug=slug, mode="both"), owner
    )
    goals = [Goal(workspace=workspace, title=f"Goal {n + 1}", position=n) for n in range(4)]
    db.session.add_all(goals)
    periods = last_n_periods(today - timedelta(days=7), Cadence.WEEKLY, weeks)
    made: list[Kpi] = []
    for n in range(kpis):
        direction = ("up", "down", "range")[n % 3]
        bounds = {
            "up": {"green_min": Decimal(100), "red_min": Decimal(90)},
            "down": {"green_max": Decimal(100), "red_max": Decimal(110)},
            "range": {
                "green_min": Decimal(95),
                "green_max": Decimal(105),
                "red_min": Decimal(85),
                "red_max": Decimal(115),
            },
        }[direction]
        made.append(
            Kpi(
                workspace=workspace,
                key=f"K{n + 1}",
                name=f"Metric {n + 1}",
                goal=goals[n % 4],
                owner=owner,
                direction=direction,
                decimals=1,
                position=n,
                **bounds,
            )
        )
    workspace.next_kpi_number = kpis + 1
    db.session.add_all(made)
    db.session.flush()
    values, history = [], []
    now = utcnow()
    for kpi in made:
        level = 100.0
        for period in periods:
            level += rng.uniform(-3, 3)
            value = Decimal(f"{level:.1f}")
            values.append(
                {
                    "kpi_id": kpi.id,
                    "period_key": period.key,
                    "period_start": period.start,
                    "value": value,
                    "note": "",
                    "source": "import",
                    "source_ref": "",
                    "updated_at": now,
                }
            )
            history.append(
                {
                    "kpi_id": kpi.id,
                    "period_key": period.key,
                    "old_value": None,
                    "new_value": value,
                    "source": "import",
                    "source_ref": "",
                    "created_at": now,
                }
            )
    if values:
        db.session.execute(insert(KpiValue), values)
        db.session.execute(insert(ValueChange), history)
    start, end = quarter_bounds(today)
    cycle = Cycle(
        workspace=workspace, name=quarter_name(today), start=start, end=end, state="active"
    )
    db.session.add(cycle)
    number = 0
    for n in range(initiatives):
        initiative = Initiative(
            workspace=workspace,
            key=f"I{n + 1}",
            title=f"Objective {n + 1}",
            cycle=cycle,
            goal=goals[n % 4],
            owner=owner,
            position=n,
        )
        initiative.gauges = (
            [made[(2 * n) % len(made)], made[(2 * n + 1) % len(made)]] if made else []
        )
        db.session.add(initiative)
        for k in range(key_results):
            number += 1
            db.session.add(
                KeyResult(
                    workspace_id=workspace.id,
                    initiative=initiative,
                    key=f"KR{number}",
                    title=f"Key result {number}",
                    start_value=Decimal(0),
                    target_value=Decimal(100),
                    current_value=Decimal(rng.randint(0, 100)),
                    kpi=made[n % len(made)] if made and k == 0 else None,
                    position=k,
                )
            )
    workspace.next_initiative_number = initiatives + 1
    workspace.next_key_result_number = number + 1
    db.session.flush()
    db.session.commit()
    return workspace
