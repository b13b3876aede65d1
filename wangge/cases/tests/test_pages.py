"""Case pages: queue with counts, case page with exactly the allowed actions, htmx actions with a
conflict message, staff intake, and the citizen's report / track / rate pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from wangge.cases.models import Case, Status

from .conftest import VILLAGE_B_GRID, act, jpeg_bytes, point_in

pytestmark = pytest.mark.django_db


def test_queue_counts_and_jurisdiction(client_as, new_case):
    mine = new_case()
    theirs = new_case(reporter="grid_manager2", grid=VILLAGE_B_GRID)
    page = client_as("village_dispatcher").get("/cases/")
    assert page.status_code == 200
    html = page.content.decode()
    assert mine.number in html and theirs.number not in html
    town = client_as("town_dispatcher").get("/cases/?status=reported").content.decode()
    assert mine.number in town and theirs.number in town
    filtered = client_as("town_dispatcher").get("/cases/?status=open&area=441900122003").content.decode()
    assert theirs.number in filtered and mine.number not in filtered
    assert client_as("village_dispatcher").get(f"/cases/{theirs.pk}/").status_code == 404


def test_finished_means_closed_a_rejected_case_never_is(client_as, api_as, new_case):
    """What the dashboards' closure rate counts as finished: closed only (status=finished, kept for
    links and API clients, lists exactly the closed tab; there is no tab of its own)."""
    closed, rejected, still_open = new_case(), new_case(), new_case()
    Case.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    Case.objects.filter(pk=rejected.pk).update(status=Status.REJECTED)
    page = client_as("village_dispatcher").get("/cases/?status=finished")
    html = page.content.decode()
    assert closed.number in html and rejected.number not in html and still_open.number not in html
    assert "finished" not in [t[0] for t in page.context["tabs"]]
    listed = api_as("village_dispatcher").get("/api/v1/cases", status="finished").json()["items"]
    assert {c["id"] for c in listed} == {closed.pk}


def test_case_page_shows_exactly_the_allowed_actions(client_as, new_case):
    case = new_case()
    dispatcher = client_as("village_dispatcher").get(f"/cases/{case.pk}/").content.decode()
    for action in ["register", "reject", "dispatch", "escalate", "close", "merge"]:
        assert f'data-action="{action}"' in dispatcher
    assert 'data-action="handle_on_site"' not in dispatcher
    manager = client_as("grid_manager").get(f"/cases/{case.pk}/").content.decode()
    assert 'data-action="handle_on_site"' in manager and 'data-action="dispatch"' not in manager


def test_htmx_action_and_a_conflict_message(client_as, new_case):
    case = new_case()
    first, second = client_as("village_dispatcher"), client_as("town_dispatcher")
    hx = {"HX-Request": "true"}
    ok = first.post(f"/cases/{case.pk}/act/", {"action": "dispatch", "version": 1, "departments": ["fire"]}, headers=hx)
    assert ok.status_code == 200 and 'data-status="handling"' in ok.content.decode()
    late = second.post(f"/cases/{case.pk}/act/", {"action": "reject", "version": 1, "note": "重复"}, headers=hx)
    assert late.status_code == 409
    assert "Reload" in late.content.decode() or "重新" in late.content.decode()
    case.refresh_from_db()
    assert case.status == Status.HANDLING


def test_on_site_handling_with_a_photo_from_the_page(client_as, new_case):
    case = new_case()
    response = client_as("grid_manager").post(
        f"/cases/{case.pk}/act/",
        {
            "action": "handle_on_site",
            "version": 1,
            "note": "已处理",
            "photo": SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"),
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    photo = case.photos.get()
    assert client_as("grid_manager").get(f"/cases/photos/{photo.token}-thumb.jpg").status_code == 200
    assert client_as("grid_manager2").get(f"/cases/photos/{photo.token}.jpg").status_code == 404


def test_staff_intake_by_area_code(client_as, town_call_taker):
    lat, lng = point_in("441900122002001")
    response = client_as(town_call_taker).post(
        "/cases/new/",
        {
            "description": "热线反映噪音",
            "channel": "hotline",
            "area_code": "441900122002",
            "severity": "normal",
            "matter_item": "business_noise",
            "reporter_phone": "13800138000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(description="热线反映噪音")
    assert case.area.code == "441900122002" and case.channel == "hotline"
    refused = client_as(town_call_taker).post(
        "/cases/new/", {"description": "越界", "channel": "hotline", "area_code": "441900111", "severity": "normal"}
    )
    assert refused.status_code == 200 and not Case.objects.filter(description="越界").exists()


def test_citizen_reports_follows_and_rates(new_case, user):
    citizen = Client()
    assert "消防" in citizen.get("/report/").content.decode() or citizen.get("/report/").status_code == 200
    lat, lng = point_in("441900122002001")
    response = citizen.post(
        "/report/",
        {
            "description": "楼道堆放杂物堵塞消防通道",
            "lat": lat,
            "lng": lng,
            "reporter_phone": "13700001234",
            "photo": SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"),
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(description="楼道堆放杂物堵塞消防通道")
    assert response["Location"] == f"/track/{case.tracking_number}/"
    page = citizen.get(response["Location"]).content.decode()
    assert case.tracking_number in page and "13700001234" not in page
    act(case, "village_dispatcher", "close", outcome="not_responsible", note="属于物业管理")
    page = citizen.get(response["Location"]).content.decode()
    assert 'name="satisfaction"' in page
    citizen.post(response["Location"], {"satisfaction": "5", "comment": "很快"})
    case.refresh_from_db()
    assert case.satisfaction == 5
    # The same form sent twice (its idempotency key) is one case.
    form = {"description": "路灯不亮", "lat": lat, "lng": lng, "reporter_phone": "13700001234", "idempotency_key": "k1"}
    assert citizen.post("/report/", form)["Location"] == citizen.post("/report/", form)["Location"]
    assert Case.objects.filter(description="路灯不亮").count() == 1
    outside = citizen.post(
        "/report/", {"description": "香港", "lat": 22.3, "lng": 114.17, "reporter_phone": "13700001234"}
    )
    assert outside.status_code == 200 and not Case.objects.filter(description="香港").exists()
    assert citizen.get("/track/?tracking_number=ZZZZ", follow=True).status_code == 404
    assert citizen.get("/cases/").status_code == 302  # staff pages need a login


def test_department_queue(client_as, new_case):
    case = new_case()
    act(case, "village_dispatcher", "dispatch", departments=["fire"])
    page = client_as("fire_handler").get("/cases/department/").content.decode()
    assert case.number in page


def test_the_timeline_names_roles_as_users_call_them(client_as, new_case):
    case = new_case()
    act(case, "village_dispatcher", "register")
    page = client_as("village_dispatcher").get(f"/cases/{case.pk}/").content.decode()
    assert "(village_dispatcher)" not in page and "(grid_manager)" not in page
    from django.utils import translation

    from wangge.accounts.models import Role

    with translation.override("zh-hans"):
        label = str(Role.VILLAGE_DISPATCHER.label)
    assert f"({label})" in page
