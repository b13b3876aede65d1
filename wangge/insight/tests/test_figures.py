"""The daily figures: kept by the worker from case events, equal to a direct computation from the
cases; dashboards, API and exports per role (a village sees its village only)."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from wangge.areas.models import Area
from wangge.cases.models import OPEN_STATUSES, Assignment, Case, Status
from wangge.insight import facts, figures
from wangge.insight.models import DailyCaseFigure, DirtyDay

from .conftest import VILLAGE_B_GRID, act

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(new_case, user, photo_of):
    """Cases in two villages of the town, in every state, one of them reported three days ago."""
    a1 = new_case(matter_item="fire_exit")
    a2 = new_case(reporter="hotline", matter_item="street_vendor", channel="hotline")
    a3 = new_case(matter_item="street_vendor")
    a4 = new_case()
    b1 = new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID, matter_item="fire_exit")
    b2 = new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID)
    act(a1, "village_dispatcher", "dispatch", departments=["fire"])
    act(a1, "fire_handler", "accept")
    act(a1, "fire_handler", "feedback", note="已清理")
    act(a1, "grid_manager", "verify_pass")
    act(a1, "village_dispatcher", "evaluate", rating=5)
    Case.objects.filter(pk=a1.pk).update(satisfaction=4)
    act(a2, "village_dispatcher", "reject", note="不属实")
    act(a3, "grid_manager", "handle_on_site", note="已劝离", photo_ids=[photo_of(user("grid_manager"))])
    act(b1, "town_dispatcher", "dispatch", departments=["fire"])
    Case.objects.filter(pk=b1.pk).update(is_overdue=True)
    Assignment.objects.filter(case=b1).update(overdue_at=timezone.now())
    Case.objects.filter(pk=b2.pk).update(created_at=timezone.now() - timedelta(days=3))
    Case.objects.filter(pk=a4.pk).update(is_overdue=True)
    return {"a": [a1, a2, a3, a4], "b": [b1, b2]}


def direct(cases):
    """The same figures straight from the cases (the reference)."""
    cases = list(cases)
    finished = [c for c in cases if c.status == Status.CLOSED]  # a rejected or merged case never is
    rated = [c for c in cases if c.satisfaction is not None]
    return {
        "total": len(cases),
        "open": sum(c.status in OPEN_STATUSES for c in cases),
        "closed": sum(c.status == Status.CLOSED for c in cases),
        "finished": len(finished),
        "counted": sum(c.status not in (Status.REJECTED, Status.MERGED) for c in cases),
        "finished_on_time": sum(not c.is_overdue for c in finished),
        "overdue": sum(c.is_overdue for c in cases),
        "handled_on_site": sum(c.handled_on_site for c in cases),
        "rated": len(rated),
        "satisfaction_sum": sum(c.satisfaction for c in rated),
    }


def test_figures_follow_case_events_and_equal_a_direct_computation(history):
    assert DirtyDay.objects.exists()
    days = facts.refresh_dirty()
    assert timezone.localdate() in days and not DirtyDay.objects.exists()
    b2 = Case.objects.get(pk=history["b"][1].pk)
    facts.refresh_day(timezone.localdate(b2.created_at))  # moved by hand: no event marked that day
    town = Area.objects.get(code="441900122")
    for area in [town, Area.objects.get(code="441900122002"), Area.objects.get(code="441900122003"), town.parent]:
        for period in [figures.period_from("today"), figures.period_from("30d")]:
            start, end = facts.day_bounds(period.start)[0], facts.day_bounds(period.end)[1]
            cases = Case.objects.filter(area_path__startswith=area.path, created_at__gte=start, created_at__lt=end)
            got = figures.summary(area, period)
            assert {k: got[k] for k in direct(cases)} == direct(cases), (area.code, period)
            channels = {r["key"]: r["n"] for r in figures.by_channel(area, period)}
            assert channels == {ch: cases.filter(channel=ch).count() for ch in set(c.channel for c in cases)}
    month = figures.period_from("30d")
    villages = {r["code"]: r for r in figures.by_child_area(town, month)}
    assert villages["441900122002"]["total"] == 4 and villages["441900122003"]["total"] == 2
    assert villages["441900122002"]["rank"] == 1  # 2 of 3 finished (one rejected) beats 0 of 2
    fire = {r["code"]: r for r in figures.by_department(town, month)}["fire"]
    assert (fire["assigned"], fire["done"], fire["done_on_time"], fire["overdue"]) == (2, 1, 1, 1)
    summary = figures.summary(town, month)
    assert summary["closure_rate"] == round(100 * 2 / 5, 1) and summary["on_site_share"] == 50.0
    assert summary["satisfaction"] == 4.0


def test_a_later_change_recomputes_only_its_reporting_day(history):
    facts.refresh_all()
    DirtyDay.objects.all().delete()
    before = DailyCaseFigure.objects.count()
    town, today = Area.objects.get(code="441900122"), figures.period_from("today")
    fire = {r["code"]: r for r in figures.by_department(town, today)}["fire"]
    assert fire["assigned"] == 2 and fire["active"] == 1
    a4 = history["a"][3]
    act(a4, "village_dispatcher", "dispatch", departments=["fire"])
    assert set(DirtyDay.objects.values_list("day", flat=True)) == {timezone.localdate(a4.created_at)}
    assert facts.refresh_dirty() == [timezone.localdate(a4.created_at)]
    fire = {r["code"]: r for r in figures.by_department(town, today)}["fire"]
    assert fire["assigned"] == 3 and fire["active"] == 2
    assert DailyCaseFigure.objects.count() == before


def test_the_worker_task_builds_everything_on_first_run(history):
    from wangge.insight.tasks import refresh_figures

    DailyCaseFigure.objects.all().delete()
    result = refresh_figures.call_local()
    assert result["rebuilt_days"] >= 4 and DailyCaseFigure.objects.exists()


@pytest.mark.parametrize(
    "username,area,status",
    [
        ("village_dispatcher", "441900122002", 200),
        ("village_dispatcher", "441900122003", 404),  # the next village
        ("village_dispatcher", "441900122", 404),  # its town
        ("town_dispatcher", "441900122003", 200),
        ("liaobu_dispatcher", "441900122", 404),
        ("leader", "441900122", 200),
        ("city_dispatcher", "441900122003", 200),
        ("grid_manager", "441900122002", 403),
        ("fire_handler", "", 403),
    ],
)
def test_dashboards_per_role(client_as, api_as, username, area, status):
    assert client_as(username).get("/stats/", {"area": area}).status_code == status
    assert api_as(username).get("/api/v1/insight/figures", area=area).status_code == status
    assert client_as(username).get("/stats/export/areas.xlsx", {"area": area}).status_code == status


def test_a_village_dispatcher_sees_only_their_village_in_the_figures(history, api_as, client_as):
    facts.refresh_dirty()
    data = api_as("village_dispatcher").get("/api/v1/insight/figures", period="30d").json()
    assert data["area"]["code"] == "441900122002" and data["summary"]["total"] == 4
    assert {r["code"] for r in data["areas"]} <= {a.code for a in Area.objects.filter(parent__code="441900122002")}
    assert all(c["number"] != history["b"][0].number for c in data["overdue"])
    page = client_as("village_dispatcher").get("/stats/", {"period": "30d"}).content.decode()
    assert history["b"][0].number not in page and "441900122003" not in page


def test_every_figure_links_to_the_cases_behind_it(history, client_as):
    facts.refresh_dirty()
    town = Area.objects.get(code="441900122")
    data = figures.dashboard(town, figures.period_from("30d"))
    client = client_as("town_dispatcher")
    hotline = next(r for r in data["channels"] if r["key"] == "hotline")
    page = client.get(hotline["url"]).content.decode()
    assert history["a"][1].number in page and history["a"][0].number not in page
    village_b = next(r for r in data["areas"] if r["code"] == "441900122003")
    page = client.get(village_b["url"]).content.decode()
    assert history["b"][0].number in page and history["a"][0].number not in page
    today = data["daily"][-1]
    page = client.get(today["url"]).content.decode()
    assert history["a"][0].number in page and history["b"][1].number not in page  # three days ago
    fire = next(r for r in data["departments"] if r["code"] == "fire")
    page = client.get(fire["overdue_url"]).content.decode()
    assert history["b"][0].number in page and history["a"][0].number not in page


def test_tables_export_as_xlsx(history, client_as):
    facts.refresh_all()
    client = client_as("town_dispatcher")
    response = client.get("/stats/export/areas.xlsx", {"area": "441900122", "period": "30d"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    by_code = {r[1]: r for r in rows[2:]}
    assert by_code["441900122002"][3] == 4 and by_code["441900122003"][3] == 2
    for table in ["departments", "channels", "categories", "daily", "overdue"]:
        response = client.get(f"/stats/export/{table}.xlsx", {"area": "441900122", "period": "30d"})
        assert response.status_code == 200 and load_workbook(io.BytesIO(response.content)).active.max_row >= 3
    assert client.get("/stats/export/secrets.xlsx").status_code == 404


def test_periods():
    today = timezone.localdate().replace(year=2026, month=11, day=23)  # a Monday
    assert figures.period_from("week", today=today).start == today
    assert figures.period_from("month", today=today).start.day == 1
    p = figures.period_from("", "2026-11-20", "2026-11-01", today=today)
    assert (p.key, str(p.start), str(p.end)) == ("custom", "2026-11-01", "2026-11-20")
    assert figures.period_from("", "not a date", "", today=today).key == "month"


@pytest.fixture
def huey_now():
    from huey.contrib.djhuey import HUEY

    before, HUEY.immediate = HUEY.immediate, True
    yield HUEY
    HUEY.immediate = before


def test_many_overdue_cases_export_in_the_background(
    history, client_as, settings, huey_now, django_capture_on_commit_callbacks
):
    from wangge.jobs.models import Job, State

    facts.refresh_all()
    client = client_as("village_dispatcher")
    small = client.get("/stats/export/overdue.xlsx")  # one overdue case in the village: in the request
    assert small.status_code == 200 and not Job.objects.exists()
    rows = list(load_workbook(io.BytesIO(small.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[2:]] == [history["a"][3].number]
    settings.EXPORT_SYNC_MAX_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/stats/export/overdue.xlsx")
    job = Job.objects.get()
    assert response.status_code == 302 and response.url == f"/jobs/{job.pk}/"
    assert job.register == "cases"
    assert job.params["filters"] == {"status": "open", "overdue": "1", "area": "441900122002"}
    assert job.state == State.DONE and job.total == 1  # the village's overdue case, not the next village's
    data = b"".join(client.get(f"/jobs/{job.pk}/files/result/").streaming_content)
    flat = str(list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)))
    assert history["a"][3].number in flat and history["b"][0].number not in flat
    # the other tables stay small and in the request
    assert client.get("/stats/export/areas.xlsx").status_code == 200


def test_table_figures_link_to_their_cases(history, client_as):
    facts.refresh_all()
    data = figures.dashboard(Area.objects.get(code="441900122"), figures.period_from("30d"))
    village_a = next(r for r in data["areas"] if r["code"] == "441900122002")
    assert "status=open" in village_a["open_url"] and "area=441900122002" in village_a["open_url"]
    client = client_as("town_dispatcher")
    assert client.get(village_a["open_url"]).context["page"].paginator.count == village_a["open"] == 1
    today = data["daily"][-1]
    assert "overdue=1" in today["overdue_url"]
    page = client.get("/stats/", {"period": "30d"}).content.decode()
    assert village_a["open_url"].replace("&", "&amp;") in page


def test_the_cases_behind_a_figure_export_with_its_period(history, client_as):
    """From a figure to the queue to its Export button: the same cases, the period kept."""
    facts.refresh_all()
    client = client_as("town_dispatcher")
    today = timezone.localdate()
    period = figures.period_from("", today.isoformat(), today.isoformat())
    url = figures.dashboard(Area.objects.get(code="441900122"), period)["links"]["all"]
    queue = client.get(url)
    assert queue.context["page"].paginator.count == 5  # b2 was reported three days ago
    export_url = queue.content.decode().split('id="export-cases" href="')[1].split('"')[0].replace("&amp;", "&")
    assert f"from={today.isoformat()}" in export_url
    data = client.get(export_url)
    rows = list(load_workbook(io.BytesIO(data.content)).active.iter_rows(values_only=True))
    numbers = {r[0] for r in rows[1:]}
    assert history["b"][1].number not in numbers and len(numbers) == 5
