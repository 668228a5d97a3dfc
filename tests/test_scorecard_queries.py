"""The scorecard's queries do not grow with the number of KPIs, values or initiatives."""

from datetime import date

from hub.domain.scorecard import build_scorecard
from tests.querycount import count_queries
from tests.workload import generate_workspace

TODAY = date(2026, 11, 25)


def test_the_scorecard_needs_as_many_queries_for_ten_times_the_data(make, db):
    owner = make.user()
    small = generate_workspace(
        owner, slug="small", kpis=6, weeks=16, initiatives=1, key_results=4, today=TODAY
    )
    large = generate_workspace(
        owner, slug="large", kpis=60, weeks=156, initiatives=10, key_results=4, today=TODAY
    )
    counts = []
    for workspace in (small, large):
        db.session.expire_all()
        with count_queries() as queries:
            card = build_scorecard(workspace, TODAY)
        counts.append(queries.count)
        assert len(card.kpis) in (6, 60)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12
