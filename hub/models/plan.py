"""The gauges: goals, KPIs, their values and the history of every change."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.extensions import db
from hub.models.base import ExactDecimal, UTCDateTime, utcnow

if TYPE_CHECKING:
    from hub.models.accounts import User
    from hub.models.workspace import Workspace


class Goal(db.Model):
    """A strategic goal; KPIs and initiatives hang under it."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    workspace: Mapped[Workspace] = relationship()
    owner: Mapped[User | None] = relationship()


class Kpi(db.Model):
    """An always-on metric with red/amber/green thresholds stored as four bounds."""

    __tablename__ = "kpis"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goals.id", ondelete="SET NULL"), index=True
    )
    unit: Mapped[str] = mapped_column(String(10), default="number")
    decimals: Mapped[int] = mapped_column(Integer, default=0)
    cadence: Mapped[str] = mapped_column(String(10), default="weekly")
    aggregation: Mapped[str] = mapped_column(String(8), default="last")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(5), default="up")
    green_min: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    green_max: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    red_min: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    red_max: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    workspace: Mapped[Workspace] = relationship()
    goal: Mapped[Goal | None] = relationship()
    owner: Mapped[User | None] = relationship()
    values: Mapped[list[KpiValue]] = relationship(
        back_populates="kpi", cascade="all, delete-orphan", order_by="KpiValue.period_start"
    )


class KpiValue(db.Model):
    """The current value of one KPI for one period."""

    __tablename__ = "kpi_values"
    __table_args__ = (
        UniqueConstraint("kpi_id", "period_key"),
        Index("ix_kpi_values_kpi_id_period_start", "kpi_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"))
    period_key: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(ExactDecimal())
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(8))  # web | sheet | api | import
    source_ref: Mapped[str] = mapped_column(String(120), default="")  # e.g. "Weekly KPIs!J7"
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    kpi: Mapped[Kpi] = relationship(back_populates="values")
    updated_by: Mapped[User | None] = relationship()


class ValueChange(db.Model):
    """One change of a KPI value (append-only): old → new, source, who, when."""

    __tablename__ = "value_changes"
    __table_args__ = (Index("ix_value_changes_kpi_id_period_key", "kpi_id", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"))
    period_key: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    new_value: Mapped[Decimal | None] = mapped_column(ExactDecimal())  # None: cleared
    old_note: Mapped[str] = mapped_column(Text, default="")
    new_note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(8))
    source_ref: Mapped[str] = mapped_column(String(120), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("value_changes.id"))

    kpi: Mapped[Kpi] = relationship()
    user: Mapped[User | None] = relationship()
