"""The three-way merge of one managed cell (SHEETS.md §2), as a pure function.

`sheet`, `app` and `base` are the compared strings of the cell (see hub.sync.cells):
what the sheet holds, what the app holds, and the last value both agreed on (None when
they never agreed: a row or column written afresh, or a tab adopted at connection).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Decision", "decide", "restore"]

SHEET = "sheet"  # the cell's owner on conflict: people type values…
APP = "app"  # …and the app keeps definitions


@dataclass(frozen=True, slots=True)
class Decision:
    take_sheet: bool = False  # apply the sheet's value to the app (its base follows)
    push_app: bool = False  # write the app's value to the sheet (its base follows after)
    agree: bool = False  # both sides hold the same new value: only the base moves
    conflict: str | None = None  # both changed differently: who won, the loser is kept

    @property
    def nothing(self) -> bool:
        return not (self.take_sheet or self.push_app or self.agree)


NOTHING = Decision()
TAKE = Decision(take_sheet=True)
PUSH = Decision(push_app=True)
AGREE = Decision(agree=True)


def decide(sheet: str, app: str, base: str | None, *, owner: str) -> Decision:
    """What to do with one cell.

    | case                          | action                                   |
    |-------------------------------|------------------------------------------|
    | S = B, A = B                  | nothing                                  |
    | S ≠ B, A = B                  | apply S to the app                       |
    | S = B, A ≠ B                  | write A to the sheet                     |
    | S ≠ B, A ≠ B, S = A           | advance B                                |
    | S ≠ B, A ≠ B, S ≠ A           | conflict: the owner wins, the loser kept |

    Without a base, an empty sheet cell is filled from the app, and a cell holding
    something else is treated as changed on both sides (the app's empty value is no loss).
    """
    if base is None:
        if sheet == app:
            return AGREE
        if sheet == "":
            return PUSH
        if app == "" and owner == SHEET:
            return TAKE
        return _conflict(owner)
    sheet_changed, app_changed = sheet != base, app != base
    if not sheet_changed:
        return PUSH if app_changed else NOTHING
    if not app_changed:
        return TAKE
    if sheet == app:
        return AGREE
    return _conflict(owner)


def restore(sheet: str, app: str, base: str | None) -> Decision:
    """ "Restore the sheet from the app": the app wins every cell; what the sheet held
    (typed since the last agreement) is kept as a conflict the app won."""
    if sheet == app:
        return NOTHING if base == app else AGREE
    if sheet and sheet != base:
        return Decision(push_app=True, conflict=APP)
    return PUSH


def _conflict(owner: str) -> Decision:
    if owner == SHEET:
        return Decision(take_sheet=True, conflict=SHEET)
    return Decision(push_app=True, conflict=APP)
