"""The evaluation API: per-role visibility of report rows, the cases behind a figure (count = figure),
computing and publishing (409 the second time), appeals, and bad input naming its field."""

import pytest

from wangge.accounts.models import User
from wangge.areas.models import Area
from wangge.cases.tests.conftest import VILLAGE_A_GRID
from wangge.evaluation import actions
from wangge.evaluation.models import Appeal, Report, ReportStatus, Scheme
from wangge.evaluation.period import current_month

from .trail import fire_cases, last_month

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/evaluation/reports"
HOUJIE = "441900/441900122/"


def reports(api, subject_type="department", period=None, **params):
    return api.get(REPORTS, period=period or last_month().key, subject_type=subject_type, **params)


def rows_of(response, scheme=None):
    assert response.status_code == 200, response.content
    found = [r for r in response.json() if scheme is None or r["scheme"]["code"] == scheme]
    return [row for report in found for row in report["rows"]]


def draft(code="cjj-department"):
    return actions.compute_report(Scheme.objects.get(code=code), last_month())


def test_schemes_list_versions_items_and_grades(api_as):
    response = api_as("town_dispatcher").get("/api/v1/evaluation/schemes")
    assert response.status_code == 200
    schemes = {s["code"]: s for s in response.json()}
    cjj = schemes["cjj-department"]
    assert cjj["subject_type"]["code"] == "department" and cjj["subject_type"]["label"]
    version = cjj["current_version"]
    assert version["number"] == 1 and sum(i["weight"] for i in version["items"]) == 100
    item = next(i for i in version["items"] if i["indicator"] == "dept_on_time_rate")
    assert item["target"] == 0.95 and item["kind"] == "rate" and item["definition"] and item["name"]
    assert {g["code"] for g in version["grades"]} == {"excellent", "good", "pass", "fail"}
    assert {a["indicator"] for a in version["adjustments"]} == {"dept_overdue", "dept_returns_overruled"}
    assert "three-rates-area" in schemes


@pytest.mark.parametrize(
    ("username", "status"), [("citizen", 403), ("landlord", 403), (None, 401), ("fire_handler", 200)]
)
def test_who_may_read(api_as, username, status):
    assert api_as(username).get("/api/v1/evaluation/schemes").status_code == status
    assert reports(api_as(username)).status_code == status
    assert api_as(username).get("/api/v1/evaluation/appeals").status_code == status


def test_live_rows_per_role(api_as, new_case):
    fire_cases(new_case)
    admin = rows_of(reports(api_as("admin")), "cjj-department")
    assert {r["slice"] for r in admin} == {""} and {"fire", "housing"} <= {r["subject"]["key"] for r in admin}
    fire = rows_of(reports(api_as("fire_handler")))
    assert {r["subject"]["key"] for r in fire} == {"fire"} and {r["slice"] for r in fire} == {""}
    assert len(fire) == 2  # one row per department scheme
    # A town's leader: the departments' work in Houjie, and Houjie's areas.
    leader = rows_of(reports(api_as("leader")))
    assert leader and {r["slice"] for r in leader} == {HOUJIE}
    assert "fire" in {r["subject"]["key"] for r in leader}
    areas = rows_of(reports(api_as("leader"), "area"))
    codes = {r["subject"]["key"] for r in areas}
    assert "441900122" in codes and VILLAGE_A_GRID in codes
    houjie_paths = set(Area.objects.filter(path__startswith=HOUJIE).values_list("code", flat=True))
    assert codes <= houjie_paths
    # Liaobu's dispatcher sees nothing of Houjie.
    liaobu = rows_of(reports(api_as("liaobu_dispatcher")))
    assert all(r["slice"] != HOUJIE for r in liaobu)
    assert not {r["subject"]["key"] for r in rows_of(reports(api_as("liaobu_dispatcher"), "area"))} & codes
    # A grid manager: their own row only.
    me = User.objects.get(username="grid_manager")
    mine = rows_of(reports(api_as("grid_manager"), "grid_manager"))
    assert [r["subject"]["key"] for r in mine] == [str(me.pk)]
    assert rows_of(reports(api_as("fire_handler"), "grid_manager")) == []


def test_state_live_then_draft_then_published(api_as, new_case, user):
    fire_cases(new_case)
    api = api_as("city_dispatcher")
    one = reports(api, scheme="cjj-department").json()[0]
    assert one["state"] == "live" and one["report"] is None and one["revision"] is None
    report = draft()
    one = reports(api, scheme="cjj-department").json()[0]
    assert one["state"] == "draft" and one["report"] == report.pk
    actions.publish_report(report, user("admin"))
    one = reports(api, scheme="cjj-department").json()[0]
    assert one["state"] == "published" and one["revision"] == 1
    fire = next(r for r in one["rows"] if r["subject"]["key"] == "fire")
    assert fire["measures"]["due"] == 2 and fire["grade"] and fire["grade_label"] and fire["rank"]
    assert fire["indicators"]["dept_handle_rate"] == 0.5


@pytest.mark.parametrize("stored", [False, True])
def test_each_figure_lists_exactly_its_cases(api_as, new_case, user, stored):
    cases = fire_cases(new_case, done=2, waiting=1)
    if stored:
        actions.publish_report(draft(), user("admin"))
    for username in ("fire_handler", "admin", "leader"):
        api = api_as(username)
        row = next(r for r in rows_of(reports(api, scheme="cjj-department")) if r["subject"]["key"] == "fire")
        report = reports(api, scheme="cjj-department").json()[0]
        for measure in (m["code"] for m in report["measures"] if m["links_cases"]):
            listed = api.client.get(row["cases_url"] + measure, headers=api.headers)
            assert listed.status_code == 200, listed.content
            assert listed.json()["count"] == row["measures"][measure], (username, measure)
        due = api.client.get(row["cases_url"] + "due", headers=api.headers).json()
        assert sorted(c["id"] for c in due["items"]) == sorted(c.pk for c in cases)
        assert set(due["items"][0]) == {"id", "number", "status", "created_at"}


def test_cases_of_a_row_one_may_not_see_is_404(api_as, new_case):
    fire_cases(new_case)
    params = {"scheme": "cjj-department", "period": last_month().key, "key": "housing", "measure": "due"}
    assert api_as("fire_handler").get("/api/v1/evaluation/cases", **params).status_code == 404
    assert api_as("admin").get("/api/v1/evaluation/cases", **params).status_code == 200
    bad = api_as("admin").get("/api/v1/evaluation/cases", **{**params, "measure": "satisfaction_points"})
    assert bad.status_code == 400 and "measure" in bad.json()["errors"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "yesterday"}, "period"),
        ({"subject_type": "foo"}, "subject_type"),
        ({"scheme": "cjj-area"}, "scheme"),  # an area scheme, asked for departments
        ({"slice": "houjie"}, "slice"),
    ],
)
def test_bad_report_queries_name_the_field(api_as, params, field):
    query = {"period": "2026-11", "subject_type": "department", **params}
    response = api_as("admin").get(REPORTS, **query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_missing_parameter_is_422(api_as):
    response = api_as("admin").get(REPORTS, subject_type="department")
    assert response.status_code == 422 and "period" in str(response.json()["detail"])


def test_compute_queues_a_draft_then_publish_twice_is_409(
    api_as, new_case, huey_immediate, django_capture_on_commit_callbacks
):
    fire_cases(new_case)
    api = api_as("city_dispatcher")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(REPORTS, {"scheme": "cjj-department", "period": last_month().key})
    assert response.status_code == 202, response.content
    assert response.json()["task"] and response.json()["period"] == last_month().key
    report = Report.objects.get(scheme__code="cjj-department", period_key=last_month().key)
    assert report.status == ReportStatus.DRAFT and report.computed_by.username == "city_dispatcher"
    publish = f"{REPORTS}/{report.pk}/publish"
    assert api_as("town_dispatcher").post(publish).status_code == 403
    first = api.post(publish)
    assert first.status_code == 200, first.content
    assert first.json()["revision"] == 1 and first.json()["state"] == "published"
    second = api_as("admin").post(publish, {"reason": "再发一次"})
    assert second.status_code == 409 and second.json()["detail"]
    assert api.post(f"{REPORTS}/999999/publish").status_code == 404
    # A new draft of a published period is published again only with a reason: revision 2.
    again = draft()
    refused = api.post(f"{REPORTS}/{again.pk}/publish")
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    assert api.post(f"{REPORTS}/{again.pk}/publish", {"reason": "申诉后重算"}).json()["revision"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": current_month().key}, "period"),  # not ended
        ({"period": "2026-13"}, "period"),
        ({"scheme": "nope"}, "scheme"),
        ({"scheme": "bad code!"}, "scheme"),
    ],
)
def test_compute_refuses_bad_input(api_as, body, field):
    response = api_as("admin").post(REPORTS, {"scheme": "cjj-department", "period": last_month().key, **body})
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize("username", ["town_dispatcher", "leader", "fire_handler", "grid_manager"])
def test_only_publishers_compute(api_as, username):
    response = api_as(username).post(REPORTS, {"scheme": "cjj-department", "period": last_month().key})
    assert response.status_code == 403


def test_appeal_through_the_api_moves_the_draft(api_as, new_case, photo_of, user, settings):
    settings.EVALUATION_APPEAL_DAYS = 40  # whatever today's date, last month is still open to appeals
    cases = fire_cases(new_case, done=1, waiting=1)
    draft()
    handler = api_as("fire_handler")
    body = {
        "subject_type": "department",
        "subject_key": "fire",
        "case": cases[1].pk,
        "period": last_month().key,
        "reason": "派错部门,应由住建处理",
        "photo_ids": [photo_of(user("fire_handler"))],
    }
    filed = handler.post("/api/v1/evaluation/appeals", body)
    assert filed.status_code == 201, filed.content
    appeal = filed.json()
    assert appeal["status"] == "pending" and appeal["mine"] and not appeal["may_decide"]
    assert appeal["subject"]["key"] == "fire" and appeal["case"] == cases[1].pk
    again = handler.post("/api/v1/evaluation/appeals", {**body, "photo_ids": []})
    assert again.status_code == 400 and "case" in again.json()["errors"]
    mine = handler.get("/api/v1/evaluation/appeals", which="mine").json()
    assert [a["id"] for a in mine["items"]] == [appeal["id"]]
    dispatcher = api_as("village_dispatcher")
    to_decide = dispatcher.get("/api/v1/evaluation/appeals", which="to_decide").json()
    assert [a["id"] for a in to_decide["items"]] == [appeal["id"]] and to_decide["items"][0]["may_decide"]
    assert api_as("liaobu_dispatcher").get("/api/v1/evaluation/appeals").json()["count"] == 0
    decision = f"/api/v1/evaluation/appeals/{appeal['id']}/decision"
    assert handler.post(decision, {"accept": True, "note": "自己批"}).status_code == 403
    assert api_as("liaobu_dispatcher").post(decision, {"accept": True, "note": "x"}).status_code == 404
    no_note = dispatcher.post(decision, {"accept": True})
    assert no_note.status_code == 400 and "note" in no_note.json()["errors"]
    decided = dispatcher.post(decision, {"accept": True, "note": "核实派错"})
    assert decided.status_code == 200 and decided.json()["status"] == "accepted"
    assert dispatcher.post(decision, {"accept": False, "note": "改主意"}).status_code == 409
    row = next(r for r in draft().rows.all() if r.subject_key == "fire" and not r.slice_path)
    assert row.measures["due"] == 1  # the appealed case left the department's figures
    assert Appeal.objects.get(pk=appeal["id"]).case.events.filter(action="appeal_decision").exists()


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"period": "2026-13"}, "period", 400),
        ({"subject_type": "area"}, "subject_type", 400),
        ({"subject_type": "foo"}, "subject_type", 400),
        ({"reason": " "}, "reason", 400),
        ({"subject_key": "housing"}, None, 403),  # not the filer's department
    ],
)
def test_bad_appeals(api_as, new_case, settings, change, field, status):
    settings.EVALUATION_APPEAL_DAYS = 40
    cases = fire_cases(new_case, done=0, waiting=1)
    body = {"subject_type": "department", "subject_key": "fire", "case": cases[0].pk,
            "period": last_month().key, "reason": "不是我们的", **change}  # fmt: skip
    response = api_as("fire_handler").post("/api/v1/evaluation/appeals", body)
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["errors"]


def test_an_appeal_on_a_case_not_counted_names_the_case(api_as, new_case, settings):
    settings.EVALUATION_APPEAL_DAYS = 40
    fire_cases(new_case, done=0, waiting=1)
    other = new_case()  # reported last month? no: this month, never dispatched to fire
    body = {"subject_type": "department", "subject_key": "fire", "case": other.pk,
            "period": last_month().key, "reason": "不是我们的"}  # fmt: skip
    response = api_as("fire_handler").post("/api/v1/evaluation/appeals", body)
    assert response.status_code == 400 and "case" in response.json()["errors"]


def test_no_schema_of_the_evaluation_shares_a_name():
    """The OpenAPI names a schema by its class name: two classes of one name (say two routers'
    ItemOut) would show one shape for both, and clients and the fuzz test would check the wrong one.
    (Checked for the evaluation's schemas; the rest of the API has one such pair today, ResidentOut
    of registry and patrol.)"""
    from pydantic import BaseModel

    from wangge.api import api

    seen: dict[str, type] = {}
    clashes = []

    def walk(model, named=True):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            for arg in getattr(model, "__args__", ()) or ():
                walk(arg)
            return
        if named and seen.setdefault(model.__name__, model) is not model:
            clashes.append({model.__module__, seen[model.__name__].__module__})
        for field in model.model_fields.values():
            walk(field.annotation)

    for mounted in api._get_bound_routers():
        for view in mounted.path_operations.values():
            for operation in view.operations:
                for params in operation.models:  # ninja's own per-operation models (BodyParams, ...)
                    walk(params, named=False)
                for response in operation.response_models.values():
                    if hasattr(response, "model_fields"):  # ninja's wrapper of the declared type
                        walk(response.model_fields["response"].annotation)
    assert "EvaluationReportOut" in seen
    assert not [c for c in clashes if any(m.startswith("wangge.evaluation") for m in c)], clashes
