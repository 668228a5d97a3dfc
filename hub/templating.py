"""Template filters and globals: numbers, dates, roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request, url_for

from hub.auth import Access, mode_uses
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
    # "kpis", "okrs" or "both": shown only when the workspace's mode uses that part.
    uses: str | None = None
    # Other pages of the section, on which this link is the current one too: endpoints,
    # or a blueprint's name with a dot ("plan.") for all of its pages.
    also: tuple[str, ...] = ()

    def is_current(self, endpoint: str | None) -> bool:
        """Whether the page at `endpoint` belongs to this section."""
        if endpoint is None:
            return False
        return endpoint == self.endpoint or any(
            endpoint == other or (other.endswith(".") and endpoint.startswith(other))
            for other in self.also
        )

    def shown_to(self, access: Access) -> bool:
        """Whether this member may see the section in this workspace's mode (and the
        section's page is part of the app yet)."""
        if self.endpoint not in current_app.view_functions:
            return False
        if not access.can(self.minimum):
            return False
        return self.uses is None or mode_uses(access.workspace, self.uses)


# The workspace sections, in the order the navigation shows them. Later pages add
# theirs here (Sheet, …) with the role and mode that may see them; a link
# shows once its endpoint is registered, and the route still checks role and mode itself.
# Every member may read the member list and the settings (owners also change them there).
WORKSPACE_NAV: list[NavLink] = [
    NavLink("Scorecard", "scorecard.index", also=("scorecard.", "kpis.")),
    NavLink("Plan", "plan.index", also=("plan.",)),
    NavLink("Check-in", "checkin.index", Role.UPDATER, also=("checkin.",)),
    NavLink("OKRs", "okrs.index", uses="okrs", also=("okrs.",)),
    NavLink("Bets vs gauges", "bets.index", uses="both", also=("bets.",)),
    # Every member sees how the sheet syncs; the page itself decides who may act.
    NavLink("Sheet", "sheet.index", also=("sheet.",)),
    NavLink("Members", "members.index", also=("members.",)),
    NavLink("Settings", "workspaces.settings", also=("workspaces.delete",)),
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
            "current": link.is_current(request.endpoint),
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


def time_ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago a moment was, in words: 'just now', '3 min ago', '2 days ago'."""
    if value is None:
        return "never"
    seconds = ((now or utcnow()) - value).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    size, unit = (3600, "hour") if seconds < 86400 else (86400, "day")
    count = int(seconds // size)
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


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
        time_ago=time_ago,
    )
