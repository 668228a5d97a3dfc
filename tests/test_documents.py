"""The workspace document: lossless round trips, strict validation, all-or-nothing import."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.domain import documents
from hub.domain.documents import (
    document_json,
    export_workspace,
    import_document,
    parse_document_json,
    validate_document,
)
from hub.domain.errors import DomainError, Invalid
from hub.domain.plan import KpiFields, create_kpi
from hub.extensions import db
from hub.models import Cycle, Initiative, KeyResult, Kpi, KpiValue, User, ValueChange, Workspace

D = Decimal


def rich_document() -> dict[str, Any]:
    """A document using every feature, written exactly as export writes it."""
    return {
        "format": "strategy-hub/v1",
        "workspace": {
            "slug": "rich",
            "name": "Ünïcødé Café — 北京 ☕",
            "mode": "both",
            "time_zone": "Europe/Berlin",
            "week_start": "wednesday",
            "fiscal_year_start_month": 4,
            "currency": "EUR",
        },
        "members": [
            {"email": "anna@example.com", "role": "owner", "name": "Anna Ångström"},
            {"email": "zed@example.com", "role": "owner", "name": "Zed"},
            {"email": "bob@example.com", "role": "editor", "name": "Bob"},
            {"email": "carl@example.com", "role": "updater", "name": "Carl 🚀"},
            {"email": "dora@example.com", "role": "viewer", "name": ""},
        ],
        "goals": [
            {
                "title": "Grow revenue 💶",
                "description": "Two lines,\n“quotes”, a \\ backslash and a tab\there.",
                "owner": "anna@example.com",
                "archived": False,
            },
            {"title": "Old goal", "description": "", "owner": None, "archived": True},
        ],
        "kpis": [
            {
                "key": "K1",
                "name": "New MRR",
                "description": "Booked in the week.",
                "goal": "Grow revenue 💶",
                "unit": "currency",
                "decimals": 2,
                "cadence": "weekly",
                "aggregation": "sum",
                "owner": "bob@example.com",
                "direction": "up",
                "green_min": D("12345678901234.5678901234"),
                "green_max": None,
                "red_min": D("0.1"),
                "red_max": None,
                "archived": False,
                "values": [
                    {"period": "2026-01-07", "value": D("0.1"), "note": "first — ünïcødé"},
                    {"period": "2026-01-14", "value": D("12345678901234.5678901234"), "note": ""},
                    {"period": "2026-01-28", "value": D("-0.0000000001"), "note": "a gap before"},
                ],
            },
            {
                "key": "K2",
                "name": "Churn",
                "description": "",
                "goal": "Grow revenue 💶",
                "unit": "percent",
                "decimals": 1,
                "cadence": "monthly",
                "aggregation": "average",
                "owner": "carl@example.com",
                "direction": "down",
                "green_min": None,
                "green_max": D("1.5"),
                "red_min": None,
                "red_max": D("2.5"),
                "archived": False,
                "values": [
                    {"period": "2025-12", "value": 3, "note": ""},
                    {"period": "2026-01", "value": D("1.25"), "note": ""},
                ],
            },
            {
                "key": "K7",
                "name": "Gross margin",
                "description": "",
                "goal": None,
                "unit": "currency",
                "decimals": 0,
                "cadence": "quarterly",
                "aggregation": "last",
                "owner": None,
                "direction": "range",
                "green_min": 60,
                "green_max": 75,
                "red_min": 50,
                "red_max": 85,
                "archived": False,
                "values": [
                    {"period": "FY2026-Q4", "value": 61, "note": ""},
                    {"period": "FY2027-Q1", "value": 1000000, "note": ""},
                ],
            },
            {
                "key": "K12",
                "name": "Support hours",
                "description": "",
                "goal": "Old goal",
                "unit": "duration",
                "decimals": 6,
                "cadence": "weekly",
                "aggregation": "average",
                "owner": "dora@example.com",
                "direction": "down",
                "green_min": None,
                "green_max": None,
                "red_min": None,
                "red_max": None,
                "archived": True,
                "values": [],
            },
            {
                "key": "MRR",
                "name": "Red line only",
                "description": "",
                "goal": None,
                "unit": "number",
                "decimals": 0,
                "cadence": "weekly",
                "aggregation": "last",
                "owner": None,
                "direction": "up",
                "green_min": None,
                "green_max": None,
                "red_min": -5,
                "red_max": None,
                "archived": False,
                "values": [{"period": "2026-01-07", "value": 0, "note": ""}],
            },
        ],
        "cycles": [
            {"name": "FY2026-Q4", "start": "2026-01-01", "end": "2026-03-31", "state": "closed"},
            {"name": "FY2027-Q1", "start": "2026-04-01", "end": "2026-06-30", "state": "active"},
            {"name": "FY2027-Q2", "start": "2026-07-01", "end": "2026-09-30", "state": "draft"},
        ],
        "initiatives": [
            {
                "key": "I1",
                "title": "Self-serve checkout",
                "description": "Multi\nline",
                "goal": "Grow revenue 💶",
                "cycle": "FY2026-Q4",
                "owner": "anna@example.com",
                "start": "2026-01-01",
                "due": "2026-03-31",
                "percent_complete": None,
                "final_score": D("0.65"),
                "final_score_manual": True,
                "archived": False,
                "gauges": ["K1", "K2"],
                "key_results": [
                    {
                        "key": "KR1",
                        "title": "Cut churn",
                        "owner": "carl@example.com",
                        "start": 10,
                        "target": 4,
                        "current": D("6.5"),
                        "unit": "percent",
                        "confidence": 0,
                        "weight": 2,
                        "kpi": None,
                    },
                    {
                        "key": "KR2",
                        "title": "Keep NPS",
                        "owner": None,
                        "start": 50,
                        "target": 50,
                        "current": None,
                        "unit": "number",
                        "confidence": 10,
                        "weight": D("0.5"),
                        "kpi": None,
                    },
                ],
            },
            {
                "key": "I2",
                "title": "Follow MRR",
                "description": "",
                "goal": None,
                "cycle": "FY2027-Q1",
                "owner": "bob@example.com",
                "start": None,
                "due": None,
                "percent_complete": None,
                "final_score": None,
                "final_score_manual": False,
                "archived": False,
                "gauges": ["K2", "K7", "K12"],
                "key_results": [
                    {
                        "key": "KR10",
                        "title": "Linked",
                        "owner": "bob@example.com",
                        "start": D("0.1"),
                        "target": D("12345678901234.5678901234"),
                        "current": None,
                        "unit": "currency",
                        "confidence": 5,
                        "weight": 1,
                        "kpi": "K1",
                    }
                ],
            },
            {
                "key": "I9",
                "title": "Warehouse migration (long-running)",
                "description": "",
                "goal": "Old goal",
                "cycle": None,
                "owner": "zed@example.com",
                "start": "2025-06-01",
                "due": "2027-06-30",
                "percent_complete": D("42.5"),
                "final_score": None,
                "final_score_manual": False,
                "archived": False,
                "gauges": ["K7"],
                "key_results": [],
            },
            {
                "key": "BETA",
                "title": "Archived idea",
                "description": "",
                "goal": None,
                "cycle": "FY2027-Q2",
                "owner": None,
                "start": None,
                "due": None,
                "percent_complete": 0,
                "final_score": None,
                "final_score_manual": False,
                "archived": True,
                "gauges": [],
                "key_results": [],
            },
        ],
    }


def minimal_document(**workspace: Any) -> dict[str, Any]:
    """A small valid document to break in one place at a time."""
    return {
        "format": "strategy-hub/v1",
        "workspace": {"slug": "base", "name": "Base", **workspace},
        "members": [{"email": "owner@example.com", "role": "owner"}],
        "goals": [{"title": "Grow"}],
        "kpis": [
            {"key": "K1", "name": "Weekly", "goal": "Grow", "green_min": 100, "red_min": 90,
             "values": [{"period": "2026-11-30", "value": 95}]},
            {"key": "K2", "name": "Monthly", "cadence": "monthly",
             "values": [{"period": "2026-11", "value": 1}]},
            {"key": "K3", "name": "Quarterly", "cadence": "quarterly",
             "values": [{"period": "2026-Q4", "value": 1}]},
        ],
        "cycles": [{"name": "Q4", "start": "2026-10-01", "end": "2026-12-31", "state": "active"}],
        "initiatives": [
            {"key": "I1", "title": "Bet", "cycle": "Q4", "goal": "Grow", "gauges": ["K1"],
             "key_results": [{"key": "KR1", "title": "KR", "start": 0, "target": 10, "kpi": "K1"}]}
        ],
    }  # fmt: skip


def row_counts() -> dict[str, int]:
    """How many rows every table holds: equal before and after means nothing changed."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def workspace(slug: str) -> Workspace:
    return db.session.scalar(select(Workspace).where(Workspace.slug == slug))


# ------------------------------------------------------------------- round trip


def test_export_of_an_import_is_the_document_itself(app):
    doc = rich_document()
    import_document(doc)
    db.session.commit()
    assert export_workspace(workspace("rich")) == doc


def test_round_trip_is_lossless_under_a_new_slug(app):
    import_document(rich_document())
    db.session.commit()
    first = document_json(export_workspace(workspace("rich")))
    import_document(parse_document_json(first), slug="rich-copy")
    db.session.commit()
    second = document_json(export_workspace(workspace("rich-copy")))
    assert second == first.replace('"slug": "rich"', '"slug": "rich-copy"', 1)
    assert second != first


def test_exact_decimals_survive_the_database_and_the_json(app):
    import_document(rich_document())
    db.session.commit()
    db.session.expire_all()  # read back from the database, not the session
    k1 = db.session.scalar(select(Kpi).where(Kpi.key == "K1"))
    assert [v.value for v in k1.values] == [
        D("0.1"),
        D("12345678901234.5678901234"),
        D("-0.0000000001"),
    ]
    assert k1.green_min == D("12345678901234.5678901234")
    text = document_json(export_workspace(workspace("rich")))
    assert '"value": 12345678901234.5678901234' in text
    assert '"value": 0.1,' in text
    assert '"value": -0.0000000001,' in text
    assert '"weight": 0.5' in text
    assert "Ünïcødé Café — 北京 ☕" in text  # written as text, not \u escapes
    assert json.loads(text)["workspace"]["slug"] == "rich"  # plain JSON for other tools


def test_document_json_puts_one_value_per_line(app):
    import_document(rich_document())
    db.session.commit()
    text = document_json(export_workspace(workspace("rich")))
    assert '\n        {"period": "2026-01-07", "value": 0.1, "note": "first — ünïcødé"},\n' in text


def test_values_enter_the_history_as_imports_by_the_importer(app, make):
    importer = make.user("importer@example.com")
    import_document(rich_document(), slug="mine", importer=importer)
    db.session.commit()
    changes = db.session.scalars(select(ValueChange)).all()
    assert len(changes) == 8
    assert {(c.source, c.user_id, c.old_value) for c in changes} == {("import", importer.id, None)}
    assert {row.source for row in db.session.scalars(select(KpiValue))} == {"import"}
    members = {m["email"]: m["role"] for m in export_workspace(workspace("mine"))["members"]}
    assert members["importer@example.com"] == "owner"


def test_members_without_an_account_get_one_without_a_password(app, make):
    existing = make.user("bob@example.com", name="Bobby")
    import_document(rich_document())
    db.session.commit()
    users = {u.email: u for u in db.session.scalars(select(User))}
    assert users["anna@example.com"].password_hash is None
    assert users["anna@example.com"].name == "Anna Ångström"
    assert users["bob@example.com"].id == existing.id
    assert users["bob@example.com"].check_password("correct horse battery")
    assert users["bob@example.com"].name == "Bobby"  # an existing account is not renamed


def test_key_counters_move_past_the_largest_imported_key(app):
    import_document(rich_document())
    db.session.commit()
    ws = workspace("rich")
    assert (ws.next_kpi_number, ws.next_initiative_number, ws.next_key_result_number) == (
        13,
        10,
        11,
    )
    kpi = create_kpi(ws, KpiFields(name="Another"))
    assert kpi.key == "K13"


def test_a_closed_cycle_keeps_its_final_scores(app):
    import_document(rich_document())
    db.session.commit()
    closed = db.session.scalar(select(Cycle).where(Cycle.name == "FY2026-Q4"))
    assert closed.closed_at is not None
    i1 = db.session.scalar(select(Initiative).where(Initiative.key == "I1"))
    assert (i1.final_score, i1.final_score_manual) == (D("0.65"), True)
    kr10 = db.session.scalar(select(KeyResult).where(KeyResult.key == "KR10"))
    assert kr10.kpi.key == "K1"


def test_a_hand_written_document_may_leave_out_defaults(app):
    import_document(minimal_document())
    db.session.commit()
    doc = export_workspace(workspace("base"))
    assert doc["workspace"] == {
        "slug": "base",
        "name": "Base",
        "mode": "both",
        "time_zone": "UTC",
        "week_start": "monday",
        "fiscal_year_start_month": 1,
        "currency": "USD",
    }
    assert doc["kpis"][1] | {"values": []} == {
        "key": "K2",
        "name": "Monthly",
        "description": "",
        "goal": None,
        "unit": "number",
        "decimals": 0,
        "cadence": "monthly",
        "aggregation": "last",
        "owner": None,
        "direction": "up",
        "green_min": None,
        "green_max": None,
        "red_min": None,
        "red_max": None,
        "archived": False,
        "values": [],
    }
    assert doc["initiatives"][0]["key_results"][0]["weight"] == 1


# ---------------------------------------------------------------- refusals


def set_at(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `doc` with the field at `path` (like `kpis[0].values[1].period`) set, or
    removed when `value` is DELETE, or appended when it is one past the end of a list."""
    doc = copy.deepcopy(doc)
    steps = [int(s) if s.isdigit() else s for s in re.findall(r"[^.\[\]]+", path)]
    target = doc
    for step in steps[:-1]:
        target = target[step]
    if value is DELETE:
        del target[steps[-1]]
    elif isinstance(target, list) and steps[-1] == len(target):
        target.append(value)
    else:
        target[steps[-1]] = value
    return doc


DELETE = object()
HUGE = "x" * 1_000_000

REFUSALS = [
    ("format", "strategy-hub/v2", "format: expected 'strategy-hub/v1', not text 'strategy-hub/v2'"),
    ("format", DELETE, "format: required"),
    ("workspace", DELETE, "workspace: required"),
    ("workspace", [], "workspace: expected an object, not a list"),
    ("workspace.slug", "Bad Slug", "workspace.slug: use 1–64 lowercase letters"),
    ("workspace.name", "", "workspace.name: give the workspace a name"),
    ("workspace.mode", "KPI", "workspace.mode: must be kpi, okr or both, not 'KPI'"),
    ("workspace.time_zone", "Mars/Olympus", "workspace.time_zone: 'Mars/Olympus' is not a known"),
    ("workspace.time_zone", HUGE, "workspace.time_zone: at most 64 characters (1000000 given)"),
    ("workspace.week_start", 0, "workspace.week_start: must be text, not the number 0"),
    ("workspace.fiscal_year_start_month", 13, "workspace.fiscal_year_start_month: must be a month"),
    (
        "workspace.fiscal_year_start_month",
        True,
        "workspace.fiscal_year_start_month: must be a whole number, not true",
    ),
    ("workspace.currency", "usd", "workspace.currency: 'usd' is not an ISO 4217 code"),
    ("workspace.colour", "red", "workspace.colour: unknown field"),
    ("members", [], "members: list at least one member with the role owner"),
    (
        "members[0].role",
        "admin",
        "members[0].role: must be one of owner, editor, updater, viewer, not 'admin'",
    ),
    ("members[0].email", "not-an-email", "members[0].email: 'not-an-email' is not a valid email"),
    (
        "members[1]",
        {"email": "OWNER@example.com", "role": "viewer"},
        "members[1].email: duplicate member 'owner@example.com'",
    ),
    ("goals[1]", {"title": "GROW"}, "goals[1].title: duplicate goal title 'GROW'"),
    ("goals[0].title", HUGE, "goals[0].title: at most 200 characters (1000000 given)"),
    (
        "goals[0].owner",
        "ghost@example.com",
        "goals[0].owner: not listed in members: 'ghost@example.com'",
    ),
    ("kpis", {}, "kpis: must be a list, not an object"),
    ("kpis[1].key", "K1", "kpis[1].key: duplicate key 'K1'"),
    ("kpis[0].key", "k1", "kpis[0].key: 'k1' is not a key"),
    ("kpis[0].name", None, "kpis[0].name: must be text, not null"),
    ("kpis[0].goal", "Nope", "kpis[0].goal: no goal titled 'Nope'"),
    (
        "kpis[0].owner",
        "ghost@example.com",
        "kpis[0].owner: not listed in members: 'ghost@example.com'",
    ),
    (
        "kpis[0].unit",
        "furlongs",
        "kpis[0].unit: must be one of number, percent, currency, duration, not 'furlongs'",
    ),
    (
        "kpis[0].cadence",
        "daily",
        "kpis[0].cadence: must be one of weekly, monthly, quarterly, not 'daily'",
    ),
    (
        "kpis[0].direction",
        "sideways",
        "kpis[0].direction: must be one of up, down, range, not 'sideways'",
    ),
    ("kpis[0].decimals", 7, "kpis[0].decimals: must be a whole number from 0 to 6"),
    ("kpis[0].decimals", D("2.0"), "kpis[0].decimals: must be a whole number, not the number 2.0"),
    ("kpis[0].green_min", "100", "kpis[0].green_min: must be a number, not text '100'"),
    ("kpis[0].green_min", True, "kpis[0].green_min: must be a number, not true"),
    (
        "kpis[0].red_min",
        120,
        "kpis[0].red_min: the red line (120) must be at or below the target (100)",
    ),
    ("kpis[0].archived", "no", "kpis[0].archived: must be true or false, not text 'no'"),
    ("kpis[0].values[0]", 5, "kpis[0].values[0]: expected an object, not the number 5"),
    ("kpis[0].values[0].value", None, "kpis[0].values[0].value: must be a number, not null"),
    ("kpis[0].values[0].value", False, "kpis[0].values[0].value: must be a number, not false"),
    ("kpis[0].values[0].value", D("1e24"), "kpis[0].values[0].value: the number is too large"),
    (
        "kpis[0].values[0].value",
        D("0.00000000001"),
        "kpis[0].values[0].value: the number has more than 10 decimal places",
    ),
    ("kpis[0].values[0].note", HUGE, "kpis[0].values[0].note: at most 500 characters"),
    (
        "kpis[0].values[0].period",
        "2026-11",
        "kpis[0].values[0].period: '2026-11' is not a weekly period key",
    ),
    (
        "kpis[0].values[0].period",
        "2026-12-01",
        "kpis[0].values[0].period: 2026-12-01 is a Tuesday; weekly periods start on Monday",
    ),
    ("kpis[0].values[0].period", HUGE, "kpis[0].values[0].period: at most 16 characters"),
    ("kpis[1].values[0].period", "2026-13", "kpis[1].values[0].period: 2026-13 is not a month"),
    (
        "kpis[2].values[0].period",
        "FY2027-Q1",
        "kpis[2].values[0].period: FY2027-Q1 is a fiscal quarter",
    ),
    (
        "kpis[1].values[1]",
        {"period": "2026-11", "value": 2},
        "kpis[1].values[1].period: duplicate period 2026-11",
    ),
    ("cycles[0].end", "2026-09-30", "cycles[0].end: must be on or after the start"),
    (
        "cycles[0].start",
        "2026-02-30",
        "cycles[0].start: must be an ISO date like 2026-10-01, not text '2026-02-30'",
    ),
    (
        "cycles[0].state",
        "open",
        "cycles[0].state: must be one of draft, active, closed, not 'open'",
    ),
    (
        "cycles[1]",
        {"name": "Q1", "start": "2027-01-01", "end": "2027-03-31", "state": "active"},
        "cycles[1].state: only one cycle can be active ('Q4' is too)",
    ),
    (
        "cycles[1]",
        {"name": "q4", "start": "2027-01-01", "end": "2027-03-31"},
        "cycles[1].name: duplicate cycle name 'q4'",
    ),
    ("initiatives[0].cycle", "Nope", "initiatives[0].cycle: no cycle named 'Nope'"),
    ("initiatives[0].goal", "Nope", "initiatives[0].goal: no goal titled 'Nope'"),
    ("initiatives[0].gauges", ["K9"], "initiatives[0].gauges[0]: no KPI with key 'K9'"),
    ("initiatives[0].gauges", ["K1", "K1"], "initiatives[0].gauges[1]: K1 is listed twice"),
    ("initiatives[0].gauges", "K1", "initiatives[0].gauges: must be a list, not text 'K1'"),
    (
        "initiatives[0].percent_complete",
        101,
        "initiatives[0].percent_complete: must be from 0 to 100, not 101",
    ),
    ("initiatives[0].due", "2020-01-01", "initiatives[0].due: must be an ISO date"),
    ("initiatives[1]", {"key": "I1", "title": "Again"}, "initiatives[1].key: duplicate key 'I1'"),
    (
        "initiatives[0].key_results[0].kpi",
        "K9",
        "initiatives[0].key_results[0].kpi: no KPI with key 'K9'",
    ),
    (
        "initiatives[0].key_results[0].start",
        DELETE,
        "initiatives[0].key_results[0].start: required",
    ),
    (
        "initiatives[0].key_results[0].confidence",
        11,
        "initiatives[0].key_results[0].confidence: must be a whole number from 0 to 10",
    ),
    (
        "initiatives[0].key_results[0].weight",
        0,
        "initiatives[0].key_results[0].weight: must be above 0, not 0",
    ),
    (
        "initiatives[0].key_results[1]",
        {"key": "KR1", "title": "Again", "start": 0, "target": 1},
        "initiatives[0].key_results[1].key: duplicate key 'KR1'",
    ),
]


@pytest.mark.parametrize(("path", "value", "problem"), REFUSALS)
def test_refusals_name_the_path_and_the_reason(app, make, path, value, problem):
    doc = set_at(minimal_document(), path, value)
    if path == "initiatives[0].due":
        doc = set_at(doc, "initiatives[0].start", "2026-10-01")
        doc = set_at(doc, "initiatives[0].due", "2026-13-01")
    before = row_counts()
    with pytest.raises(Invalid) as refused:
        import_document(doc)
    problems = refused.value.problems
    assert any(p.startswith(problem) for p in problems), problems
    assert all(len(p) < 300 for p in problems), "a huge input is never echoed back"
    db.session.rollback()
    assert row_counts() == before


def test_an_existing_slug_is_refused(app, make):
    make.workspace(slug="base")
    assert validate_document(minimal_document()) == ["workspace.slug: 'base' is already taken"]
    assert validate_document(minimal_document(), slug="base-2") == []


def test_a_new_slug_is_checked_like_any_slug(app):
    assert validate_document(minimal_document(), slug="Not OK") == [
        "workspace.slug: use 1–64 lowercase letters, digits and dashes, not starting or "
        "ending with a dash"
    ]


def test_every_problem_is_listed_in_document_order(app):
    doc = minimal_document()
    doc["kpis"][2]["values"][0]["value"] = "1"
    doc["kpis"][0]["values"].append({"period": "2026-12-01", "value": True})
    doc["workspace"]["currency"] = "EURO"
    doc["initiatives"][0]["owner"] = "ghost@example.com"
    doc["kpis"][0]["green_max"] = 50
    doc["extra"] = 1
    assert validate_document(doc) == [
        "extra: unknown field",
        "workspace.currency: 'EURO' is not an ISO 4217 code like USD or EUR",
        "kpis[0].green_max: the target (100) must be at or below the top of the green zone (50)",
        "kpis[0].values[1].value: must be a number, not true",
        "kpis[0].values[1].period: 2026-12-01 is a Tuesday; weekly periods start on Monday",
        "kpis[2].values[0].value: must be a number, not text '1'",
        "initiatives[0].owner: not listed in members: 'ghost@example.com'",
    ]


def test_a_valid_document_has_no_problems(app):
    assert validate_document(minimal_document()) == []
    assert validate_document(rich_document()) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "Not valid JSON: Expecting property name enclosed in double quotes (line 1"),
        ("", "Not valid JSON: Expecting value (line 1, column 1)"),
        ('{"format": 1, "format": 2}', "Not valid JSON: the field 'format' appears twice"),
        ("[" * 100_000, "Not valid JSON: nested too deeply"),
        ("1" * 5000, "Not valid JSON: Exceeds the limit"),
    ],
)
def test_text_that_is_not_json_is_refused(text, problem):
    with pytest.raises(DomainError) as refused:
        parse_document_json(text)
    assert refused.value.message.startswith(problem)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[]", "document: expected an object, not a list"),
        ("null", "document: expected an object, not null"),
        ('"strategy-hub/v1"', "document: expected an object, not text 'strategy-hub/v1'"),
    ],
)
def test_json_that_is_not_an_object_is_refused(app, text, problem):
    assert validate_document(parse_document_json(text))[0] == problem


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("NaN", "must be a finite number, not nan"),
        ("Infinity", "must be a finite number, not inf"),
        ("-Infinity", "must be a finite number, not -inf"),
        ("1e400", "the number is too large"),
        ("true", "must be a number, not true"),
        ('"12"', "must be a number, not text '12'"),
    ],
)
def test_numbers_must_be_finite_json_numbers(app, number, problem):
    text = json.dumps(minimal_document()).replace('"value": 95', f'"value": {number}')
    [found] = validate_document(parse_document_json(text))
    assert found.startswith(f"kpis[0].values[0].value: {problem}")


def test_numbers_are_read_exactly(app):
    text = json.dumps(minimal_document()).replace('"value": 95', '"value": 0.1000000001')
    import_document(parse_document_json(text))
    assert db.session.scalar(select(KpiValue.value).where(KpiValue.period_key == "2026-11-30")) == (
        D("0.1000000001")
    )


# -------------------------------------------------------- nothing half-imported


def test_a_refused_import_changes_nothing(app, make):
    make.workspace(make.user("someone@example.com"), slug="other")
    before = row_counts()
    doc = minimal_document()
    doc["members"].append({"email": "new@example.com", "role": "viewer"})
    doc["kpis"][2]["values"][0]["period"] = "2026-Q5"
    with pytest.raises(Invalid):
        import_document(doc)
    db.session.rollback()
    assert row_counts() == before


def test_a_problem_found_only_while_building_changes_nothing(app, make, monkeypatch):
    """Say the database refuses the very last key result: everything before it goes too."""
    make.workspace(make.user("someone@example.com"), slug="other")
    before = row_counts()
    real = documents.create_key_result

    def refuse_kr2(initiative, fields):  # noqa: ANN001, ANN202
        if fields.key == "KR2":
            raise Invalid(["title: refused by a late check"])
        return real(initiative, fields)

    monkeypatch.setattr(documents, "create_key_result", refuse_kr2)
    doc = minimal_document()
    doc["members"].append({"email": "new@example.com", "role": "viewer"})
    doc["initiatives"][0]["key_results"].append(
        {"key": "KR2", "title": "X", "start": 0, "target": 1}
    )
    with pytest.raises(Invalid) as refused:
        import_document(doc)
    assert refused.value.problems == [
        "initiatives[0].key_results[1].title: refused by a late check"
    ]
    db.session.rollback()
    assert row_counts() == before
    assert workspace("base") is None


def test_a_late_value_problem_is_reported_at_its_path(app, monkeypatch):
    real = documents.set_value

    def refuse(kpi, period, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if kpi.key == "K2":
            raise DomainError("the sheet holds this period", field="period")
        return real(kpi, period, *args, **kwargs)

    monkeypatch.setattr(documents, "set_value", refuse)
    with pytest.raises(Invalid) as refused:
        import_document(minimal_document())
    assert refused.value.problems == ["kpis[1].values[0].period: the sheet holds this period"]
    db.session.rollback()
