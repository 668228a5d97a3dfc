"""The Plan page's forms: strict numbers, thresholds in the user's words, owner choices."""

from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from hub.domain.errors import Invalid
from hub.domain.status import Bounds, bounds_from_form
from hub.domain.workspaces import memberships
from hub.models import Role
from hub.routes.plan_forms import (
    THRESHOLD_FIELDS,
    GoalForm,
    KpiForm,
    MoveForm,
    initial_data,
    member_choices,
    parse_number,
    place_problems,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", None),
        ("   ", None),
        (None, None),
        ("100", Decimal(100)),
        (" -3.5 ", Decimal("-3.5")),
        ("+7", Decimal(7)),
        (".5", Decimal("0.5")),
        ("12.", Decimal(12)),
        ("1,200", Decimal(1200)),
        ("1,200,000.25", Decimal("1200000.25")),
        ("-1,000", Decimal(-1000)),
        ("\u22124", Decimal(-4)),  # a typographic minus, as pasted from documents
        ("1 200", Decimal(1200)),
        ("0.0000000001", Decimal("0.0000000001")),
    ],
)
def test_numbers_people_type_are_read_exactly(raw, expected):
    assert parse_number(raw, what="Target") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "Target must be a number like 1200 or 12.5, not 'abc'"),
        ("NaN", "Target must be a number"),
        ("inf", "Target must be a number"),
        ("-Infinity", "Target must be a number"),
        ("1e5", "Target must be a number"),
        ("0x10", "Target must be a number"),
        ("1.2.3", "Target must be a number"),
        ("12%", "Target must be a number"),
        ("1,00", "use a point for decimals"),
        ("12,5", "use a point for decimals"),
        ("1,2345", "use a point for decimals"),
        ("9" * 25, "Target is too large"),
        ("0.00000000001", "Target has more than 10 decimal places"),
    ],
)
def test_anything_else_is_refused_with_a_message(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_number(raw, what="Target")


@pytest.fixture
def team(make):
    owner = make.user("olivia@example.com", name="Olivia")
    workspace = make.workspace(owner, slug="team")
    make.member(workspace, Role.EDITOR, make.user("sam.one@example.com", name="Sam"))
    make.member(workspace, Role.VIEWER, make.user("sam.two@example.com", name="Sam"))
    goal = make.goal(workspace, "Grow")
    return workspace, owner, goal


def kpi_form(app, team, data, kpi=None):
    workspace, owner, goal = team
    with app.test_request_context(method="POST", data=MultiDict(data)):
        form = KpiForm(members=memberships(workspace), goals=[goal], kpi=kpi)
        valid = form.validate()
    return form, valid


def fields_for(direction, **numbers):
    data = {"name": "Revenue", "direction": direction}
    data.update(numbers)
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # Higher is better: red defaults to 10 % under the target, on the bad side even
        # below zero.
        (fields_for("up", up_target="100"), Bounds(green_min=Decimal(100), red_min=Decimal(90))),
        (fields_for("up", up_target="-10"), Bounds(green_min=Decimal(-10), red_min=Decimal(-11))),
        (fields_for("up", up_target="0"), Bounds(green_min=Decimal(0), red_min=Decimal(0))),
        (
            fields_for("up", up_target="100", up_red_line="50"),
            Bounds(green_min=Decimal(100), red_min=Decimal(50)),
        ),
        # Lower is better: red defaults to 10 % over.
        (fields_for("down", down_target="2"), Bounds(green_max=Decimal(2), red_max=Decimal("2.2"))),
        (
            fields_for("down", down_target="-10"),
            Bounds(green_max=Decimal(-10), red_max=Decimal(-9)),
        ),
        (
            fields_for("down", down_target="-10", down_red_line="-5"),
            Bounds(green_max=Decimal(-10), red_max=Decimal(-5)),
        ),
        # Within a range: each bound as typed, any of them open.
        (
            fields_for("range", range_low="-5", range_high="5", range_red_low="-8"),
            Bounds(green_min=Decimal(-5), green_max=Decimal(5), red_min=Decimal(-8)),
        ),
        (fields_for("range"), Bounds()),
        (fields_for("up"), Bounds()),
    ],
)
def test_the_form_maps_the_users_words_onto_the_four_bounds(app, team, data, expected):
    form, valid = kpi_form(app, team, data)
    assert valid, form.errors
    assert form.bounds == expected
    fields = form.fields()
    assert (fields.green_min, fields.green_max, fields.red_min, fields.red_max) == (
        expected.green_min,
        expected.green_max,
        expected.red_min,
        expected.red_max,
    )
    assert fields.direction == data["direction"]


@pytest.mark.parametrize(
    ("direction", "bounds", "typed"),
    [
        (
            "up",
            Bounds(green_min=Decimal(100), red_min=Decimal(90)),
            {"up_target": "100", "up_red_line": "90"},
        ),
        (
            "up",
            Bounds(green_min=Decimal(-10), red_min=Decimal(-11)),
            {"up_target": "-10", "up_red_line": "-11"},
        ),
        ("up", Bounds(), {"up_target": "", "up_red_line": ""}),
        (
            "down",
            Bounds(green_max=Decimal("2.5"), red_max=Decimal(3)),
            {"down_target": "2.5", "down_red_line": "3"},
        ),
        (
            "range",
            Bounds(green_min=Decimal(40), green_max=Decimal(60), red_max=Decimal("1E+2")),
            {"range_low": "40", "range_high": "60", "range_red_low": "", "range_red_high": "100"},
        ),
    ],
)
def test_an_existing_kpi_fills_the_form_of_its_direction(make, team, direction, bounds, typed):
    workspace, owner, goal = team
    kpi = make.kpi(
        workspace,
        direction=direction,
        goal=goal,
        owner=owner,
        green_min=bounds.green_min,
        green_max=bounds.green_max,
        red_min=bounds.red_min,
        red_max=bounds.red_max,
    )
    data = initial_data(kpi)
    assert data["direction"] == direction
    assert data["goal"] == str(goal.id)
    assert data["owner"] == str(owner.id)
    for name in THRESHOLD_FIELDS[direction]:
        assert data[name] == typed[name], name
    # …and those fields give the same bounds back.
    numbers = {name: parse_number(data[name], what=name) for name in THRESHOLD_FIELDS[direction]}
    arguments = {
        "up_target": "target",
        "up_red_line": "red_line",
        "down_target": "target",
        "down_red_line": "red_line",
        "range_low": "low",
        "range_high": "high",
        "range_red_low": "red_low",
        "range_red_high": "red_high",
    }
    again = bounds_from_form(direction, **{arguments[n]: v for n, v in numbers.items()})
    assert again == bounds


def test_the_edit_form_round_trips_a_kpi_without_changes(app, make, team):
    workspace, owner, goal = team
    kpi = make.kpi(workspace, direction="down", green_max=Decimal("-3"), red_max=Decimal("-1"))
    form, valid = kpi_form(app, team, initial_data(kpi), kpi=kpi)
    assert valid, form.errors
    assert form.bounds == Bounds(green_max=Decimal(-3), red_max=Decimal(-1))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            fields_for("up", up_target="80", up_red_line="90"),
            "up_red_line",
            "The red line (90) must be at or below the target (80) for higher is better.",
        ),
        (
            fields_for("down", down_target="-5", down_red_line="-10"),
            "down_red_line",
            "The target (-5) must be at or below the red line (-10) for lower is better.",
        ),
        (
            fields_for("range", range_high="60", range_red_high="50"),
            "range_red_high",
            "The high end of the green range (60) must be at or below the upper red line (50).",
        ),
        (
            fields_for("range", range_red_low="70", range_red_high="50"),
            "range_red_high",
            "The lower red line (70) must be at or below the upper red line (50).",
        ),
    ],
)
def test_bounds_out_of_order_are_named_by_the_fields_the_user_typed(
    app, team, data, field, message
):
    form, valid = kpi_form(app, team, data)
    assert not valid
    assert form[field].errors == [message]
    assert "red_min" not in str(form.errors)
    assert "green_min" not in str(form.errors)


def test_only_the_chosen_directions_numbers_are_read(app, team):
    form, valid = kpi_form(
        app, team, fields_for("range", range_low="1", up_target="nonsense", down_target="1,0")
    )
    assert valid, form.errors
    assert form.bounds == Bounds(green_min=Decimal(1))


def test_numbers_typed_under_another_direction_are_not_silently_dropped(app, team):
    form, valid = kpi_form(app, team, fields_for("range", up_target="100"))
    assert not valid
    assert "You filled in the numbers for 'Higher is better'" in form.direction.errors[0]


def test_a_red_line_without_a_target_is_refused(app, team):
    form, valid = kpi_form(app, team, fields_for("down", down_red_line="5"))
    assert not valid
    assert form.down_red_line.errors == [
        "A red line needs a target: fill in the target too, or clear the red line."
    ]


def test_a_bad_number_is_shown_beside_its_field_only(app, team):
    form, valid = kpi_form(app, team, fields_for("up", up_target="lots", up_red_line="1e9"))
    assert not valid
    assert form.up_target.errors == ["Target must be a number like 1200 or 12.5, not 'lots'"]
    assert form.up_red_line.errors == ["Red below must be a number like 1200 or 12.5, not '1e9'"]


def test_domain_refusals_land_beside_the_chosen_directions_fields(app, team):
    workspace, owner, goal = team
    with app.test_request_context(method="POST", data={"name": "X", "direction": "down"}):
        form = KpiForm(members=memberships(workspace), goals=[goal])
        form.validate()
        place_problems(
            form,
            Invalid(
                [
                    "green_max: the target (5) must be at or below the red line (3)",
                    "cadence: K1 already has values",
                    "something else entirely",
                ]
            ),
        )
    assert form.down_target.errors == [
        "The target (5) must be at or below the red line (3) for lower is better."
    ]
    assert form.cadence.errors == ["K1 already has values"]
    assert form.form_errors == ["something else entirely"]


def test_owner_choices_are_members_by_name_with_emails_when_names_clash(team):
    workspace, owner, goal = team
    labels = [choice.label for choice in member_choices(memberships(workspace))]
    assert labels == [
        "No owner",
        "Olivia",
        "Sam (sam.one@example.com)",
        "Sam (sam.two@example.com)",
    ]


def test_an_owner_who_left_stays_choosable_and_marked(make, team):
    workspace, owner, goal = team
    leaver = make.user("lee@example.com", name="Lee")
    choices = member_choices(memberships(workspace), current=leaver)
    assert (str(leaver.id), "Lee — no longer a member") in [(c.value, c.label) for c in choices]


def test_the_goal_form_reads_its_owner_from_the_members(app, team):
    workspace, owner, goal = team
    data = {"title": "  Grow more ", "description": " Why ", "owner": str(owner.id)}
    with app.test_request_context(method="POST", data=data):
        form = GoalForm(members=memberships(workspace))
        assert form.validate(), form.errors
        fields = form.fields()
    assert (fields.title, fields.description, fields.owner) == ("Grow more", "Why", owner)


def test_the_goal_form_refuses_an_owner_from_elsewhere(app, make, team):
    workspace, owner, goal = team
    stranger = make.user()
    with app.test_request_context(method="POST", data={"title": "X", "owner": str(stranger.id)}):
        form = GoalForm(members=memberships(workspace))
        assert not form.validate()
    assert form.owner.errors == ["Choose one of the workspace's members, or no owner."]


def test_the_goal_form_starts_from_the_goal(app, team):
    workspace, owner, goal = team
    with app.test_request_context():
        form = GoalForm(members=memberships(workspace), goal=goal)
    assert (form.title.data, form.owner.data) == ("Grow", "")


@pytest.mark.parametrize(("direction", "offset"), [("up", -1), ("down", 1)])
def test_the_move_form_names_its_direction(app, direction, offset):
    with app.test_request_context(method="POST", data={"direction": direction}):
        form = MoveForm()
        assert form.validate()
        assert form.offset == offset
