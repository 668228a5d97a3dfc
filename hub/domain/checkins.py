"""Check-ins: a key result's value and confidence, a hand-tracked initiative's % complete.

Both keep an append-only history (CheckIn, ProgressUpdate) like KPI values do; a KR
linked to a KPI takes its value from the KPI, so its check-ins record confidence only.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from hub.domain.errors import Invalid
from hub.domain.numbers import checked_decimal
from hub.extensions import db
from hub.models import CheckIn, Initiative, KeyResult, ProgressUpdate, User
from hub.models.base import canonical_decimal

MAX_CONFIDENCE = 10
NOTE_LENGTH = 280
SOURCES = ("web", "sheet", "api", "import")


def record_check_in(
    kr: KeyResult,
    *,
    value: Decimal | None,
    confidence: int | None = None,
    note: str = "",
    user: User | None,
    source: str = "web",
) -> CheckIn | None:
    """Record a KR check-in and update its current value and confidence.

    `value=None` keeps the current value (and is the only choice for a KR linked to a
    KPI); `confidence=None` keeps the confidence. Returns None when nothing changed and
    no note was given. Raises Invalid with every problem; nothing changes then.
    """
    problems = []
    note = (note or "").strip()
    if kr.kpi_id is not None and value is not None:
        problems.append(
            "value: this key result follows its KPI's latest value; enter the value on the KPI"
        )
    if value is not None:
        try:
            value = checked_decimal(value)
        except ValueError as error:
            problems.append(f"value: {error}")
    if confidence is not None and not (
        isinstance(confidence, int)
        and not isinstance(confidence, bool)
        and 0 <= confidence <= MAX_CONFIDENCE
    ):
        problems.append(f"confidence: must be a whole number from 0 to {MAX_CONFIDENCE}")
    if len(note) > NOTE_LENGTH:
        problems.append(f"note: must be at most {NOTE_LENGTH} characters")
    if source not in SOURCES:
        problems.append(f"source: must be one of {', '.join(SOURCES)}")
    if problems:
        raise Invalid(problems)

    new_value = kr.current_value if value is None else value
    new_confidence = kr.confidence if confidence is None else confidence
    if new_value == kr.current_value and new_confidence == kr.confidence and not note:
        return None
    kr.current_value = new_value
    kr.confidence = new_confidence
    check_in = CheckIn(
        key_result=kr,
        value=new_value,
        confidence=new_confidence,
        note=note,
        source=source,
        user_id=user.id if user else None,
    )
    db.session.add(check_in)
    db.session.flush()
    return check_in


def clear_current(
    kr: KeyResult,
    *,
    confidence: int | None = None,
    user: User | None,
    source: str = "web",
) -> CheckIn | None:
    """Clear a KR's current value (None when it has none, or follows its KPI), with a
    check-in saying so: `record_check_in` only sets values."""
    if kr.kpi_id is not None or kr.current_value is None:
        return None
    kr.current_value = None
    if confidence is not None:
        kr.confidence = confidence
    check_in = CheckIn(
        key_result=kr,
        value=None,
        confidence=kr.confidence,
        note="Value cleared",
        source=source,
        user_id=user.id if user else None,
    )
    db.session.add(check_in)
    db.session.flush()
    return check_in


def check_in_history(kr: KeyResult) -> list[CheckIn]:
    """A KR's check-ins, newest first."""
    return list(
        db.session.scalars(
            select(CheckIn)
            .where(CheckIn.key_result_id == kr.id)
            .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())
        )
    )


def set_percent_complete(
    initiative: Initiative, percent: Decimal | None, *, user: User | None, source: str = "web"
) -> ProgressUpdate | None:
    """Set a hand-tracked initiative's % complete (0–100, None clears), with history.

    Refused for an initiative with key results: its progress is their weighted score.
    """
    problems = []
    if initiative.key_results:
        problems.append(
            "percent_complete: this initiative is scored by its key results; "
            "check in on them instead"
        )
    if percent is not None:
        try:
            percent = checked_decimal(percent, what="% complete")
        except ValueError as error:
            problems.append(f"percent_complete: {error}")
        else:
            if not Decimal(0) <= percent <= Decimal(100):
                problems.append("percent_complete: must be from 0 to 100")
    if source not in SOURCES:
        problems.append(f"source: must be one of {', '.join(SOURCES)}")
    if problems:
        raise Invalid(problems)
    old = initiative.percent_complete
    if (old is None and percent is None) or (
        old is not None and percent is not None and canonical_decimal(old) == percent
    ):
        return None
    initiative.percent_complete = percent
    update = ProgressUpdate(
        initiative_id=initiative.id,
        old_percent=old,
        new_percent=percent,
        source=source,
        user_id=user.id if user else None,
    )
    db.session.add(update)
    db.session.flush()
    return update


def progress_history(initiative: Initiative) -> list[ProgressUpdate]:
    """A hand-tracked initiative's % complete changes, newest first."""
    return list(
        db.session.scalars(
            select(ProgressUpdate)
            .where(ProgressUpdate.initiative_id == initiative.id)
            .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())
        )
    )
