"""Small factories for tests: each builds through the domain operations and commits."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from hub.domain import accounts, workspaces
from hub.domain.values import set_value
from hub.extensions import db
from hub.models import Cycle, Goal, Initiative, KeyResult, Kpi, Role, User, Workspace

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def _d(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class Factory:
    """`make.user()`, `make.workspace(owner)`, `make.kpi(ws)` … with sensible defaults."""

    def user(self, email: str | None = None, *, password: str = PASSWORD, name: str = "") -> User:
        user = accounts.create_user(email or f"user{next(_counter)}@example.com", password, name)
        db.session.commit()
        return user

    def workspace(
        self, owner: User | None = None, *, slug: str | None = None, mode: str = "both", **kw
    ) -> Workspace:
        n = next(_counter)
        settings = workspaces.WorkspaceSettings(
            name=kw.pop("name", f"Client {n}"), slug=slug or f"client-{n}", mode=mode, **kw
        )
        workspace = workspaces.create_workspace(settings, owner)
        db.session.commit()
        return workspace

    def member(self, workspace: Workspace, role: Role | str, user: User | None = None) -> User:
        user = user or self.user()
        workspaces.add_member(workspace, user, Role(role))
        db.session.commit()
        return user

    def goal(self, workspace: Workspace, title: str = "Grow revenue", **kw) -> Goal:
        goal = Goal(workspace=workspace, title=title, **kw)
        db.session.add(goal)
        db.session.commit()
        return goal

    def kpi(
        self,
        workspace: Workspace,
        key: str | None = None,
        *,
        green_min=None,
        green_max=None,
        red_min=None,
        red_max=None,
        **kw,
    ) -> Kpi:
        if key is None:
            key = f"K{workspace.next_kpi_number}"
            workspace.next_kpi_number += 1
        kpi = Kpi(
            workspace=workspace,
            key=key,
            name=kw.pop("name", f"Metric {key}"),
            green_min=_d(green_min),
            green_max=_d(green_max),
            red_min=_d(red_min),
            red_max=_d(red_max),
            **kw,
        )
        db.session.add(kpi)
        db.session.commit()
        return kpi

    def value(self, kpi: Kpi, period: str, value, *, source: str = "web", user=None, note=None):
        change = set_value(kpi, period, _d(value), source=source, user=user, note=note)
        db.session.commit()
        return change

    def cycle(
        self,
        workspace: Workspace,
        name: str = "2026-Q4",
        start: date = date(2026, 10, 1),
        end: date = date(2026, 12, 31),
        state: str = "active",
    ) -> Cycle:
        cycle = Cycle(workspace=workspace, name=name, start=start, end=end, state=state)
        db.session.add(cycle)
        db.session.commit()
        return cycle

    def initiative(
        self, workspace: Workspace, title: str = "Launch self-serve", **kw
    ) -> Initiative:
        key = kw.pop("key", None) or f"I{workspace.next_initiative_number}"
        workspace.next_initiative_number += 1
        gauges = kw.pop("gauges", [])
        initiative = Initiative(workspace=workspace, key=key, title=title, **kw)
        initiative.gauges = list(gauges)
        db.session.add(initiative)
        db.session.commit()
        return initiative

    def key_result(self, initiative: Initiative, title: str = "Reach 100 signups", **kw):
        workspace = initiative.workspace
        key = kw.pop("key", None) or f"KR{workspace.next_key_result_number}"
        workspace.next_key_result_number += 1
        kr = KeyResult(
            workspace_id=workspace.id,
            initiative=initiative,
            key=key,
            title=title,
            start_value=_d(kw.pop("start", 0)),
            target_value=_d(kw.pop("target", 100)),
            current_value=_d(kw.pop("current", None)),
            **kw,
        )
        db.session.add(kr)
        db.session.commit()
        return kr
