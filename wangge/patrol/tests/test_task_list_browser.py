"""The phone's task list in headless Chromium: each task by its building's name, with its risk class
and checklist by name, due date and distance from the phone; the highest risk class first."""

import pytest

from wangge.patrol import actions
from wangge.registry.models import Building, RentalHouse, RiskClass
from wangge.registry.tests.conftest import new_building

from .conftest import open_field_app

pytestmark = pytest.mark.browser


def test_the_task_list_names_risk_checklist_due_date_and_distance(new_page, user):
    high = new_building(user("admin"), name="高风险测试楼")  # in grid_manager's grid, where the phone is
    Building.objects.filter(pk=high.pk).update(risk_class=RiskClass.HIGH)
    low = new_building(user("admin"), name="低风险测试楼")
    RentalHouse.objects.create(building=low, area=low.area, area_path=low.area_path)
    actions.plan_inspections()
    page = open_field_app(new_page, user)
    page.click("a.tile[href='#tasks']")
    page.wait_for_selector(f"#tasks a[href*='#inspect/building/{high.pk}/']")
    page.wait_for_function("() => document.querySelector('#tasks .task-meta').textContent.includes('米')")
    items = page.locator("#tasks li").all_inner_texts()
    high_text = next(text for text in items if "高风险测试楼" in text)
    assert "三级（高）" in high_text and "楼栋走访及信息采集" in high_text and "距离" in high_text
    assert "building_visit" not in " ".join(items)
    risks = [3 if "三级" in text else 2 if "二级" in text else 1 for text in items]
    assert risks == sorted(risks, reverse=True)  # the highest risk class first
