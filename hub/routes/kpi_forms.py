"""Forms for KPI values (the detail page) and the check-in rows.

Numbers are typed as text and read by hub.domain.input_numbers, so "1,234.5", "12.5%"
or "(300)" work and a mistake comes back with a sentence saying what to type instead.
Each form is built for one KPI, key result or initiative, since what a number may look
like depends on its unit.
"""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, ValidationError
from wtforms.validators import InputRequired, Length

from hub.domain import checkins, values
from hub.domain.errors import DomainError
from hub.domain.input_numbers import parse_number
from hub.domain.periods import Cadence, Period
from hub.models import Initiative, KeyResult, Kpi, Workspace
from hub.routes.forms import strip

PERIOD_HELP = {
    Cadence.WEEKLY: "The week's first day, like 2026-11-30.",
    Cadence.MONTHLY: "Year and month, like 2026-11.",
    Cadence.QUARTERLY: "Year and quarter, like 2026-Q4.",
}
FISCAL_PERIOD_HELP = "Fiscal year and quarter, like FY2027-Q1."


def input_text(number: Decimal | None) -> str:
    """A stored number as an input shows it, exactly and in the form people type it:
    '1,234.5', never an exponent (hub.domain.input_numbers reads it back)."""
    return "" if number is None else format(number, ",f")


def period_help(kpi: Kpi, workspace: Workspace) -> str:
    """How a period key of this KPI is written."""
    if kpi.cadence == Cadence.QUARTERLY and workspace.fiscal_year_start_month != 1:
        return FISCAL_PERIOD_HELP
    return PERIOD_HELP[Cadence(kpi.cadence)]


def _number(text: str | None, unit: str, currency: str | None = None) -> Decimal | None:
    """The number in a field, None when left empty; ValidationError with the reason."""
    if not (text or "").strip():
        return None
    try:
        return parse_number(text or "", unit, currency=currency)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class KpiValueForm(FlaskForm):
    """Set or clear a KPI's value for any period (the KPI detail page)."""

    period = StringField(
        "Period",
        validators=[InputRequired("Enter the period, like 2026-11-30.")],
        filters=[strip],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    value = StringField(
        "Value",
        description="Leave it empty to clear the period's value.",
        render_kw={"autocomplete": "off", "inputmode": "decimal"},
    )
    note = StringField(
        "Note",
        validators=[Length(max=values.MAX_NOTE)],
        filters=[strip],
        render_kw={"maxlength": values.MAX_NOTE},
    )

    def __init__(self, *args, kpi: Kpi, workspace: Workspace, **kwargs) -> None:
        self.kpi = kpi
        self.workspace = workspace
        self.number: Decimal | None = None
        self.chosen_period: Period | None = None
        super().__init__(*args, **kwargs)
        self.period.description = period_help(kpi, workspace)

    def validate_period(self, field: StringField) -> None:
        """A key of this KPI's cadence in the workspace's calendar."""
        try:
            self.chosen_period = values.kpi_period(self.kpi, field.data or "", self.workspace)
        except DomainError as error:
            raise ValidationError(error.message) from None

    def validate_value(self, field: StringField) -> None:
        """A number in the KPI's unit, or nothing (to clear)."""
        self.number = _number(field.data, self.kpi.unit, self.workspace.currency)


class CheckInKpiForm(KpiValueForm):
    """One KPI's row of the check-in: the value of the period due, and a note."""

    period = HiddenField(validators=[InputRequired("The period is missing: reload the page.")])
    who = HiddenField()


class CheckInKeyResultForm(FlaskForm):
    """One key result's row of the check-in: value (unless linked), confidence, note."""

    value = StringField("Current value", render_kw={"autocomplete": "off", "inputmode": "decimal"})
    confidence = StringField(
        "Confidence (0–10)",
        filters=[strip],
        render_kw={"type": "number", "min": 0, "max": 10, "step": 1, "inputmode": "numeric"},
    )
    note = StringField(
        "Note",
        validators=[Length(max=checkins.NOTE_LENGTH)],
        filters=[strip],
        render_kw={"maxlength": checkins.NOTE_LENGTH},
    )
    who = HiddenField()

    def __init__(self, *args, kr: KeyResult, workspace: Workspace, **kwargs) -> None:
        self.kr = kr
        self.workspace = workspace
        self.number: Decimal | None = None
        self.confidence_level: int | None = None
        super().__init__(*args, **kwargs)

    def validate_value(self, field: StringField) -> None:
        """A number in the key result's unit; empty (or a linked KR) keeps the value."""
        if self.kr.kpi_id is None:
            self.number = _number(field.data, self.kr.unit, self.workspace.currency)

    def validate_confidence(self, field: StringField) -> None:
        """A whole number from 0 to 10; empty keeps the confidence."""
        text = field.data or ""
        if not text:
            return
        if not (text.isascii() and text.isdigit() and int(text) <= checkins.MAX_CONFIDENCE):
            raise ValidationError(
                f"Confidence is a whole number from 0 (no chance) to "
                f"{checkins.MAX_CONFIDENCE} (certain)."
            )
        self.confidence_level = int(text)


class CheckInInitiativeForm(FlaskForm):
    """One hand-tracked initiative's row of the check-in: its % complete."""

    percent_complete = StringField(
        "% complete",
        description="0 to 100; leave it empty to clear.",
        render_kw={"autocomplete": "off", "inputmode": "decimal"},
    )
    who = HiddenField()

    def __init__(self, *args, initiative: Initiative, **kwargs) -> None:
        self.initiative = initiative
        self.number: Decimal | None = None
        super().__init__(*args, **kwargs)

    def validate_percent_complete(self, field: StringField) -> None:
        """A percentage from 0 to 100, or nothing."""
        number = _number(field.data, "percent")
        if number is not None and not Decimal(0) <= number <= Decimal(100):
            raise ValidationError("% complete is from 0 to 100.")
        self.number = number
