"""Forms of the Plan page: goals, KPIs (with thresholds in the user's words), moves.

The KPI form speaks PRODUCT.md §2's language — a direction and a target, a red line —
and maps it onto the four stored bounds with `bounds_from_form` / `form_from_bounds`.
Each direction has its own fieldset; only the chosen one is read, so numbers left in the
others (hidden by the page's script, or visible without it) never block a save.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from hub.domain.errors import DomainError, Invalid
from hub.domain.numbers import checked_decimal
from hub.domain.periods import Cadence
from hub.domain.plan import (
    AGGREGATIONS,
    MAX_DECIMALS,
    TITLE_LENGTH,
    UNITS,
    GoalFields,
    KpiFields,
    bounds_problems,
)
from hub.domain.status import Bounds, Direction, bounds_from_form, form_from_bounds
from hub.models import Goal, Kpi, Membership, User
from hub.presenters import DIRECTION_WORDS
from hub.routes.forms import show_problems, strip

# Titles and names use DataRequired, not InputRequired: it looks at the data after the
# `strip` filter, so a title of spaces is refused beside its field too.
DESCRIPTION_LENGTH = 2000
NOBODY = ""  # the select value of "no owner" / "no goal"

UNIT_LABELS = {
    "number": "Number",
    "percent": "Percent",
    "currency": "Money",
    "duration": "Duration (hours)",
}
CADENCE_LABELS = {
    Cadence.WEEKLY.value: "Weekly",
    Cadence.MONTHLY.value: "Monthly",
    Cadence.QUARTERLY.value: "Quarterly",
}
AGGREGATION_LABELS = {
    "last": "Last value — a month shows its latest week (balances, headcount, NPS)",
    "sum": "Sum — a month adds up its weeks (sales, sign-ups, hours)",
    "average": "Average — a month is the mean of its weeks (rates, scores)",
}
DIRECTION_HINTS = {
    Direction.UP.value: "e.g. revenue, NPS",
    Direction.DOWN.value: "e.g. churn, cost, response time",
    Direction.RANGE.value: "e.g. stock level, utilisation",
}

# The threshold fields of each direction, and which stored bound each one sets.
THRESHOLD_FIELDS: dict[str, dict[str, str]] = {
    Direction.UP.value: {"up_target": "green_min", "up_red_line": "red_min"},
    Direction.DOWN.value: {"down_target": "green_max", "down_red_line": "red_max"},
    Direction.RANGE.value: {
        "range_low": "green_min",
        "range_high": "green_max",
        "range_red_low": "red_min",
        "range_red_high": "red_max",
    },
}
# The arguments of bounds_from_form / keys of form_from_bounds, per form field.
_FORM_ARGUMENTS = {
    "up_target": "target",
    "up_red_line": "red_line",
    "down_target": "target",
    "down_red_line": "red_line",
    "range_low": "low",
    "range_high": "high",
    "range_red_low": "red_low",
    "range_red_high": "red_high",
}

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def parse_number(raw: str | None, *, what: str) -> Decimal | None:
    """A number as people type it: '1200', '-3.5', '1,200.50'; blank is None.

    Strict: commas only between groups of three digits (never as the decimal point),
    no exponents, no NaN or infinity, and the stored range and precision of
    `checked_decimal`. Raises ValueError with a message naming `what`.
    """
    text = (raw or "").strip().replace("\u2212", "-").replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    if "," in text:
        if not _THOUSANDS.fullmatch(text):
            raise ValueError(
                f"{what} must be a number like 1200 or 1,200.5 — use a point for decimals, "
                f"not {raw.strip()[:40]!r}"
            )
        text = text.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(text):
        raise ValueError(f"{what} must be a number like 1200 or 12.5, not {raw.strip()[:40]!r}")
    return checked_decimal(text, what=what)


def member_choices(members: list[Membership], current: User | None = None) -> list:
    """The owner select: nobody, then members by display name (email when two look alike).

    A current owner who has left the workspace stays choosable, marked, so an edit that
    does not touch the owner does not fail.
    """
    users = sorted((m.user for m in members), key=lambda u: (u.display_name.casefold(), u.id))
    gone = current is not None and all(user.id != current.id for user in users)
    if gone:
        users.append(current)
    names = Counter(user.display_name for user in users)
    choices = [SelectChoice(NOBODY, "No owner")]
    for user in users:
        label = user.display_name
        if names[label] > 1:
            label = f"{label} ({user.email})"
        if gone and user is current:
            label += " — no longer a member"
        choices.append(SelectChoice(str(user.id), label))
    return choices


class OwnerMixin:
    """An owner select filled with the workspace's members."""

    owner = SelectField(
        "Owner",
        invalid_choice_message="Choose one of the workspace's members, or no owner.",
        default=NOBODY,
        description="Who answers for it. Only members of the workspace can own things.",
    )

    def set_owner_choices(self, members: list[Membership], current: User | None) -> None:
        self._people = {m.user.id: m.user for m in members}
        if current is not None:
            self._people.setdefault(current.id, current)
        self.owner.choices = member_choices(members, current)

    def owner_user(self) -> User | None:
        """The chosen owner (None: nobody)."""
        value = self.owner.data
        return self._people.get(int(value)) if value and value.isdigit() else None


class GoalForm(OwnerMixin, FlaskForm):
    """A goal: what it is and who owns it."""

    title = StringField(
        "Title",
        validators=[
            DataRequired("Give the goal a title."),
            Length(max=TITLE_LENGTH, message=f"Keep the title to {TITLE_LENGTH} characters."),
        ],
        filters=[strip],
        description="A few words everyone will recognise, like 'Grow recurring revenue'.",
        render_kw={"maxlength": TITLE_LENGTH, "autocomplete": "off"},
    )
    description = TextAreaField(
        "Description",
        validators=[Length(max=DESCRIPTION_LENGTH)],
        filters=[strip],
        description="Why it matters, or what success looks like.",
        render_kw={"rows": 2},
    )

    def __init__(self, *args, members: list[Membership], goal: Goal | None = None, **kwargs):
        if goal is not None and "obj" not in kwargs and "data" not in kwargs:
            kwargs["data"] = {
                "title": goal.title,
                "description": goal.description,
                "owner": str(goal.owner_id) if goal.owner_id else NOBODY,
            }
        super().__init__(*args, **kwargs)
        self.set_owner_choices(members, goal.owner if goal is not None else None)

    def fields(self) -> GoalFields:
        """The goal as typed, for the domain to check and save."""
        return GoalFields(
            title=self.title.data or "",
            description=self.description.data or "",
            owner=self.owner_user(),
        )


class MoveForm(FlaskForm):
    """Move up or down: the button pressed names the direction."""

    direction = SelectField(
        "Move",
        choices=[SelectChoice("up", "Move up"), SelectChoice("down", "Move down")],
        invalid_choice_message="Choose whether to move it up or down.",
    )

    @property
    def offset(self) -> int:
        return -1 if self.direction.data == "up" else 1


class ThresholdField(StringField):
    """A threshold number, parsed by the form only when its direction is chosen."""

    def __init__(self, label: str, **kwargs):
        kwargs.setdefault("filters", [strip])
        kwargs.setdefault("render_kw", {"autocomplete": "off", "spellcheck": "false"})
        super().__init__(label, **kwargs)


class KpiForm(OwnerMixin, FlaskForm):
    """A KPI: what it measures, how it is counted, who owns it, and what is good."""

    name = StringField(
        "Name",
        validators=[
            DataRequired("Give the KPI a name."),
            Length(max=TITLE_LENGTH, message=f"Keep the name to {TITLE_LENGTH} characters."),
        ],
        filters=[strip],
        description="What is measured, like 'Monthly recurring revenue' or 'Churn'.",
        render_kw={"maxlength": TITLE_LENGTH, "autocomplete": "off"},
    )
    description = TextAreaField(
        "Description",
        validators=[Length(max=DESCRIPTION_LENGTH)],
        filters=[strip],
        description="How it is measured and where the number comes from.",
        render_kw={"rows": 2},
    )
    goal = SelectField(
        "Goal",
        default=NOBODY,
        invalid_choice_message="Choose one of the plan's goals, or no goal.",
        description="The goal this KPI is a gauge of.",
    )
    unit = SelectField(
        "Unit",
        choices=[SelectChoice(unit, UNIT_LABELS[unit]) for unit in UNITS],
        default="number",
        invalid_choice_message="Choose number, percent, money or duration.",
        description="Money is in the workspace's currency; 12 % is typed as 12.",
    )
    decimals = SelectField(
        "Decimal places",
        choices=[
            SelectChoice(n, f"{n} — like 12{'.' if n else ''}{'345678'[:n]}")
            for n in range(MAX_DECIMALS + 1)
        ],
        coerce=int,
        default=0,
        invalid_value_message=f"Choose from 0 to {MAX_DECIMALS} decimal places.",
        invalid_choice_message=f"Choose from 0 to {MAX_DECIMALS} decimal places.",
        description="How values are shown; what people type is kept exactly.",
    )
    cadence = SelectField(
        "Cadence",
        choices=[SelectChoice(c, CADENCE_LABELS[c]) for c in CADENCE_LABELS],
        default=Cadence.WEEKLY.value,
        invalid_choice_message="Choose weekly, monthly or quarterly.",
        description="How often a value is due. It cannot change once the KPI has values.",
    )
    aggregation = RadioField(
        "Rolling up into months and quarters",
        choices=[SelectChoice(a, AGGREGATION_LABELS[a]) for a in AGGREGATIONS],
        default="last",
        invalid_choice_message="Choose last value, sum or average.",
        description="How the values of a period's weeks or months make one number.",
    )
    direction = RadioField(
        "What is good?",
        choices=[
            SelectChoice(d.value, f"{DIRECTION_WORDS[d]} ({DIRECTION_HINTS[d.value]})")
            for d in Direction
        ],
        default=Direction.UP.value,
        invalid_choice_message="Choose higher is better, lower is better or within a range.",
        description="Then fill in the targets for that choice below.",
    )
    up_target = ThresholdField(
        "Target", description="Green at or above this. Leave empty for no target yet."
    )
    up_red_line = ThresholdField(
        "Red below", description="Red under this line. Empty: 10 % under the target."
    )
    down_target = ThresholdField(
        "Target", description="Green at or below this. Leave empty for no target yet."
    )
    down_red_line = ThresholdField(
        "Red above", description="Red over this line. Empty: 10 % over the target."
    )
    range_low = ThresholdField("Green from", description="The low end of the green range.")
    range_high = ThresholdField("Green up to", description="The high end of the green range.")
    range_red_low = ThresholdField("Red below", description="Red under this line.")
    range_red_high = ThresholdField("Red above", description="Red over this line.")

    def __init__(
        self,
        *args,
        members: list[Membership],
        goals: list[Goal],
        kpi: Kpi | None = None,
        **kwargs,
    ):
        if kpi is not None and "data" not in kwargs:
            kwargs["data"] = initial_data(kpi)
        super().__init__(*args, **kwargs)
        self.kpi = kpi
        self.bounds = Bounds()
        current_goal = kpi.goal if kpi is not None else None
        self._goals = {goal.id: goal for goal in goals}
        if current_goal is not None:
            self._goals.setdefault(current_goal.id, current_goal)
        self.goal.choices = [SelectChoice(NOBODY, "No goal")] + [
            SelectChoice(
                str(goal.id), goal.title + (" (archived)" if goal.archived_at is not None else "")
            )
            for goal in self._goals.values()
        ]
        self.set_owner_choices(members, kpi.owner if kpi is not None else None)

    def threshold_fields(self, direction: str) -> list[Field]:
        """The fields of one direction's fieldset."""
        return [self[name] for name in THRESHOLD_FIELDS.get(direction, {})]

    def validate(self, extra_validators=None) -> bool:
        """The fields, then the chosen direction's numbers and their order."""
        valid = super().validate(extra_validators)
        direction = self.direction.data
        if direction not in THRESHOLD_FIELDS:
            return False
        numbers: dict[str, Decimal | None] = {}
        for name in THRESHOLD_FIELDS[direction]:
            try:
                numbers[name] = parse_number(self[name].data, what=self[name].label.text)
            except ValueError as error:
                self[name].errors = [*self[name].errors, str(error)]
                valid = False
        if not valid:
            return False
        if not any(value is not None for value in numbers.values()):
            other = self._filled_direction_other_than(direction)
            if other is not None:
                self.direction.errors = [
                    *self.direction.errors,
                    f"You filled in the numbers for '{DIRECTION_WORDS[Direction(other)]}' "
                    f"but chose '{DIRECTION_WORDS[Direction(direction)]}'. Choose the one "
                    "you meant.",
                ]
                return False
        if direction != Direction.RANGE.value:
            target, red = (numbers[name] for name in THRESHOLD_FIELDS[direction])
            if target is None and red is not None:
                red_field = self.threshold_fields(direction)[1]
                red_field.errors = [
                    *red_field.errors,
                    "A red line needs a target: fill in the target too, or clear the red line.",
                ]
                return False
        arguments = {_FORM_ARGUMENTS[name]: value for name, value in numbers.items()}
        self.bounds = bounds_from_form(direction, **arguments)
        problems = [f"{name}: {reason}" for name, reason in _bound_problems(self.bounds, direction)]
        if problems:
            place_problems(self, Invalid(problems))
            return False
        return True

    def _filled_direction_other_than(self, direction: str) -> str | None:
        for other in THRESHOLD_FIELDS:
            if other != direction and any(
                (field.data or "").strip() for field in self.threshold_fields(other)
            ):
                return other
        return None

    def goal_object(self) -> Goal | None:
        value = self.goal.data
        return self._goals.get(int(value)) if value and value.isdigit() else None

    def fields(self) -> KpiFields:
        """The KPI as typed (after a successful validate()), for the domain to save."""
        return KpiFields(
            name=self.name.data or "",
            description=self.description.data or "",
            goal=self.goal_object(),
            unit=self.unit.data,
            decimals=self.decimals.data,
            cadence=self.cadence.data,
            aggregation=self.aggregation.data,
            owner=self.owner_user(),
            direction=self.direction.data,
            green_min=self.bounds.green_min,
            green_max=self.bounds.green_max,
            red_min=self.bounds.red_min,
            red_max=self.bounds.red_max,
        )


def initial_data(kpi: Kpi) -> dict[str, object]:
    """The form's fields for an existing KPI: its thresholds in its direction's words."""
    direction = kpi.direction if kpi.direction in THRESHOLD_FIELDS else Direction.UP.value
    stored = Bounds(
        green_min=kpi.green_min, green_max=kpi.green_max, red_min=kpi.red_min, red_max=kpi.red_max
    )
    typed = form_from_bounds(direction, stored)
    data: dict[str, object] = {
        "name": kpi.name,
        "description": kpi.description,
        "goal": str(kpi.goal_id) if kpi.goal_id else NOBODY,
        "unit": kpi.unit,
        "decimals": kpi.decimals,
        "cadence": kpi.cadence,
        "aggregation": kpi.aggregation,
        "owner": str(kpi.owner_id) if kpi.owner_id else NOBODY,
        "direction": direction,
    }
    for name in THRESHOLD_FIELDS[direction]:
        value = typed.get(_FORM_ARGUMENTS[name])
        data[name] = "" if value is None else _plain(value)
    return data


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def _bound_problems(bounds: Bounds, direction: str) -> list[tuple[str, str]]:
    """(form field, message) for each break of the bounds' order, in the form's words."""
    found = []
    for problem in bounds_problems(bounds, direction):
        bound, _, reason = problem.partition(": ")
        found.append((_field_for(bound, direction) or bound, _sentence(reason, direction)))
    return found


def _field_for(bound: str, direction: str) -> str | None:
    for name, stored in THRESHOLD_FIELDS.get(direction, {}).items():
        if stored == bound:
            return name
    return None


def _sentence(reason: str, direction: str) -> str:
    """'the red line (90) must be …' → 'The red line (90) must be … for higher is better.'

    The range's names (low end, upper red line) say enough on their own.
    """
    reason = reason[:1].upper() + reason[1:]
    if reason.endswith("."):
        return reason
    if direction == Direction.RANGE.value:
        return f"{reason}."
    return f"{reason} for {DIRECTION_WORDS[Direction(direction)].lower()}."


def place_problems(form: FlaskForm, error: DomainError) -> None:
    """A refusal shown beside the fields the user typed: bound names become the chosen
    direction's fields, in that direction's words; the rest as show_problems does."""
    if isinstance(error, Invalid) and isinstance(form, KpiForm):
        direction = form.direction.data or Direction.UP.value
        problems = []
        for problem in error.problems:
            name, _, reason = problem.partition(": ")
            target = _field_for(name, direction) if direction in THRESHOLD_FIELDS else None
            if target is not None and not reason.endswith("."):
                problems.append(f"{target}: {_sentence(reason, direction)}")
            elif target is not None:
                problems.append(f"{target}: {reason}")
            else:
                problems.append(problem)
        error = Invalid(problems)
    show_problems(form, error)
