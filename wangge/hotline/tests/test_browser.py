"""The whole desk path with the keyboard only (page.keyboard): the number brings the caller's
earlier case, the place is found by its standard address, saving offers the open case there, Alt+L
links the caller to it; then a consultation answered on the spot."""

import pytest

from wangge.accounts.models import User
from wangge.areas.models import Area
from wangge.browser_testing import SCREENSHOTS, log_in
from wangge.cases.models import Case, Outcome, Status
from wangge.hotline import actions
from wangge.hotline.models import CaseCaller
from wangge.registry.actions import save_address

pytestmark = pytest.mark.browser
CALLER = "13912340001"


def test_the_desk_with_the_keyboard_only(new_page):
    grid = Area.objects.get(code="441900122002001")
    lat, lng = grid.centroid_lat, grid.centroid_lng
    save_address(User.objects.get(username="admin"), {"full_text": "厚街镇振兴路8号", "lat": lat, "lng": lng})
    operator = User.objects.get(username="hotline")
    # The caller's earlier call (answered on the spot), and a neighbour's open case at the address.
    question = actions.Call(phone=CALLER, description="上月咨询：垃圾清运时间", kind="consultation", answer="早上七点")
    earlier = actions.file_call(operator, question)
    there = actions.file_call(operator, actions.Call(phone="13600001111", description="垃圾未清运", lat=lat, lng=lng))
    page = new_page({"width": 1400, "height": 1000})
    log_in(page, "hotline")
    page.goto(page.base_url + "/hotline/")
    page.wait_for_selector("#pickmap[data-loaded]")
    keys = page.keyboard
    keys.type(CALLER)  # the number has the focus (autofocus)
    page.wait_for_selector("#history-table")
    assert earlier.number in page.text_content("#caller-history")
    keys.press("Enter")  # on to the caller's name
    keys.type("王女士")
    keys.press("Alt+2")
    keys.type("振兴路8号门口垃圾堆积发臭")
    keys.press("Alt+3")
    keys.type("振兴路8号")
    keys.press("Enter")
    page.wait_for_selector(".place-hit")
    keys.press("ArrowDown")
    keys.press("Enter")  # picks the address: the open cases near it appear
    page.wait_for_selector("#nearby-list")
    keys.press("Alt+s")
    page.wait_for_selector(".message.warning")  # saving first offers the case already filed there
    page.wait_for_selector("#history-table")
    page.screenshot(path=str(SCREENSHOTS / "hotline-desk.png"), full_page=True)
    keys.press("Alt+l")
    page.wait_for_selector(".message.success")
    assert CaseCaller.objects.filter(case=there, name="王女士").exists()
    assert Case.objects.count() == 2

    # A consultation: the kind is chosen with the arrow keys, the answer typed, saved: closed.
    assert page.evaluate("document.activeElement.name") == "reporter_phone"
    keys.type("13700005555")
    keys.press("Enter")
    keys.type("李先生")
    keys.press("Tab")  # the kind of call
    keys.press("ArrowDown")  # consultation
    keys.press("Tab")
    keys.type("咨询居住证办理需要什么材料")
    keys.press("Tab")
    keys.type("携带身份证和租赁合同到社区服务中心办理")
    keys.press("Alt+s")
    page.wait_for_selector(".message.success")
    answered = Case.objects.get(description__startswith="咨询居住证")
    assert answered.status == Status.CLOSED and answered.outcome == Outcome.ANSWERED
