"""Two grid staff move the same person at the same moment: one wins, the other gets a conflict.
Real threads and transactions on the configured database."""

import pytest

from wangge.accounts.models import User
from wangge.cases.tests.test_concurrency import run_together
from wangge.registry import actions
from wangge.registry.models import Person, Tenancy

from .conftest import GRID_A, ID_B, point_in

pytestmark = pytest.mark.serial


def test_two_moves_of_one_person_one_wins(city):
    admin = User.objects.get(username="admin")
    lat, lng = point_in(GRID_A)
    address = actions.save_address(admin, {"road": "并发路", "lat": lat, "lng": lng})
    building = actions.save_building(admin, {"name": "并发楼", "address": address.code, "use": "rental", "floors": 2})
    rooms = [actions.save_room(admin, building, {"number": n}) for n in ("101", "102", "103")]
    person = actions.register_person(
        admin, {"name": "钱七", "person_type": "floating", "id_number": ID_B, "room": rooms[0].pk}
    )
    manager, village = User.objects.get(username="grid_manager"), User.objects.get(username="village_dispatcher")
    results = run_together(
        lambda: actions.move_in(manager, Person.objects.get(pk=person.pk), rooms[1], version=1),
        lambda: actions.move_in(village, Person.objects.get(pk=person.pk), rooms[2], version=1),
    )
    winners = [r for r in results if isinstance(r, Tenancy)]
    conflicts = [r for r in results if isinstance(r, actions.StaleVersion)]
    assert len(winners) == 1 and len(conflicts) == 1, results
    person.refresh_from_db()
    assert person.version == 2 and person.residence_id == winners[0].room_id
    assert Tenancy.objects.filter(person=person, moved_out__isnull=True).count() == 1
    assert Tenancy.objects.filter(person=person).count() == 2
