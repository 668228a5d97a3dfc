"""Bets vs gauges: are the active cycle's initiatives moving the KPIs they target?"""

from __future__ import annotations

from flask import Blueprint

from hub.auth import Access, workspace_route
from hub.domain.bets import Flag, Movement, flag_message
from hub.domain.bets_matrix import bets_for
from hub.models import Role
from hub.rendering import render

bp = Blueprint("bets", __name__)

MOVEMENT_WORDS = {
    Movement.IMPROVING: ("↗", "Improving", "green"),
    Movement.FLAT: ("→", "Flat", "amber"),
    Movement.WORSENING: ("↘", "Worsening", "red"),
    Movement.NO_DATA: ("–", "No data", "none"),
}

FLAG_TITLES = {
    Flag.BET_NOT_MOVING_GAUGE: "Bet on track but gauge not moving",
    Flag.GAUGE_WITHOUT_BET: "Red or amber gauge with no bet on it",
    Flag.BET_WITHOUT_GAUGE: "Bet with no gauge",
}


@bp.get("/w/<slug>/bets")
@workspace_route(Role.VIEWER, uses="both")
def index(access: Access):
    """The matrix of initiatives × the KPIs they target, with its three flags."""
    return render(
        "bets/index.html",
        workspace=access.workspace,
        access=access,
        matrix=bets_for(access.workspace),
        MOVEMENT_WORDS=MOVEMENT_WORDS,
        FLAG_TITLES=FLAG_TITLES,
        flag_message=flag_message,
    )
