"""The demo city: real Dongguan divisions, generated boundaries inside the real outline, a few
grids per village in some towns, the default departments, and one demo user per role."""

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from wangge.accounts import actions as account_actions
from wangge.accounts.models import Department, Role, User
from wangge.accounts.seed import DEFAULT_DEPARTMENTS
from wangge.areas import actions as area_actions
from wangge.areas.models import Area, Level

DATA = Path(__file__).resolve().parent / "areas" / "data"
CITY_CODE = "441900"
DEMO_PASSWORD = "wangge-demo"
# Towns that get grids at the small scale: Houjie and Liaobu (the seeds' towns) and Dongcheng.
SMALL_SCALE_TOWNS = ["441900122", "441900111", "441900003"]
GRIDS_PER_VILLAGE = {"small": 4, "city": 5, "test": 4}
# The test suite's city: villages drawn in Houjie and Liaobu only, grids in the three villages the
# demo users work in. Quick to build, and still two towns and two villages to test isolation with.
TEST_SCALE_TOWNS = ["441900122", "441900111"]


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str
    area_code: str | None = None
    department_code: str | None = None


def demo_users(houjie_villages: list[str]) -> list[DemoUser]:
    village_a, village_b = houjie_villages[:2]
    return [
        DemoUser("admin", "系统管理员", Role.ADMIN, CITY_CODE),
        DemoUser("city_dispatcher", "市指挥中心调度员", Role.CITY_DISPATCHER, CITY_CODE),
        DemoUser("town_dispatcher", "厚街镇调度员", Role.TOWN_DISPATCHER, "441900122"),
        DemoUser("liaobu_dispatcher", "寮步镇调度员", Role.TOWN_DISPATCHER, "441900111"),
        DemoUser("village_dispatcher", "村(社区)调度员", Role.VILLAGE_DISPATCHER, village_a),
        DemoUser("grid_manager", "网格员", Role.GRID_MANAGER, village_a + "001"),
        DemoUser("grid_manager2", "网格员(邻村)", Role.GRID_MANAGER, village_b + "001"),
        DemoUser("fire_handler", "消防部门处置人员", Role.DEPARTMENT_HANDLER, department_code="fire"),
        DemoUser("leader", "厚街镇领导", Role.LEADER, "441900122"),
        DemoUser("hotline", "12345热线坐席", Role.CALL_TAKER, CITY_CODE),
        DemoUser("landlord", "房东", Role.LANDLORD),
        DemoUser("citizen", "市民", Role.CITIZEN),
    ]


def test_grid_villages() -> list[str]:
    houjie = Area.objects.filter(parent__code="441900122").order_by("code").values_list("code", flat=True)[:2]
    liaobu = Area.objects.filter(parent__code="441900111").order_by("code").values_list("code", flat=True)[:1]
    return [*houjie, *liaobu]


def load_town_seats() -> dict[str, tuple[float, float]]:
    with open(DATA / "town_seats.csv", encoding="utf-8") as f:
        return {row["code"]: (float(row["lng"]), float(row["lat"])) for row in csv.DictReader(f)}


def build_areas(scale: str, log=print) -> None:
    files = [DATA / "dongguan_city.csv", DATA / "dongguan_towns.csv", DATA / "dongguan_villages.csv"]
    result = area_actions.import_divisions(files)
    log(f"divisions: {result.created} created, {result.updated} updated, {result.unchanged} unchanged")
    city = Area.objects.get(code=CITY_CODE)
    if not city.boundary:
        area_actions.import_boundaries(DATA / "dongguan_outline_simplified.geojson", code_property="adcode")
        city.refresh_from_db()
        log("city outline: imported (simplified, WGS-84)")
    if Area.objects.filter(level=Level.TOWN, boundary__isnull=True).exists():
        area_actions.generate_child_boundaries(city, load_town_seats())
        log("town boundaries: generated from town seats")
    towns = Area.objects.filter(level=Level.TOWN).filter(boundary__isnull=False)
    if scale == "test":
        towns = towns.filter(code__in=TEST_SCALE_TOWNS)
    for town in towns:
        if town.children.filter(boundary__isnull=True).exists():
            area_actions.generate_child_boundaries(town)
    log("village boundaries: generated")
    villages = Area.objects.filter(level=Level.VILLAGE).filter(boundary__isnull=False)
    if scale == "small":
        villages = villages.filter(parent__code__in=SMALL_SCALE_TOWNS)
    elif scale == "test":
        villages = villages.filter(code__in=test_grid_villages())
    count = GRIDS_PER_VILLAGE[scale]
    made = 0
    for village in villages:
        if not village.children.exists():
            made += len(area_actions.generate_grids(village, count))
    log(f"grids: {made} generated ({Area.objects.filter(level=Level.GRID).count()} in all)")


def build_departments() -> None:
    city = Area.objects.get(code=CITY_CODE)
    for code, name in DEFAULT_DEPARTMENTS:
        existing = Department.objects.filter(code=code).first()
        if existing is None:
            account_actions.save_department(code, name, city)


def build_users() -> list[DemoUser]:
    houjie_villages = list(
        Area.objects.filter(parent__code="441900122", level=Level.VILLAGE)
        .order_by("code")
        .values_list("code", flat=True)
    )
    users = demo_users(houjie_villages)
    for index, spec in enumerate(users, start=1):
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = account_actions.create_user(
                spec.username,
                DEMO_PASSWORD,
                full_name=spec.full_name,
                is_staff=spec.role == Role.ADMIN,
                is_superuser=spec.username == "admin",
            )
            user.set_phone(f"1380000{index:04d}")  # fixed demo mobiles: 13800000001, 13800000002…
            user.save(update_fields=["phone_encrypted"])
        area = Area.objects.get(code=spec.area_code) if spec.area_code else None
        department = Department.objects.get(code=spec.department_code) if spec.department_code else None
        account_actions.add_membership(user, spec.role, area=area, department=department)
    return users


@transaction.atomic
def build_demo(scale: str = "small", log=print) -> list[DemoUser]:
    from wangge.cases.seed import seed_cases
    from wangge.demo_history import HISTORY_SCALES, seed_history
    from wangge.demo_portal import seed_portal_demo
    from wangge.evaluation.demo import seed_evaluation
    from wangge.evaluation.schemes import seed_schemes
    from wangge.patrol.actions import plan_inspections
    from wangge.patrol.checklists import seed_checklists
    from wangge.patrol.seed import seed_demo_tracks
    from wangge.registry.demo import seed_registers
    from wangge.registry.seed import ensure_config_lists
    from wangge.sensors.demo import seed_demo_sensors
    from wangge.summons.demo import seed_summonses

    build_areas(scale, log)
    build_departments()
    seed_cases()
    seed_schemes()  # the shipped evaluation schemes (a migration makes them; a flushed test database has none)
    users = build_users()
    ensure_config_lists()
    if scale != "test":  # the test city stays quick; registry tests make their own rows
        seed_registers(scale, log)
    seed_checklists()
    if scale != "test":  # sensor tests make their own
        seed_demo_sensors(log)
    if scale in HISTORY_SCALES:  # weeks of past cases and field work (not in the test city: too slow)
        seed_history(scale, log)
        seed_evaluation(log)  # last month's evaluation from that history: drafts, two published, appeals
        seed_summonses(log)  # 吹哨报到: one for an open case (arrived), one campaign waiting
    if scale != "test":  # the portal's demo (tests that need it call seed_portal_demo themselves)
        seed_portal_demo(log)
    log(f"inspection tasks: {plan_inspections()} opened")
    seed_demo_tracks()
    return users
