import pytest

from wangge.cases import actions
from wangge.cases.tests.conftest import VILLAGE_A_GRID, act, new_case, photo_of, point_in  # noqa: F401 (fixtures)
from wangge.evaluation.tests.conftest import today  # noqa: F401 (fixture)

PHONE = "13800138000"


def citizen_case(description="路灯不亮", channel="citizen_web", phone=PHONE, grid=VILLAGE_A_GRID):
    """A citizen's report (no account) in village A."""
    lat, lng = point_in(grid)
    report = actions.Report(description=description, channel=channel, lat=lat, lng=lng, reporter_phone=phone)
    return actions.report_case(report, None)[0]


def fixed(case, fire_handler="fire_handler"):
    """Through the whole workflow: dispatched to the fire department, done, verified fixed (closed)."""
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    act(case, fire_handler, "accept")
    act(case, fire_handler, "feedback", note="已修复")
    act(case, "grid_manager", "verify_pass", note="核查通过")
    case.refresh_from_db()
    return case


def closed(case):
    act(case, "village_dispatcher", "close", outcome="cannot_fix", note="无法处理")
    case.refresh_from_db()
    return case


@pytest.fixture
def closed_citizen_case(db):
    return lambda **kw: closed(citizen_case(**kw))
