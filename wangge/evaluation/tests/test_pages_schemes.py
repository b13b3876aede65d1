"""Scheme pages: who reads and who edits (per role), what the detail shows, the edit form's rows and
its errors next to the row that caused them (nothing saved, what was typed kept), a new scheme, and
that a period is scored with the version in force for it."""

import re
from datetime import date, timedelta

import pytest

from wangge.accounts.models import User
from wangge.cases.models import Assignment
from wangge.evaluation import actions, queries
from wangge.evaluation.models import Scheme, SchemeVersion
from wangge.evaluation.period import current_month, last_month
from wangge.evaluation.tests.conftest import act

pytestmark = pytest.mark.django_db

LIST, DETAIL = "/evaluation/schemes/", "/evaluation/schemes/cjj-department/"
EDIT, NEW = "/evaluation/schemes/cjj-department/edit/", "/evaluation/schemes/new/"
READERS = ["admin", "city_dispatcher", "town_dispatcher", "liaobu_dispatcher", "village_dispatcher",
           "grid_manager", "grid_manager2", "fire_handler", "leader"]  # fmt: skip
OUTSIDERS = ["landlord", "citizen"]


def next_month_start():
    return current_month().end + timedelta(days=1)


def form(**changes):
    """The department scheme's form as an administrator would post it (targets of rates in %)."""
    data = {
        "item_indicator": ["dept_on_time_rate", "dept_handle_rate", "dept_rework_rate", "dept_satisfaction_rate"],
        "item_weight": ["40", "25", "15", "20"],
        "item_target": ["95", "100", "5", "90"],
        "adj_indicator": ["dept_overdue", "dept_returns_overruled"],
        "adj_points": ["-1", "-2"],
        "adj_cap": ["20", "10"],
        "grade_excellent": "90",
        "grade_good": "80",
        "grade_pass": "60",
        "flag_below": "60",
        "sms_heads": "1",
        "valid_from": next_month_start().isoformat(),
        "note": "按期处置率权重调整",
    }
    data.update(changes)
    return data


def item_rows(html: str) -> list[str]:
    body = html.split('id="item-rows"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr class="item-row[^"]*">.*?</tr>', body, re.S)


def row_errors(html: str) -> dict[int, set[str]]:
    """{row number (1-based): the fields marked in error} of the item rows."""
    out = {}
    for n, row in enumerate(item_rows(html), start=1):
        found = set(re.findall(r'data-error="(\w+)"', row))
        if found:
            out[n] = found
    return out


def versions(code="cjj-department"):
    return SchemeVersion.objects.filter(scheme__code=code).count()


@pytest.mark.parametrize("username", READERS)
def test_every_evaluation_user_reads_the_schemes(client_as, username):
    client = client_as(username)
    assert client.get(LIST).status_code == 200
    page = client.get(DETAIL)
    assert page.status_code == 200
    assert (b'id="edit-scheme"' in page.content) == (username == "admin")


@pytest.mark.parametrize("username", OUTSIDERS)
def test_landlords_and_citizens_do_not(client_as, username):
    assert client_as(username).get(LIST).status_code == 403
    assert client_as(username).get(DETAIL).status_code == 403


@pytest.mark.parametrize("username", READERS[1:] + OUTSIDERS)
def test_only_administrators_edit_or_add_schemes(client_as, username):
    client = client_as(username)
    assert client.get(EDIT).status_code == 403
    assert client.post(EDIT, form()).status_code == 403
    assert client.get(NEW + "?type=department").status_code == 403
    assert client.post(NEW, {**form(), "type": "department", "code": "x-y", "name": "x"}).status_code == 403
    assert versions() == 1 and not Scheme.objects.filter(code="x-y").exists()


def test_anonymous_users_are_sent_to_log_in(client):
    assert client.get(LIST).status_code == 302
    assert client.get(EDIT).status_code == 302


def test_the_list_groups_schemes_by_who_is_evaluated(client_as):
    html = client_as("leader").get(LIST).content.decode()
    sections = re.findall(r'data-subject-type="(\w+)">\s*<h2>([^<]+)</h2>', html)
    assert [s[0] for s in sections] == ["department", "grid_manager", "area", "desk"]
    assert sections[0][1] == "部门" and sections[3][1] == "指挥中心受理派遣"
    departments = html.split('data-subject-type="department"')[1].split("</section>")[0]
    assert 'data-code="cjj-department"' in departments and 'data-code="three-rates-department"' in departments
    assert "版本 1" in departments and "2020-01-01" in departments


def test_the_detail_shows_items_with_their_definitions_targets_and_direction(client_as):
    html = client_as("fire_handler").get(DETAIL).content.decode()
    items = html.split('id="scheme-items"')[1].split("</section>")[0]
    assert "按期处置率" in items and "按期处置数 ÷ 应处置数" in items  # the name and its 口径
    assert "95%" in items and "5%" in items  # rates as %
    assert 'data-measure="handled_on_time"' in items and "按期处置" in items  # what the rate is made of
    assert "dept_on_time_rate" not in html  # codes are not shown
    adjustments = html.split('id="scheme-adjustments"')[1].split("</section>")[0]
    assert "−1 分" in adjustments and "−2 分" in adjustments
    grades = html.split('id="scheme-grades"')[1].split("</section>")[0]
    assert "优秀" in grades and "90 分及以上" in grades and "短信" in grades
    assert 'data-number="1"' in html.split('id="scheme-versions"')[1]


def test_an_averages_target_is_shown_in_its_unit(client_as):
    html = client_as("admin").get("/evaluation/schemes/cjj-desk/").content.decode()
    items = html.split('id="scheme-items"')[1].split("</section>")[0]
    assert "2 小时" in items and "越低越好" in items


def test_the_form_is_filled_from_the_latest_version_and_offers_only_this_kind_of_indicator(client_as):
    html = client_as("admin").get(EDIT).content.decode()
    rows = item_rows(html)
    assert len(rows) == 4
    assert 'value="95"' in rows[0] and 'value="dept_on_time_rate" data-unit="%"' in rows[0]
    template = html.split('id="item-row-template"')[1].split("</template>")[0]
    offered = set(re.findall(r'<option value="(\w+)"', template))
    assert "dept_satisfaction_avg" in offered and "dept_on_time_rate" in offered
    assert not any(code.startswith(("gm_", "area_", "desk_")) for code in offered)
    assert "dept_overdue" not in offered  # a count: a deduction, not a scored item
    adj = html.split('id="adj-row-template"')[1].split("</template>")[0]
    assert "dept_overdue" in adj and "dept_on_time_rate" not in adj
    assert 'id="weight-total"' in html and ">100</output>" in html
    assert "<script>" not in html and "onclick" not in html


def test_saving_makes_version_2_from_the_day_chosen(client_as):
    data = form(item_weight=["50", "20", "10", "20"], note="按期处置率提至50")
    response = client_as("admin").post(EDIT, data)
    assert response.status_code == 302 and response["Location"] == DETAIL
    v2 = SchemeVersion.objects.get(scheme__code="cjj-department", number=2)
    assert v2.valid_from == next_month_start() and v2.note == "按期处置率提至50"
    assert v2.created_by.username == "admin"
    assert v2.body["items"][0] == {"indicator": "dept_on_time_rate", "weight": 50, "target": 0.95}
    assert v2.body["adjustments"][0] == {"indicator": "dept_overdue", "points": -1, "cap": 20}
    assert v2.body["sms_heads"] is True and v2.body["grades"] == {"excellent": 90, "good": 80, "pass": 60}
    html = client_as("leader").get(DETAIL + "?version=2").content.decode()
    assert 'id="shown-version" data-number="2"' in html and "按期处置率提至50" in html
    assert client_as("leader").get(DETAIL + "?version=9").status_code == 404


def bad(client_as, **changes):
    response = client_as("admin").post(EDIT, form(**changes))
    assert response.status_code == 400
    assert versions() == 1  # nothing saved
    return response.content.decode()


def test_weights_that_do_not_add_up_to_100(client_as):
    html = bad(client_as, item_weight=["30", "25", "15", "20"])
    assert 'data-error="items"' in html and "90" in html.split('data-error="items"')[1][:80]
    assert 'value="30"' in item_rows(html)[0]  # what was typed is kept
    assert ">90</output>" in html


def test_a_target_out_of_range_is_marked_on_its_row(client_as):
    html = bad(client_as, item_target=["95", "0", "5", "90"])
    assert row_errors(html) == {2: {"target"}}
    html = client_as("admin").post("/evaluation/schemes/cjj-desk/edit/", {
        "item_indicator": ["desk_dispatch_on_time_rate", "desk_register_hours", "desk_dispatch_hours"],
        "item_weight": ["50", "25", "25"], "item_target": ["95", "-1", "2"],
        "grade_excellent": "90", "grade_good": "80", "grade_pass": "60",
        "valid_from": next_month_start().isoformat(),
    }).content.decode()  # fmt: skip
    assert row_errors(html) == {2: {"target"}}


def test_a_rates_target_above_100_percent(client_as):
    html = bad(client_as, item_target=["95", "100", "5", "120"])
    assert row_errors(html) == {4: {"target"}}
    message = item_rows(html)[3].split('data-error="target">')[1].split("<")[0]
    assert "100" in message and 'value="120"' in item_rows(html)[3]


def test_an_indicator_listed_twice(client_as):
    indicators = ["dept_on_time_rate", "dept_handle_rate", "dept_on_time_rate", "dept_satisfaction_rate"]
    html = bad(client_as, item_indicator=indicators)
    assert row_errors(html) == {3: {"indicator"}}


def test_a_deduction_without_points_is_marked_on_its_row(client_as):
    html = bad(client_as, adj_points=["-1", "0"])
    body = html.split('id="adj-rows"', 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r'<tr class="adj-row[^"]*">.*?</tr>', body, re.S)
    assert 'data-error="points"' not in rows[0] and 'data-error="points"' in rows[1]
    assert row_errors(html) == {}


def test_grades_out_of_order_and_a_missing_date(client_as):
    html = bad(client_as, grade_good="95", valid_from="")
    assert 'data-error="grades"' in html and 'data-error="valid_from"' in html


def test_a_new_row_left_empty_is_ignored_and_an_added_row_counts(client_as):
    indicators = ["dept_on_time_rate", "dept_handle_rate", "dept_rework_rate", "dept_satisfaction_rate",
                  "dept_response_rate", ""]  # fmt: skip
    data = form(item_indicator=indicators, item_weight=["40", "20", "15", "20", "5", ""],
                item_target=["95", "100", "5", "90", "90", ""])  # fmt: skip
    assert client_as("admin").post(EDIT, data).status_code == 302
    v2 = SchemeVersion.objects.get(scheme__code="cjj-department", number=2)
    assert [i["indicator"] for i in v2.body["items"]][-1] == "dept_response_rate"


def test_a_version_may_not_start_inside_a_published_period(client_as):
    admin = User.objects.get(username="admin")
    scheme = Scheme.objects.get(code="cjj-department")
    past = last_month()
    actions.publish_report(actions.compute_report(scheme, past, admin), admin)
    html = bad(client_as, valid_from=(past.end - timedelta(days=3)).isoformat())
    assert 'data-error="valid_from"' in html and past.end.isoformat() in html
    assert client_as("admin").post(EDIT, form(valid_from=(past.end + timedelta(days=1)).isoformat())).status_code == 302


def test_a_period_is_scored_with_the_version_in_force_for_it(new_case, client_as):
    admin = User.objects.get(username="admin")
    v1_body = {
        "items": [{"indicator": "dept_on_time_rate", "weight": 60, "target": 0.9},
                  {"indicator": "dept_handle_rate", "weight": 40, "target": 1}],
        "adjustments": [], "grades": {"excellent": 90, "good": 80, "pass": 60},
    }  # fmt: skip
    scheme = actions.create_scheme("t-versions", "版本测试", "department", v1_body, date(2020, 1, 1), admin)
    past, this = last_month(), current_month()
    for when in (past.since + timedelta(days=2), None):  # a case of last month, one of this month
        case = new_case()
        act(case, "village_dispatcher", "register")
        act(case, "village_dispatcher", "dispatch", departments=["fire"])
        if when:
            Assignment.objects.filter(case=case).update(created_at=when)
    published = actions.publish_report(actions.compute_report(scheme, past, admin), admin)

    response = client_as("admin").post("/evaluation/schemes/t-versions/edit/", {
        "item_indicator": ["dept_response_rate", "dept_resolve_rate"], "item_weight": ["50", "50"],
        "item_target": ["100", "100"], "grade_excellent": "90", "grade_good": "80", "grade_pass": "60",
        "valid_from": this.start.isoformat(), "note": "改为两率",
    })  # fmt: skip
    assert response.status_code == 302
    v1, v2 = scheme.versions.order_by("number")

    again = actions.publish_report(actions.compute_report(scheme, past, admin), admin, reason="复核")
    assert (published.version, again.version, again.revision) == (v1, v1, 2)
    fire = again.rows.get(subject_key="fire", slice_path="")
    assert set(fire.points) == {"dept_on_time_rate", "dept_handle_rate"}  # still v1's items
    live = queries.sheet(admin, scheme, this)
    fire_now = next(r for r in live.rows if r.subject_key == "fire" and r.slice_path == "")
    assert set(fire_now.points) == {"dept_response_rate", "dept_resolve_rate"}  # a new month: v2


def test_a_new_scheme_starts_with_choosing_who_is_evaluated(client_as):
    client = client_as("admin")
    assert b'name="type"' in client.get(NEW).content
    assert client.get(NEW + "?type=nobody").status_code == 400
    html = client.get(NEW + "?type=desk").content.decode()
    template = html.split('id="item-row-template"')[1].split("</template>")[0]
    assert set(re.findall(r'<option value="(\w+)"', template)) == {
        "desk_register_hours", "desk_dispatch_hours", "desk_dispatch_on_time_rate"}  # fmt: skip
    assert 'name="sms_heads"' not in html  # SMS to heads: departments only


def test_creating_a_scheme_and_its_errors(client_as):
    client = client_as("admin")
    data = {"type": "desk", "name": "派遣时效", "code": "Bad Code", "item_indicator": ["desk_dispatch_on_time_rate"],
            "item_weight": ["100"], "item_target": ["90"], "grade_excellent": "90", "grade_good": "80",
            "grade_pass": "60", "valid_from": "2026-01-01"}  # fmt: skip
    response = client.post(NEW, data)
    assert response.status_code == 400 and b'data-error="code"' in response.content
    assert 'value="派遣时效"' in response.content.decode()
    assert client.post(NEW, {**data, "code": "cjj-desk"}).status_code == 400  # taken
    response = client.post(NEW, {**data, "code": "desk-speed"})
    assert response.status_code == 302 and response["Location"] == "/evaluation/schemes/desk-speed/"
    scheme = Scheme.objects.get(code="desk-speed")
    assert scheme.subject_type == "desk" and scheme.versions.get().body["items"] == [
        {"indicator": "desk_dispatch_on_time_rate", "weight": 100, "target": 0.9}]  # fmt: skip
