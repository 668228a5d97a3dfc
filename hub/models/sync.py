"""The Google Sheet of a workspace: its connection, tabs with their bases, and the sync record.

SHEETS.md is the contract. A *base* is the last value both sides agreed on for one managed
cell; bases live per tab as `{row id: {column header: value}}` and advance only after the
write that makes them true succeeded (sheet writes) or in the same transaction as the app
change (values applied from the sheet).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.extensions import db
from hub.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from hub.models.accounts import User
    from hub.models.workspace import Workspace


class SheetState:
    """What a connection is doing, as the Sheet page and the API name it."""

    OK = "ok"  # syncing normally
    ATTENTION = "attention"  # Google refused access (403/404): a person must share the sheet
    PAUSED = "paused"  # a guard rail stopped a cycle; a person chooses what wins

    ALL = (OK, ATTENTION, PAUSED)


class TabKind:
    """The tabs the app manages (SHEETS.md §1)."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    OKRS = "okrs"
    INITIATIVES = "initiatives"

    KPI_TABS = (WEEKLY, MONTHLY, QUARTERLY)
    ALL = (*KPI_TABS, OKRS, INITIATIVES)
    TITLES = {
        WEEKLY: "Weekly KPIs",
        MONTHLY: "Monthly KPIs",
        QUARTERLY: "Quarterly KPIs",
        OKRS: "OKRs",
        INITIATIVES: "Initiatives",
    }


class RunState:
    """The life of one sync cycle."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # finished; it may have found nothing to do
    PAUSED = "paused"  # a guard rail stopped it before anything was applied
    FAILED = "failed"  # Google or the network refused; nothing half-applied
    SKIPPED = "skipped"  # another cycle of the same workspace was already running

    ACTIVE = (QUEUED, RUNNING)
    FINISHED = (DONE, PAUSED, FAILED, SKIPPED)


class SheetConnection(db.Model):
    """A workspace's Google Sheet, and the state of its sync."""

    __tablename__ = "sheet_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), unique=True
    )
    spreadsheet_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(16), default="en_US")
    state: Mapped[str] = mapped_column(String(10), default=SheetState.OK)
    state_message: Mapped[str] = mapped_column(Text, default="")
    # A paused cycle's findings (what would be cleared, which rows no longer match) and the
    # person's choice to resume: "apply" (the sheet wins) or "restore" (the app wins).
    pause_details: Mapped[dict[str, Any]] = mapped_column(
        MutableDict.as_mutable(JSON), default=dict
    )
    resume: Mapped[str] = mapped_column(String(8), default="")
    # The first day of the oldest period column (12 periods before connection by default).
    tracking_start: Mapped[date] = mapped_column(Date)
    # The Drive version seen when the sheet last matched the bases, and a digest of every
    # managed app value then: both unchanged means a cycle needs no Sheets call at all.
    drive_version: Mapped[str] = mapped_column(String(40), default="")
    app_digest: Mapped[str] = mapped_column(String(80), default="")  # day:sha256
    # Debounced push after a web/API edit: the earliest moment to run it.
    push_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # One sync per workspace at a time, across processes and hosts: a lease in this row.
    lock_token: Mapped[str | None] = mapped_column(String(32))
    lock_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    connected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    workspace: Mapped[Workspace] = relationship()
    connected_by: Mapped[User | None] = relationship()
    tabs: Mapped[list[SheetTab]] = relationship(
        back_populates="connection", cascade="all, delete-orphan", order_by="SheetTab.id"
    )

    @property
    def url(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"

    def tab(self, kind: str) -> SheetTab | None:
        return next((t for t in self.tabs if t.kind == kind), None)


class SheetTab(db.Model):
    """One tab the app manages, found by its sheetId (gid) every cycle, never by title."""

    __tablename__ = "sheet_tabs"
    __table_args__ = (UniqueConstraint("connection_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("sheet_connections.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    gid: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))  # as last seen, for messages and A1 refs
    bases: Mapped[dict[str, Any]] = mapped_column(MutableDict.as_mutable(JSON), default=dict)
    # The header row as the last cycle left it, people's own columns included: if someone
    # deletes the header row, it is put back exactly as it was.
    header_row: Mapped[list[str]] = mapped_column(JSON, default=list)

    connection: Mapped[SheetConnection] = relationship(back_populates="tabs")


class SyncRun(db.Model):
    """One sync cycle: why it ran, what it did, and what Google was asked."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    trigger: Mapped[str] = mapped_column(String(10))  # connect|edit|interval|manual|cli|api
    state: Mapped[str] = mapped_column(String(8), default=RunState.QUEUED)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    progress: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    pulled: Mapped[int] = mapped_column(Integer, default=0)
    pushed: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[int] = mapped_column(Integer, default=0)
    drive_calls: Mapped[int] = mapped_column(Integer, default=0)
    read_calls: Mapped[int] = mapped_column(Integer, default=0)
    write_calls: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)

    requested_by: Mapped[User | None] = relationship()

    @property
    def api_calls(self) -> int:
        return self.drive_calls + self.read_calls + self.write_calls

    @property
    def active(self) -> bool:
        return self.state in RunState.ACTIVE

    def summary(self) -> str:
        """One line: what the cycle did."""
        if self.state in (RunState.QUEUED, RunState.RUNNING, RunState.SKIPPED):
            return self.message or self.state
        return (
            f"pulled {self.pulled}, pushed {self.pushed}, conflicts {self.conflicts}, "
            f"problems {self.problems}, API calls {self.api_calls}"
        )


class SyncConflict(db.Model):
    """A cell both sides changed differently: the winner applied, the loser kept here."""

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))
    tab_kind: Mapped[str] = mapped_column(String(12))
    row_key: Mapped[str] = mapped_column(String(40))
    column: Mapped[str] = mapped_column(String(40))
    cell: Mapped[str] = mapped_column(String(260), default="")  # 'Weekly KPIs'!J7 then
    label: Mapped[str] = mapped_column(String(300), default="")  # "K3 Revenue · 2026-11-30"
    sheet_value: Mapped[str] = mapped_column(Text, default="")
    app_value: Mapped[str] = mapped_column(Text, default="")
    winner: Mapped[str] = mapped_column(String(5))  # sheet | app
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str] = mapped_column(String(10), default="")  # kept | swapped

    resolved_by: Mapped[User | None] = relationship()

    @property
    def loser_value(self) -> str:
        return self.app_value if self.winner == "sheet" else self.sheet_value

    @property
    def winner_value(self) -> str:
        return self.sheet_value if self.winner == "sheet" else self.app_value


class ImportProblem(db.Model):
    """A sheet cell the app could not read; it closes by itself once the cell is fixed."""

    __tablename__ = "sync_problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    tab_kind: Mapped[str] = mapped_column(String(12))
    row_key: Mapped[str] = mapped_column(String(40))
    column: Mapped[str] = mapped_column(String(40))
    tab_title: Mapped[str] = mapped_column(String(200), default="")
    cell: Mapped[str] = mapped_column(String(20), default="")  # A1 within the tab
    label: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class QuotaWindow(db.Model):
    """Requests made to Google in one minute, shared by every process (no Redis)."""

    __tablename__ = "sync_quota"

    minute: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column(Integer, default=0)
