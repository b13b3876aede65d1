"""Registering a resident or tenant from the field app: through the registry's actions, once per
idempotency key, errors per field, only rooms in the worker's grid."""

import pytest

from wangge.history.models import ChangeRecord
from wangge.patrol.models import ResidentRegistration
from wangge.registry.models import Person, Tenancy
from wangge.registry.tests.conftest import GRID_B, ID_A, ID_B, new_building

pytestmark = pytest.mark.django_db
URL = "/api/v1/patrol/residents"


def post(api, body, key):
    headers = {**api.headers, "Idempotency-Key": key}
    return api.client.post(URL, body, content_type="application/json", headers=headers)


@pytest.fixture
def room(make_building):
    return make_building().rooms.get(number="101")


def test_a_new_tenant_is_registered_once_with_the_room_as_residence(api_as, room):
    api = api_as("grid_manager")
    body = {"name": "李四", "person_type": "floating", "id_number": ID_B, "phone": "13900002222", "room": room.pk}
    first = post(api, body, "phone-key-1")
    assert first.status_code == 201, first.content
    again = post(api, body, "phone-key-1")  # the answer was lost: the phone sends it again
    assert again.status_code == 200 and again.json() == first.json()
    person = Person.objects.get(pk=first.json()["person_id"])
    assert person.residence == room and person.id_number_masked == first.json()["id_number"] != ID_B
    assert Tenancy.objects.filter(person=person, room=room, moved_out__isnull=True, source="grid_manager").count() == 1
    assert ResidentRegistration.objects.filter(person=person).count() == 1
    assert ChangeRecord.objects.filter(object_type__model="person", object_id=str(person.pk)).exists()


def test_a_key_is_the_workers_own_and_reused_for_another_person_is_refused(api_as, room, make_building):
    """Issue 13 item 5: keys are per account, and a replay must be the same registration."""
    body = {"name": "李四", "person_type": "floating", "id_number": ID_B, "phone": "13900002222", "room": room.pk}
    first = post(api_as("grid_manager"), body, "shared-1")
    assert first.status_code == 201
    other_room = make_building(name="另一栋").rooms.get(number="101")
    other = {"name": "张三", "person_type": "floating", "id_number": ID_A, "room": other_room.pk}
    reused = post(api_as("grid_manager"), other, "shared-1")
    assert reused.status_code == 409 and "Idempotency-Key" in reused.json()["detail"]
    assert not Person.objects.filter(name="张三").exists()


def test_someone_already_registered_moves_in(api_as, make_person, make_building):
    person = make_person(ID_A)
    new_room = make_building(name="新楼").rooms.get(number="102")
    response = post(api_as("grid_manager"), {"name": "张三", "person_type": "registered", "id_number": ID_A,
                                              "room": new_room.pk}, "k2")  # fmt: skip
    assert response.status_code == 201 and response.json()["moved"] is True
    person.refresh_from_db()
    assert person.residence == new_room and Person.objects.filter(id_number_hash=person.id_number_hash).count() == 1


def test_errors_name_each_field_and_nothing_is_written(api_as, room):
    before = Person.objects.count()
    response = post(api_as("grid_manager"), {"name": "", "person_type": "floating", "id_number": "110105194912310021",
                                              "phone": "12", "room": room.pk}, "k3")  # fmt: skip
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"name", "id_number", "phone"} <= set(errors)
    assert Person.objects.count() == before and not ResidentRegistration.objects.exists()


def test_a_room_outside_the_workers_grid_is_refused(api_as, admin):
    other = new_building(admin, GRID_B).rooms.get(number="101")
    response = post(api_as("grid_manager"), {"name": "王五", "person_type": "floating", "id_number": ID_B,
                                              "room": other.pk}, "k4")  # fmt: skip
    assert response.status_code == 400 and "room" in response.json()["errors"]


def test_only_field_workers_register_here(api_as, room):
    response = post(api_as("village_dispatcher"), {"name": "李四", "person_type": "floating", "id_number": ID_B,
                                                    "room": room.pk}, "k5")  # fmt: skip
    assert response.status_code == 403
