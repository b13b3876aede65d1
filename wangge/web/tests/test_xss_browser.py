"""No script typed by one user runs in another's browser (issue 13, item 3).

Script payloads are planted in every text field a user can edit that other users see (display
names, case texts, register names, departments, categories, checklists, sensors, watch lists,
areas...); then dispatchers, a department handler, the administrator and the grid manager visit
every page that shows them, hover every map layer and chart (Leaflet tooltips and ECharts tooltips
take HTML) and open the case panel. A page fails if a payload ran (window.__xss), if the browser
reported a Content-Security-Policy violation (an inline script or handler was blocked, i.e. it
reached the page as markup), or if a script failed."""

from datetime import timedelta

import pytest
from django.contrib.admin import site
from django.urls import reverse
from django.utils import timezone

from wangge.accounts.models import Department, User
from wangge.areas.models import Area
from wangge.browser_testing import log_in
from wangge.cases import actions as case_actions
from wangge.cases.models import Assignment, Case, CaseEvent, Category, MatterItem
from wangge.history.models import ChangeRecord
from wangge.insight import facts
from wangge.notify.models import Notification
from wangge.patrol import actions as patrol_actions
from wangge.patrol.models import Checklist, ChecklistItem, WorkerPosition
from wangge.registry import actions as registry_actions
from wangge.registry.models import (
    Building,
    BuildingUse,
    Person,
    Place,
    PlaceType,
    RentalHouse,
    Room,
    StandardAddress,
    Tag,
    Tenancy,
)
from wangge.registry.tests.conftest import GRID_A, ID_A, new_building, point_in
from wangge.sensors import actions as sensor_actions
from wangge.sensors.models import Direction, Kind, Sensor
from wangge.watch import actions as watch_actions
from wangge.watch.models import WatchEntry, WatchList

pytestmark = pytest.mark.browser

PAYLOADS = (
    "<img src=x onerror=window.__xss=1>",
    '"><svg onload=window.__xss=1>',
    "<script>window.__xss=1</script>",
)
ALL = "".join(PAYLOADS)

# (model, text fields) a user edits and others see; every row of the model (areas: one town's).
PLANTED = [
    (User, ["full_name"]),
    (Department, ["name"]),
    (Category, ["name"]),
    (MatterItem, ["name"]),
    (Case, ["description", "address", "reporter_name", "outcome_reason", "satisfaction_comment"]),
    (Assignment, ["feedback", "return_reason", "extension_reason"]),
    (CaseEvent, ["note", "actor_name"]),
    (Notification, ["subject", "body"]),
    (Checklist, ["name"]),
    (ChecklistItem, ["text"]),
    (WatchList, ["name", "description"]),
    (WatchEntry, ["name", "note"]),
    (BuildingUse, ["name"]),
    (PlaceType, ["name"]),
    (Tag, ["name"]),
    (StandardAddress, ["full_text", "road", "community", "town"]),
    (Building, ["name", "contact_name"]),
    (Room, ["unit"]),
    (Person, ["name", "nationality"]),
    (Tenancy, ["note"]),
    (RentalHouse, ["landlord_name", "note"]),
    (Place, ["name", "contact_name"]),
    (Sensor, ["name", "metric"]),
    (ChangeRecord, ["object_repr", "user_name"]),
]

# Before any page script: record CSP violations and hover-free payload runs.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""

# Hover every interactive map layer (tooltips open on mouseover) and sweep the charts.
HOVER_LAYERS = """
() => {
  const targets = document.querySelectorAll(".leaflet-interactive, .leaflet-marker-icon");
  targets.forEach((t) => {
    t.dispatchEvent(new MouseEvent("mouseover", { bubbles: true, relatedTarget: document.body }));
    t.dispatchEvent(new MouseEvent("mousemove", { bubbles: true }));
  });
  return targets.length;
}
"""


def fitting(field):
    """The payloads that fit the column (the database may enforce the length)."""
    limit = getattr(field, "max_length", None)
    if not limit or len(ALL) <= limit:
        return ALL
    return next((p for p in PAYLOADS if len(p) <= limit), PAYLOADS[0][:limit])


def plant():
    for model, names in PLANTED:
        values = {name: fitting(model._meta.get_field(name)) for name in names}
        model.objects.update(**values)
    for area in Area.objects.filter(path__startswith=Area.objects.get(code="441900122").path).exclude(code="441900122"):
        Area.objects.filter(pk=area.pk).update(name=fitting(Area._meta.get_field("name")) + area.code[-3:])


@pytest.fixture
def planted(city, user):
    """Rows in every register and queue, then payloads in all their texts."""
    admin = user("admin")
    building = new_building(admin)
    room = building.rooms.get(number="101")
    person = registry_actions.register_person(
        admin, {"name": "张三", "person_type": "registered", "id_number": ID_A, "phone": "13900001111", "room": room.pk}
    )
    RentalHouse.objects.create(building=building, area=building.area, area_path=building.area_path)
    place_type = PlaceType.objects.filter(is_active=True).first()
    if place_type:
        registry_actions.save_place(
            admin, {"name": "小店", "place_type": place_type.code, "address": building.address.code}
        )
    patrol_actions.plan_inspections()
    grid = Area.objects.get(code=GRID_A)
    manhole = MatterItem.objects.get(code="manhole")
    code_sensor = sensor_actions.save_sensor(
        Sensor(code="mh-001", name="井盖", kind=Kind.MANHOLE, lat=grid.centroid_lat, lng=grid.centroid_lng,
               matter_item=manhole, metric="°", threshold=15.0, direction=Direction.ABOVE)
    )  # fmt: skip
    for i, value in enumerate([3.0, 20.0]):  # a normal reading, then an alarm: a sensor case
        sensor_actions.record_reading("mh-001", f"m{i}", value, timezone.now() - timedelta(minutes=10 - i))
    watch_list = WatchList.objects.create(name="名单")
    watch_actions.add_entries(watch_list, [{"name": "张三", "id_number": ID_A}], acting_user=admin)
    lat, lng = point_in(GRID_A)
    cases = []
    for i, item in enumerate(["fire_exit", "street_vendor", "fire_exit"]):
        report = case_actions.Report(
            description="案件", channel="grid_manager", lat=lat + i * 2e-4, lng=lng, matter_item=item,
            address="莞太路", reporter_name="报告人",
        )  # fmt: skip
        cases.append(case_actions.report_case(report, user("grid_manager"))[0])
    dispatcher = user("village_dispatcher")
    case_actions.transition(cases[0].pk, dispatcher, "dispatch", version=1, departments=["fire"], note="请处理")
    a_minute_ago = timezone.now() - timedelta(minutes=1)
    WorkerPosition.objects.update_or_create(
        worker=user("grid_manager"), defaults={"lat": lat + 1e-4, "lng": lng, "at": a_minute_ago}
    )
    facts.refresh_all()
    plant()
    return {"cases": cases, "building": building, "person": person, "sensor": code_sensor, "watch_list": watch_list}


class Visitor:
    """A logged-in browser that checks each page it opens."""

    def __init__(self, new_page, username, viewport=None):
        self.page = new_page(viewport)
        self.page.add_init_script(WATCH)
        self.errors = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"{self.page.url}: {exc}"))
        self.page.on(
            "console",
            lambda msg: "Content Security Policy" in msg.text and self.errors.append(f"{self.page.url}: {msg.text}"),
        )
        self.seen = []
        if username:
            log_in(self.page, username)

    def visit(self, path, ready=None, hover=True):
        page = self.page
        response = page.goto(page.base_url + path)
        assert response is None or response.status < 400, f"{path}: {response.status}"
        if ready:
            page.wait_for_selector(ready, timeout=15000)
        page.wait_for_load_state("load")  # not "networkidle": the live pages hold an event stream open
        page.wait_for_timeout(500)  # the pages' data requests (tooltips, lists) answer
        if hover:
            self.hover()
        self.check(path)

    def hover(self):
        page = self.page
        page.evaluate(HOVER_LAYERS)
        for chart in page.locator(".chart[data-ready], #sensor-chart[data-ready]").all():
            box = chart.bounding_box()
            if not box:
                continue
            for fx in (0.2, 0.35, 0.5, 0.65, 0.8):
                for fy in (0.3, 0.5, 0.7):
                    page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.wait_for_timeout(300)  # a planted image fails to load, then its handler would run

    def check(self, path):
        page = self.page
        ran = page.evaluate("window.__xss")
        violations = page.evaluate("window.__violations")
        assert not ran, f"{path}: a planted script ran"
        assert not violations, f"{path}: CSP violations {violations}"
        assert not self.errors, self.errors
        self.seen.append(path)

    def tooltips(self):
        return self.page.locator(".leaflet-tooltip").all_inner_texts()


def test_planted_scripts_run_nowhere(new_page, planted):
    cases, building, person = planted["cases"], planted["building"], planted["person"]
    day = timezone.localdate().isoformat()

    # The village dispatcher on the command map: hover the grid manager, open a case's panel.
    dispatcher = Visitor(new_page, "village_dispatcher")
    page = dispatcher.page
    page.goto(page.base_url + "/command/")
    page.wait_for_selector('.worker-dot[data-worker="grid_manager"]', timeout=15000)
    page.wait_for_selector("#command-map[data-count]")
    page.evaluate("([lat, lng]) => window.wanggeCommand.map.setView([lat, lng], 18)", [cases[1].lat, cases[1].lng])
    page.wait_for_selector(f'.case-dot[data-id="{cases[1].pk}"]', timeout=15000)  # unclustered
    page.hover('.worker-dot[data-worker="grid_manager"]')
    page.wait_for_selector(".leaflet-tooltip")
    page.wait_for_timeout(300)
    assert not page.evaluate("window.__xss"), "the grid manager's name ran as script in the dispatcher's browser"
    assert any(PAYLOADS[0] in text for text in dispatcher.tooltips()), dispatcher.tooltips()  # shown as text
    dispatcher.hover()
    page.click(f'.case-dot[data-id="{cases[1].pk}"]')
    page.wait_for_selector(f'#panel-body[data-case-id="{cases[1].pk}"]')
    assert PAYLOADS[0] in page.inner_text("#case-panel")
    dispatcher.check("/command/ (worker, cases, panel)")
    for path, ready in [
        ("/", None),
        ("/cases/", None),
        *[(f"/cases/{c.pk}/", "#casemap") for c in cases],
        ("/command/spots/", None),
        ("/stats/?period=30d", "#chart-daily[data-ready]"),
        ("/command/screen/", "#screen[data-loaded]"),
        ("/notifications/", None),
        ("/areas/441900122002/", "#map[data-loaded]"),
        ("/patrol/tracks/", None),
        (f"/patrol/tracks/grid_manager/{day}/", None),
        ("/patrol/tasks/", None),
        ("/patrol/figures/", None),
        ("/registry/", None),
        ("/registry/addresses/", None),
        (f"/registry/addresses/{building.address_id}/", None),
        ("/registry/buildings/", None),
        (f"/registry/buildings/{building.pk}/", None),
        ("/registry/people/", None),
        (f"/registry/people/{person.pk}/", None),
        ("/registry/rentals/", None),
        ("/registry/places/", None),
        ("/jobs/", None),
    ]:
        dispatcher.visit(path, ready)

    # City command staff: sensors, watch lists, the city's dashboards.
    city = Visitor(new_page, "city_dispatcher")
    for path, ready in [
        ("/sensors/", "#sensor-map[data-loaded]"),
        (f"/sensors/{planted['sensor'].code}/", "#sensor-chart[data-ready]"),
        ("/stats/?period=30d", "#chart-daily[data-ready]"),
        ("/command/", "#command-map[data-loaded]"),
        ("/cases/", None),
    ]:
        city.visit(path, ready)

    # The department handler's queue and case; the grid manager's pages and phone app.
    handler = Visitor(new_page, "fire_handler")
    for path in ("/cases/department/", f"/cases/{cases[0].pk}/", "/notifications/"):
        handler.visit(path)
    manager = Visitor(new_page, "grid_manager")
    for path in ("/", "/cases/", f"/cases/{cases[0].pk}/", "/notifications/", "/patrol/tasks/"):
        manager.visit(path)
    phone = Visitor(new_page, "grid_manager", {"width": 390, "height": 844})
    phone.visit("/patrol/m/#cases", '#page-cases[data-ready="1"]', hover=False)
    assert PAYLOADS[0] in phone.page.inner_text("#page-cases")
    phone.page.evaluate(f"location.hash = '#case/{cases[1].pk}'")  # a new case: the on-site handling form
    phone.page.wait_for_selector('#page-case[data-ready="1"]')
    assert PAYLOADS[0] in phone.page.inner_text("#case-detail")
    phone.page.evaluate("location.hash = '#tasks'")
    phone.page.wait_for_selector('#page-tasks[data-ready="1"]')
    phone.page.click('#tasks-view button[data-view="map"]')
    phone.page.wait_for_selector("path.task-marker", timeout=15000)
    phone.page.locator("path.task-marker").last.click(force=True)
    assert PAYLOADS[0] in phone.page.locator(".leaflet-popup a.map-inspect").inner_text()
    phone.hover()
    phone.check("/patrol/m/#tasks (map)")

    # The administrator: the admin's lists and forms of the same rows.
    admin = Visitor(new_page, "admin")
    changelists = [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m in site._registry
        if m._meta.app_label in ("accounts", "cases", "registry", "sensors", "watch", "patrol", "history", "notify")
    ]
    for path in (
        "/admin/",
        *changelists,
        f"/admin/accounts/user/{User.objects.get(username='grid_manager').pk}/change/",
        f"/admin/cases/case/{cases[0].pk}/change/",
        "/command/",
        "/watch/",
        f"/watch/lists/{planted['watch_list'].pk}/",
        "/watch/hits/",
    ):
        admin.visit(path)

    # Anyone: the tracking page shows the case's public texts; the report form; the API's docs.
    citizen = Visitor(new_page, None)
    citizen.visit(f"/track/{cases[0].tracking_number}/")
    citizen.visit("/report/", "#pickmap[data-loaded]")
    citizen.visit("/login/")
    citizen.visit("/api/v1/docs", "#swagger-ui .info")
