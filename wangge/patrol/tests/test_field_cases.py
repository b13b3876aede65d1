"""The grid manager's cases for the phone: their grids' open cases, those waiting for them first,
with the actions the phone offers and the photos' addresses."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.cases import actions
from wangge.cases.photos import store_photo
from wangge.cases.tests.conftest import VILLAGE_A_GRID, VILLAGE_B_GRID, act, jpeg_bytes, point_in

pytestmark = pytest.mark.django_db


def report(user, description, grid=VILLAGE_A_GRID):
    lat, lng = point_in(grid)
    reporter = user("grid_manager")
    photo = store_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"), user=reporter)
    report = actions.Report(description=description, channel="grid_manager", lat=lat, lng=lng, photo_ids=[photo.pk])
    return actions.report_case(report, reporter)[0]


def test_to_verify_first_then_new_then_with_departments(api_as, user):
    new = report(user, "井盖松动")
    handling = report(user, "占道经营")
    act(handling, "village_dispatcher", "dispatch", departments=["fire"])
    verifying = report(user, "消防通道堵塞")
    act(verifying, "village_dispatcher", "dispatch", departments=["fire"])
    act(verifying, "fire_handler", "accept")
    act(verifying, "fire_handler", "feedback", note="已清理")
    closed = report(user, "已结案的")
    proof = store_photo(SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"), user=user("grid_manager"))
    act(closed, "grid_manager", "handle_on_site", photo_ids=[proof.pk])
    report(user, "隔壁村的", grid=VILLAGE_B_GRID)

    cases = api_as("grid_manager").get("/api/v1/patrol/cases").json()
    assert [(c["description"], c["actions"]) for c in cases] == [
        ("消防通道堵塞", ["verify_pass", "verify_fail"]),
        ("井盖松动", ["handle_on_site"]),
        ("占道经营", []),
    ]
    first = cases[0]
    assert first["status_label"] == "待核查" and first["feedback"] == "已清理"
    verifying.refresh_from_db()
    assert first["number"] == verifying.number and first["version"] == verifying.version
    photo = first["photos"][0]
    assert photo["thumbnail"].endswith("-thumb.jpg")
    assert api_as("grid_manager").client.get(photo["thumbnail"]).status_code == 302  # a token alone is no login
    # Only their own grids: grid_manager2 sees the other village's case, a dispatcher has no grid.
    assert [c["description"] for c in api_as("grid_manager2").get("/api/v1/patrol/cases").json()] == ["隔壁村的"]
    assert api_as("village_dispatcher").get("/api/v1/patrol/cases").json() == []
    assert new.pk in {c["id"] for c in cases}


def test_the_app_says_case_actions_and_times_in_chinese(client_as):
    page = client_as("grid_manager").get("/patrol/m/").content.decode()
    texts = json.loads(page.split('id="app-text" type="application/json">')[1].split("<")[0])
    config = json.loads(page.split('id="app-config" type="application/json">')[1].split("<")[0])
    assert config["locale"] == "zh-CN" and config["timeZone"] == "Asia/Shanghai"
    assert config["caseStatuses"]["closed"] == "已结案"
    assert texts["cases"]["actions"] == {
        "verify_pass": "核查通过",
        "verify_fail": "核查不通过",
        "handle_on_site": "现场处置",
    }
    assert texts["outbox"]["caseAction"] == "案件 %(number)s：%(action)s"
    assert texts["outbox"]["inspectionWith"] == "巡查：%(target)s（%(checklist)s）"
    for text in ("待核查", "核查不通过：退回部门返工", "部门处置中", "返回网格案件"):
        assert text in page
    assert "To verify" not in page and "With the departments" not in page
