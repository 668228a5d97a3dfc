"""The three-way merge of one cell, as SHEETS.md §2 tabulates it."""

import pytest

from hub.sync.merge import APP, SHEET, Decision, decide, restore

NOTHING = Decision()
TAKE = Decision(take_sheet=True)
PUSH = Decision(push_app=True)
AGREE = Decision(agree=True)


@pytest.mark.parametrize(
    ("sheet", "ours", "base", "owner", "expected"),
    [
        # S = B, A = B: nothing
        ("5", "5", "5", SHEET, NOTHING),
        ("", "", "", APP, NOTHING),
        # S ≠ B, A = B: apply S (a cleared cell clears the app)
        ("6", "5", "5", SHEET, TAKE),
        ("", "5", "5", SHEET, TAKE),
        ("Net revenue", "Revenue", "Revenue", APP, TAKE),
        # S = B, A ≠ B: write A
        ("5", "7", "5", SHEET, PUSH),
        ("5", "", "5", SHEET, PUSH),
        # S ≠ B, A ≠ B, S = A: advance B
        ("9", "9", "5", SHEET, AGREE),
        # conflicts: values go to the sheet, definitions to the app
        ("20", "10", "5", SHEET, Decision(take_sheet=True, conflict=SHEET)),
        ("", "10", "5", SHEET, Decision(take_sheet=True, conflict=SHEET)),
        ("Sheet name", "App name", "Old", APP, Decision(push_app=True, conflict=APP)),
        # no base yet (a row or column written afresh, a tab adopted)
        ("", "5", None, SHEET, PUSH),
        ("5", "5", None, SHEET, AGREE),
        ("7", "", None, SHEET, TAKE),
        ("7", "5", None, SHEET, Decision(take_sheet=True, conflict=SHEET)),
        ("Typed", "Revenue", None, APP, Decision(push_app=True, conflict=APP)),
        ("Typed", "", None, APP, Decision(push_app=True, conflict=APP)),
    ],
)
def test_decide(sheet, ours, base, owner, expected):
    assert decide(sheet, ours, base, owner=owner) == expected


@pytest.mark.parametrize(
    ("sheet", "ours", "base", "expected"),
    [
        ("5", "5", "5", NOTHING),
        ("5", "5", "4", AGREE),
        ("", "5", "5", PUSH),  # cleared in the sheet: the app's value goes back
        ("4", "5", "4", PUSH),  # the app changed: nothing typed is lost
        ("9", "5", "4", Decision(push_app=True, conflict=APP)),  # typed: kept as a conflict
    ],
)
def test_restore_the_sheet_from_the_app(sheet, ours, base, expected):
    assert restore(sheet, ours, base) == expected
