"""Reports that make a recurring spot in village A's first grid (grid_manager's)."""

import pytest

from wangge.cases import actions
from wangge.cases.models import Case
from wangge.cases.tests.conftest import VILLAGE_A_GRID, point_in

STEP = 0.0002  # about 22 m north per report: all within the 100 m radius


@pytest.fixture
def spot(db, user):
    """spot(n) → (lat, lng, category key, case ids): n fire-exit reports a few metres apart."""

    def make(n=3, grid=VILLAGE_A_GRID, offset=0.0):
        lat, lng = point_in(grid)
        lat += offset
        ids = []
        for i in range(n):
            report = actions.Report(
                description=f"消防通道堵塞 {i}",
                channel="grid_manager",
                lat=lat + (i % 3) * STEP,
                lng=lng,
                matter_item="fire_exit",
            )
            ids.append(actions.report_case(report, user("grid_manager"))[0].pk)
        category = Case.objects.select_related("category").get(pk=ids[0]).category
        return lat + STEP, lng, f"{category.kind}:{category.code}", ids

    return make
