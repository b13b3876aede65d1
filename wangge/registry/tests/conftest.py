import pytest
import shapely
from shapely.geometry import shape

from wangge.accounts.models import User
from wangge.areas.models import Area
from wangge.registry import actions

GRID_A = "441900122002001"  # grid_manager's grid, in village_dispatcher's village
GRID_B = "441900122003001"  # grid_manager2's grid: the next village, same town
ID_A = "11010519491231002X"  # the example of GB 11643
ID_B = "440524188001010014"


def point_in(code):
    p = shape(Area.objects.get(code=code).boundary).representative_point()
    assert shape(Area.objects.get(code=code).boundary).contains(shapely.Point(p.x, p.y))
    return p.y, p.x


@pytest.fixture
def admin(db):
    return User.objects.get(username="admin")


def new_building(admin, grid=GRID_A, name="测试楼"):
    """A building with rooms 101 and 102 in that grid (also used by other apps' tests)."""
    lat, lng = point_in(grid)
    address = actions.save_address(admin, {"road": "莞太路", "number": "１２号", "lat": lat, "lng": lng})
    building = actions.save_building(
        admin,
        {"name": name, "address": address.code, "use": "rental", "floors": 3, "contact_name": "房东甲",
         "contact_phone": "13812345678"},
    )  # fmt: skip
    for number in ("101", "102"):
        actions.save_room(admin, building, {"number": number, "floor": 1})
    return building


@pytest.fixture
def make_building(db, admin):
    """make_building(grid) → a building with rooms 101 and 102 in that grid."""

    def make(grid=GRID_A, name="测试楼"):
        return new_building(admin, grid, name)

    return make


@pytest.fixture
def make_person(db, admin, make_building):
    """make_person(id_number, grid) → a person living in room 101 of a new building in that grid."""

    def make(id_number=ID_A, grid=GRID_A, name="张三", phone="13900001111"):
        building = make_building(grid)
        room = building.rooms.get(number="101")
        return actions.register_person(
            admin,
            {"name": name, "person_type": "registered", "id_number": id_number, "phone": phone, "room": room.pk},
        )

    return make
