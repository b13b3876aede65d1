"""Field work figures per worker and per area, and who sees them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wangge.cases.actions import Report, report_case
from wangge.patrol import actions, kpi
from wangge.registry.models import RentalHouse

from .test_inspections import answers, payload


@pytest.fixture
def inspected_rental(make_building, api_as, user):
    """Two rental-use buildings in grid_manager's grid, one registered as a rental and inspected."""
    building = make_building()
    make_building(name="未登记出租楼")
    rental = RentalHouse.objects.create(building=building, area=building.area, area_path=building.area_path)
    actions.plan_inspections()
    api_as("grid_manager").post("/api/v1/patrol/inspections", payload(rental, answers()))
    report_case(
        Report(description="路灯不亮", channel="grid_manager", lat=building.lat, lng=building.lng), user("grid_manager")
    )
    return rental


@pytest.mark.django_db
def test_figures_of_the_workers_grid_and_village(inspected_rental, user):
    today = timezone.localdate()
    village_dispatcher = user("village_dispatcher")
    workers = {r.code: r.figures for r in kpi.worker_rows(village_dispatcher, today, today)}
    mine = workers["grid_manager"]
    assert mine.tasks_done >= 1 and mine.inspection_rate is not None
    assert mine.inspections == 1 and mine.cases_reported == 1 and mine.on_site_share == 0
    assert mine.registration_rate == 0.5  # one of the two rental-use buildings is registered
    assert "grid_manager2" not in workers  # another village's worker

    village = {r.code: r.figures for r in kpi.area_rows(village_dispatcher, "village", today, today)}
    assert list(village) == [user("grid_manager").memberships.get().area.parent.code]
    assert village[next(iter(village))].inspections == 1

    earlier = today - timedelta(days=40)
    assert kpi.worker_rows(village_dispatcher, earlier, earlier)[0].figures.inspections == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username, status, sees",
    [
        ("town_dispatcher", 200, True),
        ("liaobu_dispatcher", 200, False),
        ("grid_manager2", 200, False),
        ("fire_handler", 404, False),
    ],
)
def test_figures_page_per_role(client_as, inspected_rental, username, status, sees):
    response = client_as(username).get("/patrol/figures/", {"level": "grid"})
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert ('data-code="grid_manager"' in body) == sees
        assert ('data-code="441900122002001"' in body) == sees
