"""Forms for OKR cycles, initiatives (objectives), key results and check-ins."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Field,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, Optional

from hub.domain import plan
from hub.domain.checkins import NOTE_LENGTH
from hub.domain.input_numbers import parse_number
from hub.models import Cycle, CycleState, Goal, Initiative, KeyResult, Kpi, User, Workspace
from hub.routes.forms import strip

UNIT_CHOICES = [
    SelectChoice("number", "Number"),
    SelectChoice("percent", "Percent (%)"),
    SelectChoice("currency", "Currency"),
    SelectChoice("duration", "Duration (hours)"),
]
NO_CYCLE = "None — long-running"
NEW_CYCLE = "new"  # the carry-over target that creates the next quarter's cycle


def optional_id(value: Any) -> int | None:
    """A select's value as an id: '' (the 'none' option) is None."""
    if value in (None, ""):
        return None
    return int(value)


class NumberField(StringField):
    """A decimal number as people type it ('1,250.5', '12.5%', '$300'); blank is None.

    Read by hub.domain.input_numbers in the field's `unit`, or when that is None in the
    form's `number_unit` (a key result's own unit); `whole=True` takes whole numbers only.
    The typed text stays in the field on refusal, so it shows beside its error.
    """

    def __init__(
        self,
        label: str | None = None,
        validators=None,
        *,
        whole: bool = False,
        unit: str | None = "number",
        **kw,
    ):
        render_kw = {"inputmode": "numeric" if whole else "decimal", "autocomplete": "off"}
        render_kw |= kw.pop("render_kw", {})
        super().__init__(label, validators, render_kw=render_kw, **kw)
        self.whole = whole
        self.unit = unit
        self.number: Decimal | int | None = None

    def process_data(self, value: Any) -> None:
        self.number = value
        if value is None:
            self.data = ""
        else:  # plain digits and a dot, never an exponent (1E+3)
            self.data = format(value, "f") if isinstance(value, Decimal) else str(value)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = str(valuelist[0]).strip()
            self.number = None  # read in pre_validate, once the form knows the unit

    def pre_validate(self, form: FlaskForm) -> None:
        if self.raw_data is None or not self.raw_data:
            return  # not submitted: the default stands
        if not self.data:
            self.number = None
            return
        unit = self.unit or getattr(form, "number_unit", "number")
        try:
            number = parse_number(self.data, unit, currency=getattr(form, "number_currency", None))
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if self.whole:
            if number != number.to_integral_value():
                raise ValidationError("Enter a whole number, like 7.")
            self.number = int(number)
        else:
            self.number = number

    def _value(self) -> str:
        return self.data or ""


def _in_range(low: Decimal, high: Decimal | None, message: str):
    def check(form: FlaskForm, field: NumberField) -> None:
        number = field.number
        if number is None:
            return
        if number < low or (high is not None and number > high):
            raise ValidationError(message)

    return check


def _positive(form: FlaskForm, field: NumberField) -> None:
    if field.number is not None and field.number <= 0:
        raise ValidationError("Must be above 0, like 1 or 2.")


class _RequiredNumber:
    """A number must be given (the field is marked required, so no "(optional)")."""

    field_flags = {"required": True}

    def __call__(self, form: FlaskForm, field: NumberField) -> None:
        if field.number is None and not field.errors:
            raise ValidationError("Enter a number.")


_required_number = _RequiredNumber()


class CycleForm(FlaskForm):
    """An OKR cycle's name and dates."""

    name = StringField(
        "Name",
        validators=[InputRequired("Give the cycle a name, like 2027-Q1."), Length(max=60)],
        filters=[strip],
        description="Usually the quarter, like 2027-Q1.",
    )
    start = DateField("Starts on", validators=[InputRequired("Enter the first day.")])
    end = DateField("Ends on", validators=[InputRequired("Enter the last day.")])

    def validate_end(self, field: DateField) -> None:
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("Must be on or after the start.")

    def fields(self) -> plan.CycleFields:
        return plan.CycleFields(name=self.name.data, start=self.start.data, end=self.end.data)


class InitiativeForm(FlaskForm):
    """An initiative (an Objective on OKR pages); `for_workspace` fits it to the mode."""

    title = StringField(
        "Title",
        validators=[InputRequired("Give it a title."), Length(max=plan.TITLE_LENGTH)],
        filters=[strip],
    )
    description = TextAreaField("Description", filters=[strip], render_kw={"rows": 3})
    goal = SelectField("Goal", coerce=optional_id, validate_choice=True)
    cycle = SelectField("Cycle", coerce=optional_id)
    owner = SelectField("Owner", coerce=optional_id)
    start = DateField("Starts on", validators=[Optional()])
    due = DateField("Due on", validators=[Optional()])
    percent_complete = NumberField(
        "% complete",
        unit="percent",
        validators=[_in_range(Decimal(0), Decimal(100), "Must be from 0 to 100.")],
        description="For an initiative without key results: how far along it is, 0–100.",
    )
    gauges = SelectMultipleField(
        "Gauges",
        coerce=int,
        description="The KPIs this is meant to move.",
        invalid_choice_message="Choose KPIs of this workspace.",
    )

    def validate_due(self, field: DateField) -> None:
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("Must be on or after the start date.")

    @classmethod
    def for_workspace(
        cls,
        workspace: Workspace,
        *,
        goals: list[Goal],
        cycles: list[Cycle],
        people: list[User],
        kpis: list[Kpi],
        initiative: Initiative | None = None,
        **kwargs: Any,
    ) -> InitiativeForm:
        """The form with this workspace's choices; cycles hidden in KPI mode, gauges in OKR
        mode, % complete once there are key results."""
        form = cls(**kwargs)
        form.options = {"goals": goals, "cycles": cycles, "people": people, "kpis": kpis}
        form.goal.choices = [SelectChoice("", "No goal")] + [
            SelectChoice(str(goal.id), goal.title) for goal in goals
        ]
        choosable = [c for c in cycles if c.state != CycleState.CLOSED]
        if initiative is not None and initiative.cycle is not None:
            choosable = [c for c in choosable if c.id != initiative.cycle_id] + [initiative.cycle]
        form.cycle.choices = [SelectChoice("", NO_CYCLE)] + [
            SelectChoice(str(c.id), f"{c.name} ({c.state})") for c in choosable
        ]
        form.owner.choices = person_choices(people)
        form.gauges.choices = [SelectChoice(str(k.id), f"{k.key} · {k.name}") for k in kpis]
        if not workspace.uses_okrs:
            del form.cycle
        if not workspace.uses_kpis:
            del form.gauges
        if initiative is not None and initiative.key_results:
            del form.percent_complete
        return form

    @staticmethod
    def data_of(initiative: Initiative) -> dict[str, Any]:
        """What the form shows for an existing initiative."""
        return {
            "title": initiative.title,
            "description": initiative.description,
            "goal": initiative.goal_id,
            "cycle": initiative.cycle_id,
            "owner": initiative.owner_id,
            "start": initiative.start_date,
            "due": initiative.due_date,
            "percent_complete": initiative.percent_complete,
            "gauges": [kpi.id for kpi in initiative.gauges],
        }

    def fields(self, current: Initiative | None) -> plan.InitiativeFields:
        """The answers as InitiativeFields; a field the mode hides keeps `current`'s value."""
        by_id = {name: {item.id: item for item in items} for name, items in self.options.items()}
        cycle, gauges = field_or_none(self, "cycle"), field_or_none(self, "gauges")
        percent = field_or_none(self, "percent_complete")
        if cycle is not None:
            chosen_cycle = by_id["cycles"].get(cycle.data)
        else:
            chosen_cycle = current.cycle if current else None
        if gauges is not None:
            chosen_gauges = [by_id["kpis"][i] for i in gauges.data or [] if i in by_id["kpis"]]
        else:
            chosen_gauges = list(current.gauges) if current else []
        if percent is not None:
            chosen_percent = percent.number
        else:
            chosen_percent = current.percent_complete if current else None
        return plan.InitiativeFields(
            title=self.title.data or "",
            description=self.description.data or "",
            goal=by_id["goals"].get(self.goal.data),
            cycle=chosen_cycle,
            owner=by_id["people"].get(self.owner.data),
            start=self.start.data,
            due=self.due.data,
            percent_complete=chosen_percent,
            gauges=chosen_gauges,
        )


class KeyResultForm(FlaskForm):
    """A key result: start → target, its current value, confidence and weight."""

    title = StringField(
        "Title",
        validators=[InputRequired("Say what will be measured."), Length(max=plan.TITLE_LENGTH)],
        filters=[strip],
        description="Measurable, like 'Weekly active teams from 40 to 100'.",
    )
    owner = SelectField("Owner", coerce=optional_id)
    start = NumberField("Start value", unit=None, validators=[_required_number])
    target = NumberField(
        "Target value",
        unit=None,
        validators=[_required_number],
        description="Lower than the start for a decrease; equal to it to hold the line.",
    )
    current = NumberField(
        "Current value", unit=None, description="Leave blank until the first check-in."
    )
    unit = SelectField("Unit", choices=UNIT_CHOICES, default="number")
    confidence = NumberField(
        "Confidence",
        whole=True,
        default=5,
        validators=[_in_range(Decimal(0), Decimal(10), "Must be from 0 to 10."), _required_number],
        description="0–10: how likely the target is reached. 5 is a coin toss.",
        render_kw={"type": "number", "min": 0, "max": 10, "step": 1},
    )
    weight = NumberField(
        "Weight",
        default=Decimal(1),
        validators=[_positive, _required_number],
        description="How much it counts in the objective's score (1 = like the others).",
    )
    kpi = SelectField(
        "Follows KPI",
        coerce=optional_id,
        description="Its current value is then the KPI's latest value.",
    )

    @classmethod
    def for_workspace(
        cls, workspace: Workspace, *, people: list[User], kpis: list[Kpi], **kwargs: Any
    ) -> KeyResultForm:
        """The form with this workspace's people and KPIs (a linked KPI only in both mode)."""
        form = cls(**kwargs)
        form.number_currency = workspace.currency
        form.people = {user.id: user for user in people}
        form.kpis = {kpi.id: kpi for kpi in kpis}
        form.owner.choices = person_choices(people)
        form.kpi.choices = [SelectChoice("", "None — checked in by hand")] + [
            SelectChoice(str(k.id), f"{k.key} · {k.name}") for k in kpis
        ]
        if not (workspace.uses_kpis and workspace.uses_okrs):
            del form.kpi
        return form

    @property
    def number_unit(self) -> str:
        """Start, target and current are read in the unit chosen on the same form."""
        return self.unit.data if self.unit.data in plan.UNITS else "number"

    @staticmethod
    def data_of(kr: KeyResult) -> dict[str, Any]:
        """What the form shows for an existing key result."""
        return {
            "title": kr.title,
            "owner": kr.owner_id,
            "start": kr.start_value,
            "target": kr.target_value,
            "current": kr.current_value,
            "unit": kr.unit,
            "confidence": kr.confidence,
            "weight": kr.weight,
            "kpi": kr.kpi_id,
        }

    def fields(self) -> plan.KeyResultFields:
        """The answers (of a validated form) as KeyResultFields."""
        kpi_field = field_or_none(self, "kpi")
        return plan.KeyResultFields(
            title=self.title.data,
            start=self.start.number,
            target=self.target.number,
            owner=self.people.get(self.owner.data),
            current=self.current.number,
            unit=self.unit.data,
            confidence=self.confidence.number,
            weight=self.weight.number,
            kpi=self.kpis.get(kpi_field.data) if kpi_field is not None else None,
        )


class CheckInForm(FlaskForm):
    """A key result check-in: a value (none for a KR following a KPI), confidence, a note."""

    value = NumberField("Value", unit=None, description="Blank keeps the current value.")
    confidence = NumberField(
        "Confidence",
        whole=True,
        validators=[_in_range(Decimal(0), Decimal(10), "Must be from 0 to 10.")],
        render_kw={"type": "number", "min": 0, "max": 10, "step": 1},
    )
    note = StringField(
        "Note",
        validators=[Length(max=NOTE_LENGTH, message=f"At most {NOTE_LENGTH} characters.")],
        filters=[strip],
        description="One line: what moved, what is blocking.",
    )

    @classmethod
    def for_key_result(cls, kr: KeyResult, **kwargs: Any) -> CheckInForm:
        """A form prefixed by the KR's key (many on one page), showing its confidence."""
        form = cls(prefix=f"checkin-{kr.key}", data={"confidence": kr.confidence}, **kwargs)
        form.number_unit = kr.unit
        form.number_currency = kr.initiative.workspace.currency
        if kr.kpi_id is not None:
            del form.value
        return form

    @property
    def value_number(self) -> Decimal | None:
        field = self._fields.get("value")
        return field.number if field is not None else None


class MoveForm(FlaskForm):
    """Move something one place up or down (the button pressed says which)."""

    direction = SelectField(
        "Direction",
        choices=[SelectChoice("up", "Move up"), SelectChoice("down", "Move down")],
        invalid_choice_message="Move up or down.",
    )

    @property
    def step(self) -> int:
        return -1 if self.direction.data == "up" else 1


class CarryOverForm(FlaskForm):
    """Where a closed cycle's unfinished key results go: a draft or active cycle, or, when
    there is none, the next quarter's cycle made on the way."""

    target = SelectField(
        "Carry over into", invalid_choice_message="Choose a draft or active cycle."
    )

    @classmethod
    def for_cycle(
        cls, targets: list[Cycle], upcoming: plan.CycleFields, **kwargs: Any
    ) -> CarryOverForm:
        form = cls(**kwargs)
        if targets:
            form.target.choices = [
                SelectChoice(str(c.id), f"{c.name} ({c.state})") for c in targets
            ]
        else:
            span = f"{upcoming.start:%-d %b} – {upcoming.end:%-d %b %Y}"
            label = f"A new cycle, {upcoming.name} ({span})"
            form.target.choices = [SelectChoice(NEW_CYCLE, label)]
        return form


def close_form(keys: list[str], **kwargs: Any) -> FlaskForm:
    """The close-out form: an optional manual final score (0–1) per objective key."""

    class CloseCycleForm(FlaskForm):
        pass

    for key in keys:
        setattr(
            CloseCycleForm,
            key,
            NumberField(
                f"Manual final score of {key}",
                validators=[
                    _in_range(Decimal(0), Decimal(1), "Must be from 0 to 1, like 0.65."),
                    _two_places,
                ],
                render_kw={"placeholder": "—", "size": 5},
            ),
        )
    return CloseCycleForm(**kwargs)


def _two_places(form: FlaskForm, field: NumberField) -> None:
    number = field.number
    if number is not None and number != number.quantize(Decimal("0.01")):
        raise ValidationError("At most two decimals, like 0.65.")


def person_choices(people: list[User]) -> list[SelectChoice]:
    return [SelectChoice("", "Nobody yet")] + [
        SelectChoice(str(user.id), user.display_name) for user in people
    ]


def field_or_none(form: FlaskForm, name: str) -> Field | None:
    """A field the form may have dropped for the workspace's mode."""
    return form._fields.get(name)
