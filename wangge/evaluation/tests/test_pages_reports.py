"""The report pages: ranking, stored report, subject, drill-down, print and XLSX — per role, with
every counted figure equal to the length of the case list it links to."""

import io
import re
import sys
from datetime import datetime, time, timedelta
from html import unescape
from types import SimpleNamespace

import openpyxl
import pytest
from django.db.models import F
from django.utils import timezone

from wangge.accounts.models import Department, User
from wangge.cases.models import Assignment, Case, CaseEvent
from wangge.cases.tests.conftest import VILLAGE_A_GRID, VILLAGE_B_GRID
from wangge.evaluation import actions
from wangge.evaluation.models import Report, ReportStatus, Scheme
from wangge.evaluation.period import last_month
from wangge.evaluation.tests.conftest import act
from wangge.evaluation.views_reports import may_publish

pytestmark = pytest.mark.django_db

FIGURE_LINK = re.compile(r'<a href="(/evaluation/cases/\?[^"]+)" class="figure"[^>]*>(\d+)</a>')


def dispatched(new_case, grid=VILLAGE_A_GRID, departments=("fire",), reporter="grid_manager"):
    case = new_case(grid=grid, reporter=reporter)
    act(case, "village_dispatcher" if grid == VILLAGE_A_GRID else "town_dispatcher", "register")
    act(
        case,
        "village_dispatcher" if grid == VILLAGE_A_GRID else "town_dispatcher",
        "dispatch",
        departments=list(departments),
    )
    return case


@pytest.fixture
def trail(new_case):
    """Village A: four cases for the fire department (handled on time, handled late, accepted and
    overdue, just dispatched), one for housing; village B: a case grid_manager2 reported."""
    on_time = dispatched(new_case)
    act(on_time, "fire_handler", "accept")
    act(on_time, "fire_handler", "feedback", note="清理完毕")
    late = dispatched(new_case)
    act(late, "fire_handler", "accept")
    Assignment.objects.filter(case=late).update(deadline=late.created_at)
    act(late, "fire_handler", "feedback", note="晚了")
    waiting = dispatched(new_case)
    act(waiting, "fire_handler", "accept")
    Assignment.objects.filter(case=waiting).update(deadline=waiting.created_at)
    fresh = dispatched(new_case)
    housing = dispatched(new_case, departments=("housing",))
    other = new_case(grid=VILLAGE_B_GRID, reporter="grid_manager2")
    return {"on_time": on_time, "late": late, "waiting": waiting, "fresh": fresh, "housing": housing, "other": other}


def today_key():
    day = timezone.localdate()
    return f"{day:%Y-%m-%d}~{day:%Y-%m-%d}"


def row_html(html: str, key: str) -> str:
    found = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', html, re.S)
    return found.group(1) if found else ""


def figures_of(html: str, key: str) -> list[tuple[str, int]]:
    return [(unescape(url), int(n)) for url, n in FIGURE_LINK.findall(row_html(html, key))]


def assert_lists_match(client, links):
    """Each figure equals the number of cases its link lists (and the page says so)."""
    assert links
    for url, figure in dict(links).items():
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert html.count("<tr data-case=") == figure, url
        assert f'data-figure="{figure}" data-count="{figure}"' in html, url


def move_to_last_month(cases):
    """The cases' trail, moved back into last month (a stored report needs an ended period)."""
    period = last_month()
    target = datetime.combine(period.start + timedelta(days=14), time(10), timezone.get_current_timezone())
    shift = timezone.now() - target
    ids = [c.pk for c in cases]
    Case.objects.filter(pk__in=ids).update(
        created_at=F("created_at") - shift,
        dispatched_at=F("dispatched_at") - shift,
        dispatch_deadline=F("dispatch_deadline") - shift,
    )
    Assignment.objects.filter(case_id__in=ids).update(
        created_at=F("created_at") - shift,
        accepted_at=F("accepted_at") - shift,
        done_at=F("done_at") - shift,
        deadline=F("deadline") - shift,
    )
    CaseEvent.objects.filter(case_id__in=ids).update(created_at=F("created_at") - shift)
    return period


# ---- ranking per role


@pytest.mark.parametrize(
    "username, subject_type, visible, hidden",
    [
        ("admin", "department", ["fire", "housing"], []),
        ("city_dispatcher", "department", ["fire", "housing"], []),
        ("town_dispatcher", "department", ["fire", "housing"], []),  # their work in Houjie
        ("leader", "department", ["fire"], []),
        ("liaobu_dispatcher", "department", [], ["fire", "housing"]),  # nothing of theirs in Liaobu
        ("fire_handler", "department", ["fire"], ["housing"]),
        ("grid_manager", "grid_manager", ["@grid_manager"], ["@grid_manager2"]),
        ("town_dispatcher", "grid_manager", ["@grid_manager", "@grid_manager2"], []),
        ("village_dispatcher", "area", ["441900122002001"], ["441900122003001"]),
        ("grid_manager", "area", ["441900122002001"], ["441900122002002"]),
    ],
)
def test_ranking_shows_each_role_its_rows(client_as, user, trail, username, subject_type, visible, hidden):
    def key(k):
        return str(user(k[1:]).pk) if k.startswith("@") else k

    params = {"type": subject_type, "period": today_key(), **({"level": "grid"} if subject_type == "area" else {})}
    response = client_as(username).get("/evaluation/", params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-state="live"' in html and "实时计算" in html
    for k in visible:
        assert f'<tr data-key="{key(k)}">' in html, k
    for k in hidden:
        assert f'<tr data-key="{key(k)}">' not in html, k


def test_ranking_area_levels_and_town_slices(client_as, trail):
    html = client_as("town_dispatcher").get("/evaluation/", {"type": "department", "period": today_key()}).content
    assert 'data-slice="441900122"' in html.decode()  # the Houjie slice, named
    assert "厚街镇" in html.decode()
    html = client_as("admin").get("/evaluation/", {"type": "area", "period": today_key(), "level": "village"})
    assert '<tr data-key="441900122002">' in html.content.decode()
    assert '<tr data-key="441900122">' not in html.content.decode()  # towns are on their own tab


@pytest.mark.parametrize("username", ["landlord", "citizen"])
def test_no_evaluation_for_landlords_and_citizens(client_as, username):
    client = client_as(username)
    for url in ["/evaluation/", "/evaluation/subjects/cjj-department/fire/", "/evaluation/cases/?scheme=x"]:
        assert client.get(url).status_code == 403  # staff pages: the portal's users get the portal only
    assert 'href="/evaluation/"' not in client.get("/").content.decode()


def test_the_menu_shows_the_evaluation_to_staff(client_as):
    for username in ["leader", "fire_handler", "grid_manager", "admin"]:
        assert 'href="/evaluation/">考核评价</a>' in client_as(username).get("/").content.decode()


def test_a_bad_period_names_the_field(client_as):
    client = client_as("admin")
    for bad in ["2026-13", "next month", "2026-12-01~2026-11-01"]:
        response = client.get("/evaluation/", {"period": bad})
        assert response.status_code == 400
        assert "考核周期" in response.content.decode()
    response = client.get("/evaluation/", {"type": "nobody"})
    assert response.status_code == 400 and "考核对象类型" in response.content.decode()
    response = client.get("/evaluation/", {"type": "department", "scheme": "nope"})
    assert response.status_code == 400 and "考核方案" in response.content.decode()
    response = client.get(
        "/evaluation/cases/", {"scheme": "cjj-department", "period": "soon", "key": "fire", "measure": "due"}
    )
    assert response.status_code == 400 and "考核周期" in response.content.decode()
    response = client.get(
        "/evaluation/cases/", {"scheme": "cjj-department", "period": today_key(), "key": "fire", "measure": "nothing"}
    )
    assert response.status_code == 400 and "数据项：" in response.content.decode()


def test_english_interface(client_as, trail):
    client = client_as("admin")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/evaluation/", {"period": today_key()}).content.decode()
    assert "Computed live (not saved)" in html and "On-time handling rate" in html


# ---- drill-down: every figure is exactly its list


@pytest.mark.parametrize(
    "username, params, key",
    [
        ("admin", {"type": "department"}, "fire"),
        ("fire_handler", {"type": "department"}, "fire"),
        ("town_dispatcher", {"type": "department"}, "fire"),
        ("admin", {"type": "department", "scheme": "three-rates-department"}, "fire"),
        ("grid_manager", {"type": "grid_manager"}, "@grid_manager"),
        ("village_dispatcher", {"type": "area", "level": "village"}, "441900122002"),
        ("city_dispatcher", {"type": "desk"}, "village:441900122002"),
    ],
)
def test_each_figure_equals_its_case_list(client_as, user, trail, username, params, key):
    key = str(user(key[1:]).pk) if key.startswith("@") else key
    client = client_as(username)
    html = client.get("/evaluation/", {**params, "period": today_key()}).content.decode()
    links = figures_of(html, key)
    assert any(n > 0 for _url, n in links), key
    assert_lists_match(client, links)


def test_the_fire_departments_figures(client_as, trail):
    html = client_as("fire_handler").get("/evaluation/", {"type": "department", "period": today_key()}).content
    figures = {re.search(r"measure=(\w+)", url).group(1): n for url, n in figures_of(html.decode(), "fire")}
    assert figures["due"] == 4 and figures["handled"] == 2 and figures["handled_on_time"] == 1
    assert figures["overdue"] == 2


def test_appeal_link_only_for_the_subject_itself(client_as, trail):
    url = "/evaluation/cases/?" + f"scheme=cjj-department&period={today_key()}&key=fire&measure=overdue"
    own = client_as("fire_handler").get(url).content.decode()
    assert own.count('class="appeal-link"') == 2
    assert "/evaluation/appeals/new/?case=" in own and "key=fire" in own
    assert 'class="appeal-link"' not in client_as("admin").get(url).content.decode()
    url = "/evaluation/cases/?" + f"scheme=cjj-department&period={today_key()}&key=housing&measure=due"
    assert client_as("fire_handler").get(url).status_code == 404  # not their department


# ---- subject pages


@pytest.mark.parametrize(
    "username, url, status",
    [
        ("fire_handler", "/evaluation/subjects/cjj-department/fire/", 200),
        ("fire_handler", "/evaluation/subjects/cjj-department/housing/", 404),
        ("leader", "/evaluation/subjects/cjj-department/fire/", 200),  # the department's work in Houjie
        ("leader", "/evaluation/subjects/cjj-area/441900122002/", 200),
        ("leader", "/evaluation/subjects/cjj-area/441900111/", 404),
        ("town_dispatcher", "/evaluation/subjects/cjj-area/441900111/", 404),
        ("grid_manager", "/evaluation/subjects/cjj-grid-manager/@grid_manager/", 200),
        ("grid_manager", "/evaluation/subjects/cjj-grid-manager/@grid_manager2/", 404),
        ("grid_manager2", "/evaluation/subjects/cjj-grid-manager/@grid_manager/", 404),
        ("admin", "/evaluation/subjects/cjj-grid-manager/@grid_manager2/", 200),
        ("admin", "/evaluation/subjects/no-such-scheme/fire/", 404),
    ],
)
def test_subject_page_per_role(client_as, user, trail, username, url, status):
    url = re.sub(r"@(\w+)", lambda m: str(user(m.group(1)).pk), url)
    response = client_as(username).get(url, {"period": today_key()})
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert 'id="score-chart"' in html and 'id="score-chart-data"' in html
        assert 'id="subject-measures"' in html


def test_subject_page_links_its_figures(client_as, trail):
    client = client_as("fire_handler")
    html = client.get("/evaluation/subjects/cjj-department/fire/", {"period": today_key()}).content.decode()
    links = [(unescape(u), int(n)) for u, n in FIGURE_LINK.findall(html)]
    assert ("due", 4) in [(re.search(r"measure=(\w+)", u).group(1), n) for u, n in links]
    assert_lists_match(client, links)


# ---- stored reports: compute, publish, 409, revisions, print, export


def test_compute_publish_and_republish(client_as, trail, huey_immediate, django_capture_on_commit_callbacks):
    period = move_to_last_month(trail.values())
    client = client_as("admin")
    refused = client_as("town_dispatcher").post(
        "/evaluation/compute/", {"scheme": "cjj-department", "period": period.key}
    )
    assert refused.status_code == 404
    with django_capture_on_commit_callbacks(execute=True):  # a task queued after commit runs too
        response = client.post("/evaluation/compute/", {"scheme": "cjj-department", "period": period.key})
    assert response.status_code == 302
    draft = Report.objects.get(scheme__code="cjj-department", period_key=period.key)
    assert draft.status == ReportStatus.DRAFT
    html = client.get("/evaluation/", {"type": "department", "period": period.key}).content.decode()
    assert 'data-state="draft"' in html and f'action="/evaluation/reports/{draft.pk}/publish/"' in html

    assert client_as("city_dispatcher").post(f"/evaluation/reports/{draft.pk}/publish/").status_code == 302
    draft.refresh_from_db()
    assert draft.status == ReportStatus.PUBLISHED and draft.revision == 1
    again = client.post(f"/evaluation/reports/{draft.pk}/publish/")
    assert again.status_code == 409
    assert "已发布" in again.content.decode()

    # Re-publishing: a new draft, a reason required, the old revision kept and linked to the new one.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/evaluation/compute/", {"scheme": "cjj-department", "period": period.key})
    second = Report.objects.get(scheme__code="cjj-department", period_key=period.key, status=ReportStatus.DRAFT)
    html = client.get("/evaluation/", {"type": "department", "period": period.key}).content.decode()
    assert 'data-state="published"' in html and 'id="newer-draft"' in html
    refused = client.post(f"/evaluation/reports/{second.pk}/publish/", {"reason": " "})
    assert refused.status_code == 400 and "原因" in refused.content.decode()
    assert client.post(f"/evaluation/reports/{second.pk}/publish/", {"reason": "申诉已处理"}).status_code == 302
    old = client.get(f"/evaluation/reports/{draft.pk}/").content.decode()
    assert 'id="superseded-notice"' in old and f'href="/evaluation/reports/{second.pk}/"' in old
    new = client.get(f"/evaluation/reports/{second.pk}/").content.decode()
    assert "申诉已处理" in new and 'data-revision="1"' in new and 'data-revision="2"' in new


def test_compute_queues_the_workers_task(client_as, user, trail, monkeypatch):
    """With evaluation.tasks in place, the page queues compute_report_task and says so."""
    queued = []
    monkeypatch.setitem(sys.modules, "wangge.evaluation.tasks",
                        SimpleNamespace(compute_report_task=lambda *args: queued.append(args)))  # fmt: skip
    period = last_month()
    response = client_as("admin").post(
        "/evaluation/compute/", {"scheme": "cjj-area", "period": period.key}, follow=True
    )
    assert queued == [(Scheme.objects.get(code="cjj-area").pk, period.key, user("admin").pk)]
    assert "后台" in response.content.decode()
    assert not Report.objects.exists()


def test_compute_refuses_a_period_not_ended(client_as, trail):
    client = client_as("admin")
    response = client.post("/evaluation/compute/", {"scheme": "cjj-department", "period": today_key()}, follow=True)
    assert "考核周期" in response.content.decode()
    assert not Report.objects.exists()
    response = client.post("/evaluation/compute/", {"scheme": "cjj-department", "period": "2026-14"}, follow=True)
    assert "考核周期" in response.content.decode()


def test_published_figures_are_frozen_lists(client_as, trail):
    period = move_to_last_month(trail.values())
    report = actions.compute_report(Scheme.objects.get(code="cjj-department"), period)
    actions.publish_report(report, User.objects.get(username="admin"))
    Assignment.objects.filter(case=trail["fresh"]).update(created_at=F("created_at") + timedelta(days=60))
    client = client_as("fire_handler")
    html = client.get(f"/evaluation/reports/{report.pk}/").content.decode()
    links = figures_of(html, "fire")
    assert ("due", 4) in [(re.search(r"measure=(\w+)", u).group(1), n) for u, n in links]
    assert all("report=" in u for u, _n in links)
    assert_lists_match(client, links)


def test_change_against_the_previous_period(client_as, trail):
    period = move_to_last_month(trail.values())
    scheme = Scheme.objects.get(code="cjj-department")
    actions.compute_report(scheme, period)
    before = period.previous(1)[0]
    previous = actions.compute_report(scheme, before)
    previous.rows.filter(subject_key="fire", slice_path="").update(score=40)
    html = client_as("admin").get("/evaluation/", {"type": "department", "period": period.key}).content.decode()
    score = float(re.search(r'class="num score">([\d.]+)<', row_html(html, "fire")).group(1))
    shown = re.search(r'class="num change"><span class="\w+">([+\-\d.]+)<', row_html(html, "fire")).group(1)
    assert float(shown) == pytest.approx(score - 40, abs=0.01)


def test_export_xlsx(client_as, trail):
    period = move_to_last_month(trail.values())
    report = actions.compute_report(Scheme.objects.get(code="cjj-department"), period)
    response = client_as("admin").get(f"/evaluation/reports/{report.pk}/export.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["排名", "口径"]
    ranking = list(book["排名"].iter_rows(values_only=True))
    assert ranking[1][:4] == ("排名", "考核对象", "范围", "得分")  # the city sees each town's slice too
    whole = [r for r in ranking[2:] if r[2] == "全市"]
    assert len(whole) == Department.objects.filter(is_active=True).count()
    assert ("消防救援支队", "厚街镇") in [(r[1], r[2]) for r in ranking[2:]]
    fire = next(r for r in whole if r[1] == "消防救援支队")
    assert fire[0] == 1 and fire[ranking[1].index("应处置数")] == 4
    assert fire[ranking[1].index("按期处置率(%)")] == 25.0
    definitions = [r[0] for r in book["口径"].iter_rows(values_only=True)]
    assert "按期处置率" in definitions and "应处置数" in definitions
    # A department sees its own rows only: the whole, and its work in each town (范围).
    content = client_as("fire_handler").get(f"/evaluation/reports/{report.pk}/export.xlsx").content
    own = list(openpyxl.load_workbook(io.BytesIO(content))["排名"].iter_rows(values_only=True))
    assert own[1][:3] == ("排名", "考核对象", "范围")
    assert [(r[1], r[2]) for r in own[2:]] == [("消防救援支队", "全市"), ("消防救援支队", "厚街镇")]


def test_print_page_has_no_menu(client_as, trail):
    period = move_to_last_month(trail.values())
    report = actions.compute_report(Scheme.objects.get(code="cjj-department"), period)
    actions.compute_report(Scheme.objects.get(code="cjj-area"), period)
    response = client_as("leader").get(f"/evaluation/reports/{report.pk}/print/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "mainnav" not in html and "topbar" not in html
    assert "evaluation/report_print.css" in html and "<script>" not in html
    assert html.count('class="doc-section"') == 2  # departments, then areas (the same period's drafts)
    assert "草稿" in html and "消防救援支队" in html
    only = client_as("leader").get(f"/evaluation/reports/{report.pk}/print/", {"only": "1"}).content.decode()
    assert only.count('class="doc-section"') == 1


def test_report_pages_per_role(client_as, trail):
    period = move_to_last_month(trail.values())
    report = actions.compute_report(Scheme.objects.get(code="cjj-grid-manager"), period)
    for username, status in [("grid_manager", 200), ("leader", 200), ("citizen", 403), ("landlord", 403)]:
        assert client_as(username).get(f"/evaluation/reports/{report.pk}/").status_code == status
        assert client_as(username).get(f"/evaluation/reports/{report.pk}/print/").status_code == status
    html = client_as("grid_manager").get(f"/evaluation/reports/{report.pk}/").content.decode()
    assert html.count("<tr data-key=") == 1  # their own row only
    assert client_as("grid_manager").post(f"/evaluation/reports/{report.pk}/publish/").status_code == 404


def test_who_may_publish(user):
    assert may_publish(user("admin")) and may_publish(user("city_dispatcher"))
    for username in ["town_dispatcher", "leader", "fire_handler", "grid_manager", "citizen"]:
        assert not may_publish(user(username)), username
