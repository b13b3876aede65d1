"""Registering a case, the dispatcher picks its category (the picker sends "part:0305": 部件 and
事件 reuse codes) and matter item; an unknown one is a field error and nothing changes."""

import pytest

from wangge.cases.models import Case, Status

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def test_register_with_a_picked_category(client_as, new_case):
    case = new_case()
    dispatcher = client_as("village_dispatcher")
    page = dispatcher.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-picker="/pick/categories/"' in page and 'data-picker="/pick/matter-items/"' in page
    refused = dispatcher.post(
        f"/cases/{case.pk}/act/", {"action": "register", "version": 1, "category": "part:9999"}, headers=HX
    )
    assert refused.status_code == 400 and Case.objects.get(pk=case.pk).status == Status.REPORTED
    ok = dispatcher.post(
        f"/cases/{case.pk}/act/",
        {"action": "register", "version": 1, "category": "part:0305", "matter_item": "exposed_garbage"},
        headers=HX,
    )
    assert ok.status_code == 200
    case.refresh_from_db()
    assert case.status == Status.REGISTERED
    assert (case.category.kind, case.category.code, case.category.name) == ("part", "0305", "垃圾箱")
    assert case.matter_item.code == "exposed_garbage"


def test_register_keeps_the_current_category_sent_back_unchanged(client_as, new_case):
    case = new_case(category="event:0102")
    ok = client_as("village_dispatcher").post(
        f"/cases/{case.pk}/act/", {"action": "register", "version": 1, "category": "event:0102"}, headers=HX
    )
    assert ok.status_code == 200
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and (case.category.kind, case.category.code) == ("event", "0102")
