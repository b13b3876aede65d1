"""The pages: the dispatcher's form from a case and for a campaign, the summons' page with its live
board and the arrival button, closing; per role; all in Chinese."""

import re

import pytest
from django.test import Client
from django.utils import translation

from wangge.accounts.models import User
from wangge.summons.models import Arrival, Attendance, Summons
from wangge.web.tests.test_i18n_walk import ALLOWED_WORDS, VisibleText, problems_in

from .conftest import north

pytestmark = pytest.mark.django_db


def english_in(html):
    parser = VisibleText()
    parser.feed(html)
    allowed = ALLOWED_WORDS | {u.lower() for u in User.objects.values_list("username", flat=True)}
    return problems_in(" ".join(parser.parts + parser.texts), allowed)


def test_summoning_from_a_case_page(client_as, new_case):
    case = new_case()
    client = client_as("village_dispatcher")
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/summons/new/?case={case.pk}"' in page
    form = client.get(f"/summons/new/?case={case.pk}")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'value="fire"' in html and 'name="minutes" min="1" step="1" value="120"' in html
    assert not english_in(html)
    response = client.post(
        "/summons/new/",
        {"case": case.pk, "departments": ["fire"], "lat": case.lat, "lng": case.lng, "minutes": "30"},
    )
    summons = Summons.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/summons/{summons.pk}/"
    assert summons.case == case and summons.departments.get().department.code == "fire"
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/summons/{summons.pk}/"' in page and "现场报到" not in page
    # Another town's dispatcher: neither the case's form nor the summons.
    other = client_as("liaobu_dispatcher")
    assert other.get(f"/summons/new/?case={case.pk}").status_code == 404
    assert other.get(f"/summons/{summons.pk}/").status_code == 404


def test_a_campaign_without_a_case_and_its_errors(client_as, place):
    client = client_as("town_dispatcher")
    html = client.get("/summons/new/").content.decode()
    assert 'id="pickmap"' in html and not english_in(html)
    bad = client.post("/summons/new/", {"reason": "", "lat": "", "lng": ""})
    text = bad.content.decode()
    assert bad.status_code == 400 and "请至少选择一个部门。" in text
    assert "请在地图上选择地点。" in text and "请说明召集部门的事由。" in text and not Summons.objects.exists()
    lat, lng = place
    ok = client.post("/summons/new/", {"reason": "防汛检查", "departments": ["fire"], "lat": lat, "lng": lng})
    assert ok.status_code == 302 and Summons.objects.get().reason == "防汛检查"
    assert client_as("grid_manager").get("/summons/new/").status_code == 403
    assert client_as("fire_handler").get("/summons/new/").status_code == 403


def test_the_phone_reports_and_the_board_shows_it_live(client_as, summon, place, clock):
    summons = summon(minutes=30)
    fire = client_as("fire_handler")
    page = fire.get(f"/summons/{summons.pk}/").content.decode()
    assert 'id="arrive-form"' in page and "arrive.js" in page
    assert f'hx-get="/summons/{summons.pk}/board/" hx-trigger="every 10s"' in page
    assert not english_in(page)
    clock.shift(minutes=5)
    lat, lng = north(*place, 2000)
    fire.post(f"/summons/{summons.pk}/arrive/", {"lat": lat, "lng": lng, "accuracy": "9"})
    board = fire.get(f"/summons/{summons.pk}/board/").content.decode()
    assert 'data-flag="too_far"' in board and "距离过远" in board and 'data-state="waiting"' in board
    clock.shift(minutes=30)  # past the deadline and still not there: late, live
    board = client_as("village_dispatcher").get(f"/summons/{summons.pk}/board/").content.decode()
    assert 'data-state="overdue"' in board and "已超时未到" in board and not english_in(board)
    fire.post(f"/summons/{summons.pk}/arrive/", {"lat": place[0], "lng": place[1], "accuracy": "9"})
    assert summons.departments.get().state == Attendance.LATE
    board = fire.get(f"/summons/{summons.pk}/board/").content.decode()
    assert 'data-state="late"' in board and 'data-arrived="1"' in board
    # Without a fix (the browser gave none): recorded as such.
    fire.post(f"/summons/{summons.pk}/arrive/", {"lat": "", "lng": "", "accuracy": ""})
    assert Arrival.objects.filter(no_fix=True).count() == 1


def test_who_sees_the_button_and_who_closes(client_as, summon):
    summons = summon()
    dispatcher = client_as("village_dispatcher").get(f"/summons/{summons.pk}/").content.decode()
    assert 'id="arrive-form"' not in dispatcher and 'id="close-form"' in dispatcher
    fire = client_as("fire_handler")
    assert 'id="close-form"' not in fire.get(f"/summons/{summons.pk}/").content.decode()
    fire.post(f"/summons/{summons.pk}/close/")
    assert Summons.objects.get().status == "open"
    client_as("village_dispatcher").post(f"/summons/{summons.pk}/close/")
    summons.refresh_from_db()
    assert summons.status == "closed" and summons.departments.get().state == Attendance.ABSENT
    page = fire.get(f"/summons/{summons.pk}/").content.decode()
    assert 'id="arrive-form"' not in page and "hx-trigger" not in page  # closed: no button, no polling
    assert "未到" in page and not english_in(page)


def test_the_list_per_role(client_as, summon):
    summons = summon()
    for username in ("village_dispatcher", "town_dispatcher", "fire_handler", "leader"):
        response = client_as(username).get("/summons/?show=all")
        assert response.status_code == 200
        assert [s.pk for s in response.context["page"]] == [summons.pk], username
        assert not english_in(response.content.decode())
    assert list(client_as("liaobu_dispatcher").get("/summons/").context["page"]) == []
    assert client_as("grid_manager").get("/summons/").status_code == 403
    assert client_as("citizen").get("/summons/").status_code == 403
    nav = client_as("fire_handler").get("/").content.decode()
    assert 'href="/summons/"' in nav
    assert 'href="/summons/"' not in client_as("grid_manager").get("/").content.decode()


def test_the_pages_in_english_too(summon, user):
    summons = summon()
    client = Client()
    client.force_login(user("fire_handler"))
    with translation.override("en"):
        page = client.get(f"/summons/{summons.pk}/", headers={"accept-language": "en"}).content.decode()
    assert re.search("I am here|我已到达", page)
