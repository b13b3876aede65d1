"""Words that changed meaning in translation (issue #15): the same English word is a case action in
one place and something else in another, so those places carry a translation context."""

import re

import pytest

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_language_menu_names_each_language_in_itself(client):
    html = client.get("/login/").content.decode()
    assert re.search(r'<option value="zh-hans"[^>]*>简体中文</option>', html), html
    assert re.search(r'<option value="en"[^>]*>English</option>', html)


def test_registering_residents_is_dengji_not_lian(client_as):
    """立案 is taking a case up; registering a resident, and the registers, are 登记."""
    registers = client_as("admin").get("/registry/").content.decode()
    assert "<th>登记</th>" in registers and "立案" not in registers
    app = client_as("grid_manager").get("/patrol/m/").content.decode()
    assert re.search(r'<button type="submit" class="big primary">登记</button>', app) and "立案" not in app


def test_open_cases_are_weibanjie_and_the_tree_opens(client_as):
    leader = client_as("leader")
    assert "展开" not in text(leader.get("/stats/")) and "未办结" in text(leader.get("/stats/"))
    tree = leader.get("/areas/441900122/children/").content.decode()
    assert 'aria-label="展开"' in tree and "未办结" not in tree


def test_closure_card_counts_cases(client_as):
    assert re.search(r"\d+ 件已办结（应办结 \d+ 件）", text(client_as("leader").get("/stats/")))


def test_recurring_spots_page_names_no_settings(client_as):
    body = text(client_as("city_dispatcher").get("/command/spots/"))
    assert "未诉先办" in body and "WANGGE_" not in body and "SPOT" not in body


def test_inspection_rules_name_their_checklists(client_as):
    from wangge.patrol.models import InspectionRule

    body = text(client_as("admin").get("/admin/patrol/inspectionrule/"))
    codes = set(InspectionRule.objects.values_list("checklist_code", flat=True))
    assert codes and not [code for code in codes if code in body], body
    rule = InspectionRule.objects.filter(checklist_code="building_visit").first()
    assert "building_visit" not in str(rule) and "每" in str(rule)
