import csv
import io

import pytest


@pytest.fixture(autouse=True)
def jobs_root(settings, tmp_path):
    """Each test keeps its job files in its own folder."""
    settings.JOBS_ROOT = tmp_path / "jobs"
    return settings.JOBS_ROOT


def csv_bytes(rows, encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


HEADER = ["部门代码", "部门名称", "所属区域代码", "层级", "启用"]


def department_rows(n, start=0, area="441900"):
    return [[f"imp{start + i:05d}", f"导入部门{start + i}", area, "市", "是"] for i in range(n)]


@pytest.fixture
def registers(db):
    """A small register made through the registry's actions: in grid A (grid_manager's) and grid B
    (grid_manager2's), an address, a building with rooms 101 and 102, and two people each."""
    from datetime import date

    from wangge.accounts.models import User
    from wangge.areas.models import Area
    from wangge.registry import actions
    from wangge.registry.validators import id_check_char

    admin = User.objects.get(username="admin")
    made = {}
    for index, grid in enumerate(("441900122002001", "441900122003001")):
        area = Area.objects.get(code=grid)
        address = actions.save_address(
            admin, {"road": "测试路", "number": f"{index + 1}号", "lat": area.centroid_lat, "lng": area.centroid_lng}
        )
        building = actions.save_building(
            admin, {"name": f"测试楼{index}", "address": address.code, "use": "rental", "floors": 3}
        )
        rooms = [actions.save_room(admin, building, {"number": n, "floor": 1}) for n in ("101", "102")]
        people = []
        for k, (name, phone) in enumerate([("赵一", "13700000001"), ("钱二", "13700000002")]):
            first17 = f"441900{date(1980 + index, 1 + k, 2):%Y%m%d}{index * 10 + k:03d}"
            people.append(
                actions.register_person(
                    admin,
                    {
                        "name": f"{name}{index}",
                        "person_type": "registered",
                        "id_number": first17 + id_check_char(first17),
                        "phone": phone,
                        "room": rooms[k].pk,
                    },
                )  # fmt: skip
            )
        made[grid] = {"address": address, "building": building, "rooms": rooms, "people": people}
    return made
