"""One test per rule of SHEETS.md, driven through the real gspread client and the fake Google."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from hub.domain.values import current_value, set_value, value_history
from hub.extensions import db
from hub.models import ImportProblem, Kpi, SheetConnection, SyncConflict, SyncRun
from hub.sync import cycle, service
from hub.sync.cells import column_letters

WEEKLY = "Weekly KPIs"


@pytest.fixture
def sheet(app, make, fake_google):
    """A kpi-mode workspace with two weekly KPIs, connected to a fresh sheet."""

    class Sheet:
        fake = fake_google
        owner = make.user()
        ws = make.workspace(owner, mode="kpi")
        revenue = make.kpi(ws, name="Revenue", cadence="weekly", green_min=100, red_min=80)
        churn = make.kpi(ws, name="Churn", cadence="weekly", unit="percent")
        sid = fake_google.create_spreadsheet("Client", {"Sheet1": [[]]})

        def connect(self):
            return service.connect(self.ws, self.sid, user=self.owner)

        def sync(self):
            return service.run_sync(self.ws.id)

        def grid(self, tab=WEEKLY):
            return self.fake.values(self.sid, self.gid(tab))

        def gid(self, tab=WEEKLY):
            kinds = {WEEKLY: "weekly", "OKRs": "okrs", "Initiatives": "initiatives"}
            connection = service.connection_of(self.ws)
            return connection.tab(kinds.get(tab, tab)).gid

        def a1(self, key, header, tab=WEEKLY):
            grid = self.grid(tab)
            ids = grid[0].index("ID")
            row = next(i for i, r in enumerate(grid) if len(r) > ids and r[ids] == key)
            return f"{column_letters(grid[0].index(header))}{row + 1}"

        def type(self, key, header, text, tab=WEEKLY):
            self.fake.type(self.sid, self.gid(tab), self.a1(key, header, tab), text)

        def cell(self, key, header, tab=WEEKLY):
            return self.fake.value(self.sid, self.gid(tab), self.a1(key, header, tab))

        @property
        def periods(self):
            return [h for h in self.grid()[0] if h[:2] == "20"]

    return Sheet()


def app_value(kpi, period):
    db.session.expire_all()
    row = current_value(kpi, period)
    return None if row is None else row.value


def test_connect_makes_only_the_tabs_the_mode_needs_and_fills_them(sheet):
    sheet.fake.log.clear()
    run = sheet.connect()
    assert run.state == "done"
    titles = [
        s["properties"]["title"]
        for s in sheet.fake.client().http_client.fetch_sheet_metadata(sheet.sid)["sheets"]
    ]
    assert titles == ["Sheet1", WEEKLY]
    grid = sheet.grid()
    assert grid[0][:8] == ["ID", "KPI", "Goal", "Unit", "Owner", "Target", "Red at", "Status"]
    assert len(sheet.periods) == 13  # 12 periods before the connection, and the current one
    assert sheet.periods == sorted(sheet.periods)
    assert [r[:2] for r in grid[1:]] == [["K1", "Revenue"], ["K2", "Churn"]]
    props = sheet.fake.tab(sheet.sid, sheet.gid())
    assert (props.frozen_rows, props.frozen_cols) == (1, 2)


def test_a_kpi_named_like_a_formula_stays_text(sheet, make):
    make.kpi(sheet.ws, name='=IMPORTXML("http://x", "//a")', cadence="weekly")
    sheet.connect()
    data = sheet.fake.cell(sheet.sid, sheet.gid(), sheet.a1("K3", "KPI"))
    assert data["userEnteredValue"] == {"stringValue": '=IMPORTXML("http://x", "//a")'}


def test_a_number_typed_in_the_sheet_reaches_the_app_with_its_cell(sheet):
    sheet.connect()
    period = sheet.periods[-2]
    sheet.type("K1", period, "1,234.5")
    run = sheet.sync()
    assert (run.state, run.pulled) == ("done", 1)
    assert app_value(sheet.revenue, period) == Decimal("1234.5")
    change = value_history(sheet.revenue, period)[0]
    assert change.source == "sheet"
    assert change.source_ref == f"'{WEEKLY}'!{sheet.a1('K1', period)}"


def test_an_app_edit_is_written_to_the_sheet_as_a_number(sheet):
    sheet.connect()
    period = sheet.periods[-1]
    set_value(sheet.revenue, period, Decimal("42.5"), source="web")
    db.session.commit()
    run = sheet.sync()
    assert run.pushed >= 1
    assert sheet.cell("K1", period) == 42.5


def test_unchanged_on_both_sides_costs_one_drive_call_and_no_sheets_call(sheet):
    sheet.connect()
    sheet.fake.log.clear()
    run = sheet.sync()
    assert sheet.fake.log.ops() == ["files.get"]
    assert run.message == "Nothing changed on either side."


def test_a_changed_cycle_stays_within_the_budget(sheet):
    sheet.connect()
    set_value(sheet.revenue, sheet.periods[-1], Decimal(5), source="web")
    db.session.commit()
    sheet.type("K2", sheet.periods[-3], "7")
    sheet.fake.log.clear()
    sheet.sync()
    assert sheet.fake.log.reads <= 2
    assert sheet.fake.log.writes <= 2


def test_the_same_change_on_both_sides_is_no_conflict(sheet):
    sheet.connect()
    period = sheet.periods[-1]
    set_value(sheet.revenue, period, Decimal(9), source="web")
    db.session.commit()
    sheet.type("K1", period, "9")
    run = sheet.sync()
    assert run.conflicts == 0
    assert sheet.fake.log.writes >= 0
    sheet.fake.log.clear()
    assert sheet.sync().message == "Nothing changed on either side."


def test_a_value_changed_on_both_sides_goes_to_the_sheet_and_the_app_value_is_kept(sheet):
    sheet.connect()
    period = sheet.periods[-1]
    set_value(sheet.revenue, period, Decimal(10), source="web")
    db.session.commit()
    sheet.type("K1", period, "20")
    run = sheet.sync()
    assert run.conflicts == 1
    assert app_value(sheet.revenue, period) == 20
    conflict = db.session.scalar(select(SyncConflict))
    assert (conflict.winner, conflict.sheet_value, conflict.app_value) == ("sheet", "20", "10")
    service.use_instead(conflict, user=sheet.owner)
    db.session.commit()
    assert app_value(sheet.revenue, period) == 10
    sheet.sync()
    assert sheet.cell("K1", period) == 10


def test_a_definition_changed_on_both_sides_keeps_the_app_and_logs_the_sheet(sheet):
    sheet.connect()
    kpi = db.session.get(Kpi, sheet.revenue.id)
    kpi.name = "Revenue (app)"
    db.session.commit()
    sheet.type("K1", "KPI", "Revenue (sheet)")
    run = sheet.sync()
    assert run.conflicts == 1
    assert sheet.cell("K1", "KPI") == "Revenue (app)"
    conflict = db.session.scalar(select(SyncConflict))
    assert (conflict.winner, conflict.loser_value) == ("app", "Revenue (sheet)")


def test_a_name_changed_in_the_sheet_renames_the_kpi(sheet):
    sheet.connect()
    sheet.type("K1", "KPI", "Net revenue")
    sheet.sync()
    db.session.expire_all()
    assert db.session.get(Kpi, sheet.revenue.id).name == "Net revenue"


def test_an_emptied_cell_clears_the_value_and_keeps_it_in_history(sheet, make):
    period = "2026-11-23"
    make.value(sheet.revenue, period, 50)
    sheet.connect()
    if period not in sheet.periods:
        pytest.skip("period outside the tracked window")
    sheet.type("K1", period, "")
    sheet.sync()
    assert app_value(sheet.revenue, period) is None
    assert value_history(sheet.revenue, period)[0].old_value == 50


def test_text_that_is_not_a_number_is_an_import_problem_and_changes_nothing(sheet, make):
    period = None
    sheet.connect()
    period = sheet.periods[-1]
    make.value(sheet.revenue, period, 5)
    sheet.sync()
    sheet.type("K1", period, "n/a")
    run = sheet.sync()
    assert run.problems == 1
    problem = db.session.scalar(select(ImportProblem).where(ImportProblem.closed_at.is_(None)))
    assert (problem.tab_title, problem.cell, problem.text) == (
        WEEKLY,
        sheet.a1("K1", period),
        "n/a",
    )
    assert problem.reason
    assert app_value(sheet.revenue, period) == 5
    assert sheet.cell("K1", period) == "n/a"
    assert (
        "could not read" in sheet.fake.cell(sheet.sid, sheet.gid(), sheet.a1("K1", period))["note"]
    )
    sheet.type("K1", period, "6")
    sheet.sync()
    db.session.expire_all()
    assert db.session.get(ImportProblem, problem.id).closed_at is not None
    assert app_value(sheet.revenue, period) == 6
    assert "note" not in sheet.fake.cell(sheet.sid, sheet.gid(), sheet.a1("K1", period))


@pytest.mark.parametrize("typed", ["12", "12%", "12 %"])
def test_percent_kpis_read_12_percent_as_12(sheet, typed):
    sheet.connect()
    period = sheet.periods[-1]
    sheet.type("K2", period, typed)
    sheet.sync()
    assert app_value(sheet.churn, period) == 12


def test_a_deleted_row_is_restored_and_logged(sheet, make):
    sheet.connect()
    period = sheet.periods[-1]
    make.value(sheet.revenue, period, 3)
    sheet.sync()
    sheet.fake.delete_rows(sheet.sid, sheet.gid(), 2)
    run = sheet.sync()
    assert any("Restored the row K1" in e for e in run.events)
    assert sheet.cell("K1", period) == 3
    assert app_value(sheet.revenue, period) == 3


def test_a_deleted_column_is_restored(sheet, make):
    sheet.connect()
    period = sheet.periods[-2]
    make.value(sheet.revenue, period, 4)
    sheet.sync()
    letter = column_letters(sheet.grid()[0].index(period))
    sheet.fake.delete_columns(sheet.sid, sheet.gid(), letter)
    run = sheet.sync()
    assert any(f"Restored the column {period}" in e for e in run.events)
    assert sheet.cell("K1", period) == 4
    assert app_value(sheet.revenue, period) == 4


def test_a_deleted_tab_is_restored(sheet, make):
    sheet.connect()
    make.value(sheet.revenue, sheet.periods[-1], 8)
    sheet.sync()
    sheet.fake.delete_tab(sheet.sid, sheet.gid())
    run = sheet.sync()
    assert any("Restored the tab" in e for e in run.events)
    assert sheet.cell("K1", sheet.periods[-1]) == 8


def test_renaming_the_tab_and_moving_rows_are_harmless(sheet):
    sheet.connect()
    sheet.fake.rename_tab(sheet.sid, sheet.gid(), "Numbers")
    sheet.fake.move_rows(sheet.sid, sheet.gid(), 3, 1, 2)  # Churn above Revenue
    sheet.fake.insert_rows(sheet.sid, sheet.gid(), 2, 2)
    sheet.type("K2", sheet.periods[-1], "3")
    run = sheet.sync()
    assert run.state == "done"
    assert app_value(sheet.churn, sheet.periods[-1]) == 3
    assert [r[0] for r in sheet.grid() if r and r[0].startswith("K")] == ["K2", "K1"]


def test_columns_people_add_are_never_overwritten(sheet, make):
    sheet.connect()
    sheet.fake.insert_columns(sheet.sid, sheet.gid(), "C")
    sheet.fake.type(sheet.sid, sheet.gid(), "C1", "My notes")
    sheet.fake.type(sheet.sid, sheet.gid(), "C2", "call Bob")
    make.value(sheet.revenue, sheet.periods[-1], 11)
    sheet.sync()
    assert sheet.fake.value(sheet.sid, sheet.gid(), "C2") == "call Bob"
    assert sheet.cell("K1", sheet.periods[-1]) == 11


def test_a_new_row_with_a_name_creates_a_kpi_and_gets_its_id(sheet):
    sheet.connect()
    period = sheet.periods[-1]
    column = column_letters(sheet.grid()[0].index(period))
    sheet.fake.type(sheet.sid, sheet.gid(), "B4", "Signups")
    sheet.fake.type(sheet.sid, sheet.gid(), f"{column}4", "17")
    run = sheet.sync()
    kpi = db.session.scalar(select(Kpi).where(Kpi.name == "Signups"))
    assert kpi is not None
    assert (kpi.cadence, kpi.direction, kpi.green_min) == ("weekly", "up", None)
    assert sheet.fake.value(sheet.sid, sheet.gid(), "A4") == kpi.key
    assert app_value(kpi, period) == 17
    assert any("Created the KPI" in e for e in run.events)
    sheet.sync()
    assert (
        db.session.scalar(
            select(Kpi).where(Kpi.name == "Signups").with_only_columns(Kpi.id).limit(2)
        )
        == kpi.id
    )
    assert len(db.session.scalars(select(Kpi).where(Kpi.name == "Signups")).all()) == 1


def test_a_cleared_id_is_put_back_not_duplicated(sheet):
    sheet.connect()
    sheet.fake.type(sheet.sid, sheet.gid(), "A2", "")
    sheet.sync()
    assert sheet.fake.value(sheet.sid, sheet.gid(), "A2") == "K1"
    assert len(db.session.scalars(select(Kpi)).all()) == 2


def test_clearing_many_values_at_once_pauses_until_someone_chooses(sheet, make):
    sheet.connect()
    for period in sheet.periods[-6:]:
        make.value(sheet.revenue, period, 1)
        make.value(sheet.churn, period, 2)
    sheet.sync()
    for period in sheet.periods[-6:]:
        sheet.type("K1", period, "")
        sheet.type("K2", period, "")
    run = sheet.sync()
    assert run.state == "paused"
    connection = service.connection_of(sheet.ws)
    assert connection.state == "paused"
    assert len(connection.pause_details["cleared"]) == 12
    assert app_value(sheet.revenue, sheet.periods[-1]) == 1
    assert sheet.sync().state == "paused"
    service.resume(sheet.ws, "restore", user=sheet.owner)
    assert sheet.cell("K1", sheet.periods[-1]) == 1
    assert service.connection_of(sheet.ws).state == "ok"


def test_apply_the_sheet_anyway_takes_the_clears(sheet, make):
    sheet.connect()
    for period in sheet.periods[-6:]:
        make.value(sheet.revenue, period, 1)
        make.value(sheet.churn, period, 2)
    sheet.sync()
    for period in sheet.periods[-6:]:
        sheet.type("K1", period, "")
        sheet.type("K2", period, "")
    assert sheet.sync().state == "paused"
    service.resume(sheet.ws, "apply", user=sheet.owner)
    assert app_value(sheet.revenue, sheet.periods[-1]) is None
    assert value_history(sheet.revenue, sheet.periods[-1])[0].old_value == 1


def test_a_range_sorted_without_its_id_column_pauses(sheet, make):
    make.kpi(sheet.ws, name="Active users", cadence="weekly")
    make.kpi(sheet.ws, name="Bookings", cadence="weekly")
    sheet.connect()
    grid = sheet.grid()
    names = [r[1] for r in grid[1:]]
    for index, name in enumerate(reversed(names)):
        sheet.fake.type(sheet.sid, sheet.gid(), f"B{index + 2}", name)
    run = sheet.sync()
    assert run.state == "paused"
    assert service.connection_of(sheet.ws).pause_details["mismatched"]
    db.session.expire_all()
    assert db.session.get(Kpi, sheet.revenue.id).name == "Revenue"


def test_a_new_period_gets_its_column_when_it_begins(sheet, monkeypatch):
    sheet.connect()
    last = sheet.periods[-1]
    later = cycle.local_today(sheet.ws.time_zone) + timedelta(days=7)
    monkeypatch.setattr(cycle, "local_today", lambda tz: later)
    run = sheet.sync()
    assert sheet.periods[-2] == last
    assert len(sheet.periods) == 14
    assert any("Added the column" in e for e in run.events)


def test_google_refusing_access_needs_attention_and_the_app_keeps_working(sheet, make):
    sheet.connect()
    sheet.fake.set_shared(sheet.sid, False)
    run = sheet.sync()
    assert run.state == "failed"
    connection = service.connection_of(sheet.ws)
    assert connection.state == "attention"
    assert "Editor" in connection.state_message
    make.value(sheet.revenue, sheet.periods[-1], 5)
    sheet.fake.set_shared(sheet.sid, True)
    assert sheet.sync().state == "done"
    assert service.connection_of(sheet.ws).state == "ok"
    assert sheet.cell("K1", sheet.periods[-1]) == 5


def test_long_exact_numbers_do_not_flip_flop(sheet, make):
    sheet.connect()
    period = sheet.periods[-1]
    exact = Decimal("123456789012345678901234.0123456789")
    make.value(sheet.revenue, period, exact)
    sheet.sync()
    sheet.type("K2", period, "1")
    sheet.sync()
    assert app_value(sheet.revenue, period) == exact
    sheet.fake.log.clear()
    sheet.sync()
    assert sheet.fake.log.ops() == ["files.get"]


def test_okr_tabs_take_current_confidence_and_percent_complete(app, make, fake_google):
    owner = make.user()
    ws = make.workspace(owner, mode="okr")
    cycle = make.cycle(ws)
    objective = make.initiative(ws, "Launch", cycle=cycle)
    kr = make.key_result(objective, "Reach 100 signups", start=0, target=100)
    hand = make.initiative(ws, "Hire", cycle=cycle)
    sid = fake_google.create_spreadsheet("OKR sheet", {"Sheet1": [[]]})
    service.connect(ws, sid, user=owner)
    connection = service.connection_of(ws)
    okr_gid, init_gid = connection.tab("okrs").gid, connection.tab("initiatives").gid
    okr_grid = fake_google.values(sid, okr_gid)
    assert okr_grid[0] == [
        "ID",
        "Objective",
        "Key result",
        "Owner",
        "Start",
        "Target",
        "Current",
        "Confidence",
        "Score",
        "Status",
    ]
    fake_google.type(sid, okr_gid, "G2", "40")
    fake_google.type(sid, okr_gid, "H2", "8")
    init_grid = fake_google.values(sid, init_gid)
    row = next(i for i, r in enumerate(init_grid) if r and r[0] == hand.key) + 1
    fake_google.type(sid, init_gid, f"F{row}", "30%")
    run = service.run_sync(ws.id)
    assert run.state == "done"
    db.session.expire_all()
    kr = db.session.get(type(kr), kr.id)
    assert (kr.current_value, kr.confidence) == (40, 8)
    assert kr.check_ins[-1].source == "sheet"
    assert db.session.get(type(hand), hand.id).percent_complete == 30
    assert fake_google.value(sid, okr_gid, "I2") == 0.4  # score rewritten by the app


def test_an_owner_who_is_not_a_member_is_an_import_problem(sheet):
    sheet.connect()
    sheet.type("K1", "Owner", "stranger@example.com")
    run = sheet.sync()
    assert run.problems == 1
    problem = db.session.scalar(select(ImportProblem))
    assert "not a member" in problem.reason
    db.session.expire_all()
    assert db.session.get(Kpi, sheet.revenue.id).owner_id is None


def test_disconnect_keeps_everything_in_the_app(sheet, make):
    sheet.connect()
    period = sheet.periods[-1]
    make.value(sheet.revenue, period, 5)
    assert service.disconnect(sheet.ws)
    db.session.commit()
    assert db.session.scalar(select(SheetConnection)) is None
    assert app_value(sheet.revenue, period) == 5


def test_numbers_are_read_in_the_sheets_locale(sheet):
    sheet.fake.set_locale(sheet.sid, "de_DE")
    sheet.connect()
    period = sheet.periods[-1]
    sheet.type("K1", period, "'1.234,5")  # typed as text in a German sheet
    sheet.type("K2", sheet.periods[-2], "'1,234")  # ambiguous: refused, not guessed
    run = sheet.sync()
    assert app_value(sheet.revenue, period) == Decimal("1234.5")
    assert run.problems == 1
    assert app_value(sheet.churn, sheet.periods[-2]) is None


def test_a_formula_typed_in_a_value_cell_counts_with_its_result(sheet):
    sheet.connect()
    sheet.type("K1", sheet.periods[-1], "=2*3")
    sheet.sync()
    assert app_value(sheet.revenue, sheet.periods[-1]) == 6


def test_the_app_writes_a_percent_value_over_a_percent_formatted_cell_without_scaling(sheet):
    sheet.connect()
    period = sheet.periods[-1]
    sheet.type("K2", period, "12%")
    sheet.sync()
    set_value(sheet.churn, period, Decimal(15), source="web")
    db.session.commit()
    sheet.sync()
    assert sheet.cell("K2", period) == 15
    sheet.fake.log.clear()
    assert sheet.sync().message == "Nothing changed on either side."
    assert app_value(sheet.churn, period) == 15


def test_a_large_sheet_keeps_the_same_budget(app, make, fake_google):
    owner = make.user()
    ws = make.workspace(owner, mode="kpi")
    kpis = [make.kpi(ws, name=f"Metric {n}", cadence="weekly") for n in range(150)]
    sid = fake_google.create_spreadsheet("Big", {"Sheet1": [[]]})
    service.connect(ws, sid, user=owner)
    gid = service.connection_of(ws).tab("weekly").gid
    header = fake_google.values(sid, gid)[0]
    column = column_letters(len(header) - 1)
    fake_google.type_rows(sid, gid, f"{column}2", [[str(n)] for n in range(150)])
    for kpi in kpis[:40]:
        set_value(kpi, header[-2], Decimal(1), source="web")
    db.session.commit()
    fake_google.log.clear()
    run = service.run_sync(ws.id)
    assert (run.state, run.pulled) == ("done", 150)
    assert fake_google.log.reads == 2
    assert fake_google.log.writes == 1
    assert fake_google.log.drive == 2  # the change check, and the version after our write
    fake_google.log.clear()
    service.run_sync(ws.id)
    assert fake_google.log.ops() == ["files.get"]


def test_a_quiet_scheduled_check_reads_nothing_and_leaves_one_line_in_the_log(sheet, fake_google):
    sheet.connect()
    for _ in range(3):
        sheet.fake.log.clear()
        run = service.run_sync(sheet.ws.id, trigger="interval")
        assert run.message == "Nothing changed on either side."
        assert sheet.fake.log.ops() == ["files.get"]
    runs = db.session.scalars(select(SyncRun).where(SyncRun.trigger == "interval")).all()
    assert len(runs) == 1
    set_value(sheet.revenue, sheet.periods[-1], Decimal(3), source="web")
    db.session.commit()
    run = service.run_sync(sheet.ws.id, trigger="interval")  # the edit hook marked it
    assert run.pushed == 2  # the value, and the KPI's status
    assert sheet.cell("K1", sheet.periods[-1]) == 3


def test_a_deleted_header_row_is_put_back_as_it_was(sheet, make):
    sheet.connect()
    period = sheet.periods[-1]
    make.value(sheet.revenue, period, 5)
    sheet.fake.insert_columns(sheet.sid, sheet.gid(), "C")
    sheet.fake.type(sheet.sid, sheet.gid(), "C1", "Notes")
    sheet.sync()
    before = sheet.grid()
    sheet.fake.delete_rows(sheet.sid, sheet.gid(), 1)
    run = sheet.sync()
    assert any("Restored the header row" in e for e in run.events)
    assert sheet.grid() == before
    assert app_value(sheet.revenue, period) == 5


def test_the_id_column_may_be_moved_anywhere(sheet, make):
    sheet.connect()
    sheet.fake.insert_columns(sheet.sid, sheet.gid(), "A")  # a column of one's own first
    sheet.fake.type(sheet.sid, sheet.gid(), "A1", "Mine")
    period = sheet.periods[-1]
    sheet.type("K2", period, "4")
    sheet.fake.delete_columns(sheet.sid, sheet.gid(), "C")  # the KPI names: restored
    run = sheet.sync()
    assert run.state == "done"
    assert app_value(sheet.churn, period) == 4
    grid = sheet.grid()
    assert grid[0][0] == "Mine"
    assert [row[grid[0].index("KPI")] for row in grid[1:3]] == ["Revenue", "Churn"]
    assert len(db.session.scalars(select(Kpi)).all()) == 2
