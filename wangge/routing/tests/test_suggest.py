"""Suggestions: the API's shape and rules, what the model knows of real phrasing, and the pages."""

import pytest

from wangge.routing import dataset, training
from wangge.routing.models import RoutingModel

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/suggest"


def test_suggest_shape_best_first_with_a_department(api_as):
    response = api_as("village_dispatcher").post(URL, {"description": "路边有一大堆生活垃圾没人清理，苍蝇乱飞，臭死了"})
    assert response.status_code == 200, response.content
    body = response.json()
    found = body["suggestions"]
    assert len(found) >= 3
    scores = [s["score"] for s in found]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert set(found[0]) == {
        "category",
        "category_name",
        "matter_item",
        "matter_item_name",
        "department",
        "department_name",
        "score",
    }
    assert found[0]["category"] == "event:0102" and found[0]["category_name"] == "暴露垃圾"
    assert found[0]["matter_item"] == "exposed_garbage" and found[0]["department"] == "city_management"
    assert body["model_version"] == RoutingModel.objects.get(status="active").version


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("楼上邻居家天天半夜拖椅子蹦迪，说了好几次都不听", {"item:noise_residential", "item:dispute_neighbor"}),
        ("工厂老板拖欠我们三个月工资不发，几十个工友", {"item:dispute_labor"}),
        ("马路边上的井盖被人偷走了，剩个窟窿", {"part:0114"}),
        ("楼道里有人给电动车飞线充电", {"item:fire_safety"}),
    ],
)
def test_matter_items_beyond_the_taxonomy_and_parts_are_recognised(api_as, text, expected):
    found = api_as("town_dispatcher").post(URL, {"description": text}).json()["suggestions"]
    labels = {s["category"] or f"item:{s['matter_item']}" for s in found[:3]}
    assert labels & expected, (text, found[:3])


def test_a_grid_matter_without_a_category_names_its_item_and_department(api_as):
    found = api_as("town_dispatcher").post(URL, {"description": "工厂老板拖欠我们三个月工资不发"}).json()["suggestions"]
    top = found[0]
    assert top["category"] is None and top["matter_item"] == "dispute_labor"
    assert top["department"] == "human_resources" and top["department_name"] == "人力资源和社会保障局"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "井盖" * 1001}, "description"),
        ({"description": "井盖没了", "lat": 91, "lng": 113.7}, "lat"),
        ({"description": "井盖没了", "lat": 22.9}, "lng"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_as, body, field):
    response = api_as("village_dispatcher").post(URL, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_staff_only(api_as):
    assert api_as(None).post(URL, {"description": "井盖没了"}).status_code == 401
    assert api_as("citizen").post(URL, {"description": "井盖没了"}).status_code == 403
    assert api_as("landlord").post(URL, {"description": "井盖没了"}).status_code == 403
    assert api_as("fire_handler").post(URL, {"description": "井盖没了"}).status_code == 200


def test_the_evaluation_set_is_never_trained_on():
    training_texts = {e.text.strip() for e in dataset.shipped_examples()}
    held_out = [e.text.strip() for e in dataset.evaluation_examples()]
    assert held_out and not training_texts & set(held_out)


def test_every_label_has_examples_and_a_known_department():
    from wangge.accounts.seed import DEFAULT_DEPARTMENTS
    from wangge.cases.models import Category, MatterItem

    labels = {e.label for e in dataset.shipped_examples()}
    categories = {f"{c.kind}:{c.code}" for c in Category.objects.filter(parent__isnull=False)}
    assert categories - set(dataset.ALIASES) <= labels  # every class of the taxonomy
    items = {f"item:{m.code}" for m in MatterItem.objects.filter(category__isnull=True)}
    assert items <= labels  # and every grid matter the taxonomy lacks
    departments = dataset.shipped_departments()
    assert labels <= set(departments)
    assert set(departments.values()) <= {code for code, _name in DEFAULT_DEPARTMENTS}


def test_the_shipped_model_meets_the_goal_on_the_evaluation_set():
    metrics = training.shipped_metrics()
    assert metrics["examples"] >= 500
    assert metrics["top1"] >= 0.75 and metrics["top3"] >= 0.90, metrics


def test_entry_form_suggestion_box(client_as):
    client = client_as("hotline")
    page = client.get("/hotline/").content.decode()
    assert 'id="route-suggest"' in page and "routing/suggest.js" in page
    box = client.post("/routing/suggest/", {"description": "路边的垃圾桶坏了，盖子都没了"}).content.decode()
    assert "垃圾桶" in box
    assert "data-route-category=" in box and "点击采用" in box
    assert client_as("citizen").post("/routing/suggest/", {"description": "垃圾"}).status_code == 403
    public = client_as("citizen").get("/report/").content.decode()
    assert 'id="route-suggest"' not in public
