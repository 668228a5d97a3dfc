"""The bets: OKR cycles, initiatives (objectives), key results and check-ins."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.extensions import db
from hub.models.base import ExactDecimal, UTCDateTime, utcnow

if TYPE_CHECKING:
    from hub.models.accounts import User
    from hub.models.plan import Goal, Kpi
    from hub.models.workspace import Workspace


class CycleState:
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"
    ALL = (DRAFT, ACTIVE, CLOSED)


class Cycle(db.Model):
    """An OKR cycle (usually a quarter): draft → active → closed."""

    __tablename__ = "cycles"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(60))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), default=CycleState.DRAFT)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    workspace: Mapped[Workspace] = relationship()


initiative_gauges = Table(
    "initiative_gauges",
    db.metadata,
    Column("initiative_id", ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True),
    Column("kpi_id", ForeignKey("kpis.id", ondelete="CASCADE"), primary_key=True),
)


class Initiative(db.Model):
    """A bet: an initiative, or an Objective on OKR pages, with 0–5 key results."""

    __tablename__ = "initiatives"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goals.id", ondelete="SET NULL"), index=True
    )
    cycle_id: Mapped[int | None] = mapped_column(
        ForeignKey("cycles.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    percent_complete: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    # Recorded when the cycle closes; `final_score_manual` flags an override.
    final_score: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    final_score_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    workspace: Mapped[Workspace] = relationship()
    goal: Mapped[Goal | None] = relationship()
    cycle: Mapped[Cycle | None] = relationship()
    owner: Mapped[User | None] = relationship()
    gauges: Mapped[list[Kpi]] = relationship(secondary=initiative_gauges, order_by="Kpi.key")
    key_results: Mapped[list[KeyResult]] = relationship(
        back_populates="initiative",
        cascade="all, delete-orphan",
        order_by="KeyResult.position, KeyResult.id",
    )


class KeyResult(db.Model):
    """A measurable key result of an initiative."""

    __tablename__ = "key_results"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    start_value: Mapped[Decimal] = mapped_column(ExactDecimal())
    target_value: Mapped[Decimal] = mapped_column(ExactDecimal())
    current_value: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    unit: Mapped[str] = mapped_column(String(10), default="number")
    confidence: Mapped[int] = mapped_column(Integer, default=5)
    weight: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(1))
    kpi_id: Mapped[int | None] = mapped_column(ForeignKey("kpis.id", ondelete="SET NULL"))
    carried_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("key_results.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    initiative: Mapped[Initiative] = relationship(back_populates="key_results")
    owner: Mapped[User | None] = relationship()
    kpi: Mapped[Kpi | None] = relationship()
    check_ins: Mapped[list[CheckIn]] = relationship(
        back_populates="key_result", cascade="all, delete-orphan", order_by="CheckIn.id"
    )


class CheckIn(db.Model):
    """A key result check-in: value, confidence and a one-line note."""

    __tablename__ = "check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_result_id: Mapped[int] = mapped_column(
        ForeignKey("key_results.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    confidence: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(280), default="")
    source: Mapped[str] = mapped_column(String(8), default="web")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    key_result: Mapped[KeyResult] = relationship(back_populates="check_ins")
    user: Mapped[User | None] = relationship()


class ProgressUpdate(db.Model):
    """A change of a hand-tracked initiative's % complete (append-only)."""

    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    old_percent: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    new_percent: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    source: Mapped[str] = mapped_column(String(8), default="web")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
