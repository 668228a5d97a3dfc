"""What goals, KPIs, initiatives and key results share: archiving and their order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.extensions import db
from hub.models.base import utcnow


def set_archived(item: Any, archived: bool) -> bool:
    """Archive (hide, keeping everything) or restore a row with `archived_at`.

    Returns whether anything changed, so doing it twice is harmless.
    """
    if (item.archived_at is not None) == archived:
        return False
    item.archived_at = utcnow() if archived else None
    db.session.flush()
    return True


def move_among(
    everything: list[Any],
    item: Any,
    offset: int,
    movable: Callable[[Any], bool] = lambda _: True,
) -> bool:
    """Swap `item` with its `offset`-th neighbour among the `movable` ones of `everything`
    (all rows, in order), then number every row 0, 1, 2… so ties cannot hide a move.

    Returns False when it cannot move (not movable, or already first/last).
    """
    if item not in everything or not movable(item):
        return False
    peers = [other for other in everything if movable(other)]
    index = peers.index(item) + offset
    if offset == 0 or not 0 <= index < len(peers):
        return False
    neighbour = peers[index]
    a, b = everything.index(item), everything.index(neighbour)
    everything[a], everything[b] = everything[b], everything[a]
    for position, row in enumerate(everything):
        row.position = position
    db.session.flush()
    return True
