"""The pickers' endpoints: areas only inside the user's jurisdiction (per role), categories and
matter items by name and pinyin initials; and the forms still check what they receive."""

import pytest
from django.test import Client

from wangge.areas.models import Area
from wangge.core import pinyin

HOUJIE, LIAOBU = "441900122", "441900111"
VILLAGE_A, VILLAGE_B = "441900122002", "441900122003"


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def codes(response):
    return [r["value"] for r in results(response)]


def test_pinyin_initials_and_full_pinyin():
    assert pinyin.keys("垃圾箱") == ("ljx", "lajixiang")
    assert pinyin.rank("ljx", "垃圾箱") is not None
    assert pinyin.rank("lajix", "垃圾箱") is not None
    assert pinyin.rank("垃圾", "垃圾箱") == pinyin.NAME_PREFIX
    assert pinyin.rank("ljz", "垃圾箱") is None
    assert pinyin.best("ljx", ["路灯", "垃圾箱", "垃圾桶"]) == ["垃圾箱"]


@pytest.mark.parametrize(
    "username, roots",
    [
        ("admin", ["441900"]),
        ("city_dispatcher", ["441900"]),
        ("town_dispatcher", [HOUJIE]),
        ("liaobu_dispatcher", [LIAOBU]),
        ("village_dispatcher", [VILLAGE_A]),
        ("grid_manager", [VILLAGE_A + "001"]),
    ],
)
def test_area_tree_starts_at_the_users_jurisdiction(client_as, username, roots):
    assert codes(client_as(username).get("/pick/areas/")) == roots


def test_area_children_only_inside_the_jurisdiction(client_as):
    town = client_as("town_dispatcher")
    villages = results(town.get("/pick/areas/", {"parent": HOUJIE}))
    assert villages and all(v["value"].startswith(HOUJIE) for v in villages)
    assert all(v["children"] for v in villages if v["value"] in (VILLAGE_A, VILLAGE_B))  # their grids
    assert codes(town.get("/pick/areas/", {"parent": LIAOBU})) == []  # another town: nothing
    assert codes(town.get("/pick/areas/", {"parent": "441900"})) == []  # above it: nothing
    assert codes(client_as("grid_manager").get("/pick/areas/", {"parent": VILLAGE_A})) == []


def test_area_search_by_name_pinyin_and_code_is_scoped(client_as):
    liaobu_name = Area.objects.get(code=LIAOBU).name  # 寮步镇
    city = client_as("city_dispatcher")
    assert codes(city.get("/pick/areas/", {"q": liaobu_name}))[0] == LIAOBU
    assert LIAOBU in codes(city.get("/pick/areas/", {"q": "lbz"}))  # pinyin initials
    assert codes(city.get("/pick/areas/", {"q": LIAOBU}))[0] == LIAOBU  # a code
    town = client_as("town_dispatcher")
    for q in (liaobu_name, "lbz", LIAOBU):
        assert not [c for c in codes(town.get("/pick/areas/", {"q": q})) if not c.startswith(HOUJIE)]
    found = results(town.get("/pick/areas/", {"q": Area.objects.get(code=VILLAGE_A + "001").name}))
    grid = next(r for r in found if r["value"] == VILLAGE_A + "001")
    assert Area.objects.get(code=VILLAGE_A).name in grid["hint"]  # grid names repeat: the village tells them apart


def test_area_value_gives_its_label_only_inside_the_jurisdiction(client_as):
    assert results(client_as("town_dispatcher").get("/pick/areas/", {"value": HOUJIE}))[0]["label"] == "厚街镇"
    assert results(client_as("liaobu_dispatcher").get("/pick/areas/", {"value": HOUJIE})) == []


def test_department_handler_sees_the_areas_its_department_serves(client_as, user):
    fire = user("fire_handler").memberships.get().department
    roots = codes(client_as("fire_handler").get("/pick/areas/"))
    assert roots == [fire.area.code]


def test_area_picker_needs_a_login(db):
    assert Client().get("/pick/areas/").status_code == 302


def test_categories_by_pinyin_initials(db):
    """Public: the citizen's report form uses it. "ljx" finds 垃圾箱 (部件 0305)."""
    found = results(Client().get("/pick/categories/", {"q": "ljx"}))
    assert found[0]["value"] == "part:0305"
    assert found[0]["label"].endswith("垃圾箱") and found[0]["hint"] == "部件"
    assert codes(Client().get("/pick/categories/", {"q": "垃圾箱"}))[0] == "part:0305"
    assert results(Client().get("/pick/categories/", {"value": "part:0305"}))[0]["label"] == "市容环境 / 垃圾箱"


def test_category_tree_groups_by_major_class(db):
    majors = results(Client().get("/pick/categories/"))
    assert majors and all(m["children"] and m["pick"] is False for m in majors)
    minors = codes(Client().get("/pick/categories/", {"parent": "part:03"}))
    assert "part:0305" in minors and all(c.startswith("part:03") for c in minors)
    # The queue's filter may pick a major class too.
    assert all(m["pick"] for m in results(Client().get("/pick/categories/", {"major": "1"})))


def test_matter_items_by_pinyin_initials(client_as):
    found = results(client_as("town_dispatcher").get("/pick/matter-items/", {"q": "xftd"}))
    assert [r["value"] for r in found] == ["fire_exit"] and found[0]["label"] == "消防通道堵塞"
    assert Client().get("/pick/matter-items/").status_code == 302


def test_picker_fields_carry_the_endpoint(client_as):
    page = client_as("hotline").get("/cases/new/").content.decode()
    assert 'data-picker="/pick/areas/"' in page
    assert 'data-picker="/pick/categories/"' in page
    assert 'data-picker="/pick/matter-items/"' in page
    queue = client_as("town_dispatcher").get("/cases/").content.decode()
    assert 'data-picker="/pick/areas/"' in queue and 'data-picker="/pick/categories/?major=1"' in queue
    assert "/static/web/picker.js" in queue


def test_staff_form_refuses_an_area_outside_the_jurisdiction(client_as, town_call_taker):
    """The picker offers only the user's areas; a typed code outside them is a field error."""
    response = client_as(town_call_taker).post(
        "/cases/new/",
        {"description": "路灯不亮", "area_code": LIAOBU, "severity": "normal", "channel": "hotline",
         "category": "part:0305"},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "area_code" in errors
    response = client_as(town_call_taker).post(
        "/cases/new/",
        {"description": "路灯不亮", "area_code": VILLAGE_A, "severity": "normal", "channel": "hotline",
         "category": "part:0305"},
    )  # fmt: skip
    assert response.status_code == 302


def test_other_area_filters_use_the_picker(client_as):
    from django.urls import reverse

    for username, url in [
        ("town_dispatcher", reverse("dashboard")),
        ("town_dispatcher", reverse("sensors:list")),
        ("grid_manager", reverse("registry:building_list")),
    ]:
        page = client_as(username).get(url).content.decode()
        assert 'name="area"' in page and 'data-picker="/pick/areas/"' in page, url
