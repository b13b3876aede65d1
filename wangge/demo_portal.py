"""The portal's demo: what the demo landlord and the demo citizen find when they sign in.

The landlord (`landlord`) owns two rental houses in grid_manager's grid, with tenants; one house has
an occupied room nobody declared (a compliance gap to fix), a declaration waiting for the grid staff,
and a confirmed one (so there is a notice). The citizen (`citizen`) has two reports: one being handled
and one closed, not rated yet. All through the actions (change records, case events, notifications);
idempotent: nothing is added twice.
"""

import random
from datetime import timedelta

from django.utils import timezone

from wangge.accounts.models import Membership, Role, User
from wangge.areas.models import Area

LANDLORD_HOUSES = [
    # (road, number, floors, rooms per floor, occupied room numbers, the room declared-but-not-registered)
    ("湖景路", "18号", 3, 2, ["101", "102", "201", "301"], None),
    ("新塘路", "6号", 2, 2, ["101"], "202"),
]
CITIZEN_REPORTS = [
    ("portal-demo-1", "有人在楼道里给电动车充电，存在火灾隐患", "湖景路18号楼道"),
    ("portal-demo-2", "楼道堆放杂物，堵塞了消防通道", "新塘路6号一楼"),
]


def seed_portal_demo(log=print) -> None:
    """The landlord's houses and the citizen's reports (each once)."""
    landlord = User.objects.filter(username="landlord").first()
    citizen = User.objects.filter(username="citizen").first()
    grid = _grid_manager_grid()
    if grid is None:
        return
    if landlord is not None:
        seed_landlord(landlord, grid, log)
    if citizen is not None:
        seed_citizen(citizen, grid, log)


def _grid_manager_grid() -> Area | None:
    membership = (
        Membership.objects.filter(user__username="grid_manager", role=Role.GRID_MANAGER).select_related("area").first()
    )
    return membership.area if membership and membership.area.centroid_lat is not None else None


def seed_landlord(landlord, grid: Area, log=print) -> None:
    from wangge.registry import actions
    from wangge.registry.demo import HOME_REGIONS, id_number, name, phone
    from wangge.registry.models import RentalHouse

    if RentalHouse.objects.filter(landlord_user=landlord).exists():
        return
    admin = User.objects.get(username="admin")
    grid_manager = User.objects.get(username="grid_manager")
    rng = random.Random(20261202)
    town = grid.parent.parent.name if grid.parent and grid.parent.parent else ""
    village = grid.parent.name if grid.parent else ""
    today = timezone.localdate()

    def new_tenant():
        born = today - timedelta(days=rng.randrange(20 * 365, 50 * 365))
        region = rng.choice(HOME_REGIONS[4:])
        return {"name": name(rng), "person_type": "floating", "phone": phone(rng),
                "id_number": id_number(rng, region, born, rng.random() < 0.5)}  # fmt: skip

    tenants = 0
    for index, (road, number, floors, per_floor, occupied, declared) in enumerate(LANDLORD_HOUSES):
        lat = grid.centroid_lat + 0.0004 * (index - 0.5)
        lng = grid.centroid_lng + 0.0003 * index
        address = actions.save_address(
            admin,
            {"town": town, "community": village, "road": road, "number": number, "lat": lat, "lng": lng,
             "full_text": f"广东省东莞市{town}{village}{road}{number}"},
        )  # fmt: skip
        building = actions.save_building(
            admin,
            {"name": f"{road}{number}出租楼", "address": address.code, "use": "rental", "floors": floors,
             "risk_class": 2, "contact_name": str(landlord), "contact_phone": landlord.phone},
        )  # fmt: skip
        rooms = {}
        for floor in range(1, floors + 1):
            for n in range(1, per_floor + 1):
                room_number = f"{floor}0{n}"
                rooms[room_number] = actions.save_room(admin, building, {"number": room_number, "floor": floor})
        rental = actions.save_rental(admin, {"building": building.code, "landlord_user": landlord.username})
        for room_number in occupied:
            for _n in range(rng.choice([1, 1, 2])):
                moved_in = today - timedelta(days=rng.randrange(30, 600))
                actions.register_person(
                    admin, {**new_tenant(), "room": rooms[room_number].pk, "moved_in": moved_in, "source": "landlord"}
                )
                tenants += 1
        if declared:
            # An occupied room without declared tenants (what is missing), and two declarations by the
            # landlord: one the grid manager confirmed (a notice for the landlord), one still waiting.
            room = rooms[declared]
            actions.save_room(admin, building, {"number": room.number, "floor": room.floor, "is_occupied": True},
                              room=room, version=room.version)  # fmt: skip
            first = actions.declare_tenant(landlord, rental, {**new_tenant(), "room": rooms["201"].pk})
            actions.review_declaration(grid_manager, first, "confirm", "已上门核实")
            actions.declare_tenant(landlord, rental, {**new_tenant(), "room": rooms["102"].pk})
    log(f"portal: the landlord's {len(LANDLORD_HOUSES)} rental houses, {tenants} tenants")


def seed_citizen(citizen, grid: Area, log=print) -> None:
    """Two reports: the first being handled by the fire brigade, the second closed (to be rated)."""
    from wangge.cases import actions
    from wangge.cases.models import Channel

    made = []
    for index, (key, description, address) in enumerate(CITIZEN_REPORTS):
        report = actions.Report(
            description=description,
            channel=Channel.CITIZEN_WEB,
            lat=grid.centroid_lat + 0.0002 * index,
            lng=grid.centroid_lng - 0.0002 * index,
            address=address,
            reporter_name=str(citizen),
            reporter_phone=citizen.phone or "13800000011",
            idempotency_key=key,
        )
        case, created = actions.report_case(report, citizen)
        if created:
            made.append(case)
    if len(made) != len(CITIZEN_REPORTS):
        return
    users = {u.username: u for u in User.objects.filter(username__in=["village_dispatcher", "fire_handler",
                                                                      "grid_manager"])}  # fmt: skip

    def act(case, username, action, **params):
        case.refresh_from_db()
        return actions.transition(case, users[username], action, version=case.version, **params)

    handling, closed = made
    act(handling, "village_dispatcher", "dispatch", departments=["fire"], note="请消防部门核查")
    act(closed, "village_dispatcher", "dispatch", departments=["fire"])
    act(closed, "fire_handler", "accept")
    act(closed, "fire_handler", "feedback", note="已责令清理楼道杂物，消防通道已畅通")
    act(closed, "grid_manager", "verify_pass", note="现场核实通道已畅通")
    log("portal: the citizen's 2 reports")
