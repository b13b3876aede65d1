"""Issue 14: rates that cannot be gamed. A rejected or merged case is never finished (the closure
rate is closed / (reported − rejected − merged)); a department's return leaves its rates only once
the dispatcher accepted it (an undecided or overruled return still counts). Each rate's link lists
exactly the cases it counts, and a decision on a return reaches the figures through the worker."""

import importlib

import pytest
from django.utils import timezone

from wangge.areas.models import Area
from wangge.insight import facts, figures
from wangge.insight.models import DailyCaseFigure, DailyDepartmentFigure, DirtyDay

from .conftest import act

pytestmark = pytest.mark.django_db

VILLAGE_A = "441900122002"


@pytest.fixture
def city(new_case, user, photo_of):
    """Village A today: a case closed on site, one rejected, one merged into another still open;
    and four cases for the fire department — its return accepted, its return undecided, its return
    overruled (pending again), and one it reported back in time."""
    closed = new_case(description="已当场处理")
    act(closed, "grid_manager", "handle_on_site", note="已处理", photo_ids=[photo_of(user("grid_manager"))])
    rejected = new_case(description="不属实的上报")
    act(rejected, "village_dispatcher", "reject", note="不属实")
    kept, merged = new_case(description="保留的一宗"), new_case(description="重复的一宗")
    act(merged, "village_dispatcher", "merge", into=kept.pk, note="重复")
    fire = {}
    for name in ("accepted", "undecided", "overruled", "done"):
        case = new_case(description=f"消防 {name}")
        act(case, "village_dispatcher", "dispatch", departments=["fire"])
        fire[name] = case
    for name in ("accepted", "undecided", "overruled"):
        act(fire[name], "fire_handler", "return", note="非本部门")
    act(fire["accepted"], "village_dispatcher", "decide_return", assignment=_assignment(fire["accepted"]), approve=True)
    act(
        fire["overruled"],
        "village_dispatcher",
        "decide_return",
        assignment=_assignment(fire["overruled"]),
        approve=False,
        note="属消防职责",
    )
    act(fire["done"], "fire_handler", "accept")
    act(fire["done"], "fire_handler", "feedback", note="已处理")
    facts.refresh_dirty()
    return {"closed": closed, "rejected": rejected, "kept": kept, "merged": merged, "fire": fire}


def _assignment(case):
    return case.assignments.get().pk


def _listed(client, url) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200
    return {c.pk for c in response.context["page"].paginator.object_list}


def test_a_rejected_or_merged_case_is_never_finished(city):
    area, today = Area.objects.get(code=VILLAGE_A), figures.period_from("today")
    s = figures.summary(area, today)
    # 8 reported, 1 rejected and 1 merged aside: 6 counted, 1 closed.
    assert (s["total"], s["rejected"], s["merged"], s["counted"], s["finished"]) == (8, 1, 1, 6, 1)
    assert s["closure_rate"] == round(100 / 6, 1)
    assert s["on_time_rate"] == 100.0  # of the closed: the rejected case is not "finished in time"
    rows = DailyCaseFigure.objects.filter(day=timezone.localdate())
    assert sum(rows.values_list("finished_on_time", flat=True)) == 1
    daily = figures.daily(area, today)[-1]
    assert daily["finished"] == 1
    village = {r["code"]: r for r in figures.by_child_area(Area.objects.get(code="441900122"), today)}[VILLAGE_A]
    assert village["closure_rate"] == s["closure_rate"] and village["finished"] == 1


def test_a_return_counts_against_the_department_until_it_is_accepted(city):
    area, today = Area.objects.get(code=VILLAGE_A), figures.period_from("today")
    fire = {r["code"]: r for r in figures.by_department(area, today)}["fire"]
    assert (fire["assigned"], fire["returned"], fire["returns_accepted"], fire["counted"]) == (4, 2, 1, 3)
    assert (fire["active"], fire["done"], fire["done_on_time"]) == (1, 1, 1)
    assert fire["closure_rate"] == round(100 / 3, 1)  # done, of the four less the accepted return
    assert fire["on_time_rate"] == 50.0  # done in time, of the done and the return not accepted


def test_each_rate_links_to_exactly_the_cases_it_counts(city, client_as):
    area, today = Area.objects.get(code=VILLAGE_A), figures.period_from("today")
    data = figures.dashboard(area, today)
    client = client_as("village_dispatcher")
    finished = _listed(client, data["links"]["finished"])
    assert len(finished) == data["summary"]["finished"] and finished == {city["closed"].pk}
    village = Area.objects.get(code="441900122")
    row = {r["code"]: r for r in figures.by_child_area(village, today)}[VILLAGE_A]
    assert _listed(client_as("town_dispatcher"), row["finished_url"]) == finished
    fire = next(r for r in data["departments"] if r["code"] == "fire")
    counted = _listed(client, fire["url"])
    assert len(counted) == fire["counted"] == 3
    assert counted == {city["fire"][n].pk for n in ("undecided", "overruled", "done")}
    page = client.get("/stats/", {"area": VILLAGE_A, "period": "today"}).content.decode()
    assert fire["url"].replace("&", "&amp;") in page and data["links"]["finished"].replace("&", "&amp;") in page


def test_a_decision_on_a_return_reaches_the_figures_through_the_worker(city):
    from wangge.insight.tasks import refresh_figures

    assert not DirtyDay.objects.exists()
    undecided = city["fire"]["undecided"]
    act(undecided, "village_dispatcher", "decide_return", assignment=_assignment(undecided), approve=True)
    assert set(DirtyDay.objects.values_list("day", flat=True)) == {timezone.localdate(undecided.created_at)}
    assert refresh_figures.call_local() == {"days": [str(timezone.localdate(undecided.created_at))]}
    fire = {r["code"]: r for r in figures.by_department(Area.objects.get(code=VILLAGE_A), figures.period_from("today"))}
    assert (fire["fire"]["returns_accepted"], fire["fire"]["counted"]) == (2, 2)
    assert fire["fire"]["closure_rate"] == 50.0 and fire["fire"]["on_time_rate"] == 100.0
    # and the figures equal a rebuild from scratch
    before = sorted(DailyDepartmentFigure.objects.values_list("department_id", "returned", "returns_accepted"))
    facts.refresh_all()
    assert sorted(DailyDepartmentFigure.objects.values_list("department_id", "returned", "returns_accepted")) == before


def test_the_migration_marks_every_figure_day_for_the_worker(city):
    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("wangge.insight.migrations.0002_dailydepartmentfigure_returns_accepted")
    days = set(DailyCaseFigure.objects.values_list("day", flat=True))
    assert days and not DirtyDay.objects.exists()

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.mark_every_day(apps, editor)
    assert set(DirtyDay.objects.values_list("day", flat=True)) == days
    assert facts.refresh_dirty() == sorted(days)


def test_the_departments_export_has_the_accepted_returns(city, client_as):
    import io

    from openpyxl import load_workbook

    response = client_as("village_dispatcher").get("/stats/export/departments.xlsx", {"period": "today"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    header, fire = rows[1], next(r for r in rows[2:] if r[1] == "fire")
    got = dict(zip(header, fire, strict=True))
    assert (got["计入考核"], got["认可退回"], got["已回退"]) == (3, 1, 2)
    assert got[next(h for h in header if h.startswith("办结率"))] == round(100 / 3, 1)
