"""Template filters and globals: numbers, dates, roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, request, url_for

from hub.auth import Access
from hub.models import Mode, Role
from hub.models.base import utcnow

# The vendored htmx build (see hub/static/vendor/README.md).
HTMX_FILE = "vendor/htmx-2.0.11.min.js"

ROLE_HELP = {
    Role.OWNER: "Everything, including members, the sheet connection and deleting the workspace.",
    Role.EDITOR: "Edits the plan, KPIs, OKRs, initiatives and values.",
    Role.UPDATER: "Enters values, check-ins and % complete. Cannot change the plan.",
    Role.VIEWER: "Reads everything, changes nothing.",
}

MODE_LABELS = {
    Mode.KPI: "KPIs only",
    Mode.OKR: "OKRs only",
    Mode.BOTH: "KPIs and OKRs",
}


@dataclass(frozen=True)
class NavLink:
    """A section of a workspace in the main navigation."""

    label: str
    endpoint: str
    minimum: Role = Role.VIEWER
    # "kpis" or "okrs": shown only when the workspace's mode uses that half.
    uses: str | None = None

    def shown_to(self, access: Access) -> bool:
        if not access.can(self.minimum):
            return False
        if self.uses == "kpis":
            return access.workspace.uses_kpis
        if self.uses == "okrs":
            return access.workspace.uses_okrs
        return True


# The workspace sections, in the order the navigation shows them. Later pages add
# theirs here (Scorecard, Plan, KPIs, Check-in, OKRs, Bets, Sheet) with the role and
# mode that may see them; the route still checks the role itself.
WORKSPACE_NAV: list[NavLink] = [
    NavLink("Members", "members.index", Role.OWNER),
    NavLink("Settings", "workspaces.settings", Role.OWNER),
]


def current_access() -> Access | None:
    """The signed-in user's access to the workspace of this request, if any."""
    return g.get("access")


def workspace_nav(access: Access | None) -> list[dict[str, object]]:
    """The section links the user may see in this workspace, marking the current one."""
    if access is None:
        return []
    return [
        {
            "label": link.label,
            "url": url_for(link.endpoint, slug=access.workspace.slug),
            "current": request.endpoint == link.endpoint,
        }
        for link in WORKSPACE_NAV
        if link.shown_to(access)
    ]


def role_label(role: str | Role) -> str:
    """'owner' -> 'Owner'."""
    return Role(role).value.capitalize()


def mode_label(mode: str | Mode) -> str:
    """'both' -> 'KPIs and OKRs'."""
    return MODE_LABELS[Mode(mode)]


def format_datetime(value: datetime | None, time_zone: str = "UTC") -> str:
    """A timestamp in a time zone, like '3 Mar 2026, 14:05'."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(time_zone))
    return f"{local.day} {local:%b %Y, %H:%M}"


def time_until(value: datetime, now: datetime | None = None) -> str:
    """How long until a moment, in words: 'in 6 days', 'in 3 hours', 'expired'."""
    seconds = (value - (now or utcnow())).total_seconds()
    if seconds <= 0:
        return "expired"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            return f"in {count} {unit}{'' if count == 1 else 's'}"
    return "in less than a minute"


def register(app: Flask) -> None:
    """Install the filters and globals every template may use."""
    app.jinja_env.globals.update(
        HTMX_FILE=HTMX_FILE,
        Role=Role,
        ROLE_HELP=ROLE_HELP,
        current_access=current_access,
        workspace_nav=workspace_nav,
    )
    app.jinja_env.filters.update(
        role_label=role_label,
        mode_label=mode_label,
        datetime=format_datetime,
        time_until=time_until,
    )
