"""Demo registers for the demo city: addresses, buildings with rooms, residents and tenants with
valid generated ID numbers, rental houses and places, in the first grids of the demo towns.
Written through the actions, so every row has its change record. Deterministic (seeded)."""

import random
from datetime import date, timedelta

import shapely
from shapely.geometry import shape

from wangge.accounts.models import User
from wangge.areas.models import Area, Level

from . import actions
from .models import PlaceType, StandardAddress, Tag
from .validators import USCC_CHARS, id_check_char, uscc_check_char

# grids filled at each scale, and buildings per grid
SCALES = {"test": (1, 2), "small": (24, 8), "city": (40, 8)}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余叶杜苏魏程吕丁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰志红建国文斌辉婷雪梅海燕鹏飞宇浩然思琪子涵俊杰欣怡"
ROADS = ["莞太路", "厚街大道", "康乐南路", "双岗路", "竹溪路", "河田大道", "S358省道", "新围路", "环岗路", "富民路"]
# Division codes for generated ID numbers: Dongguan for residents, the usual home provinces of
# Dongguan's floating population for the others.
HOME_REGIONS = ["441900"] * 4 + ["450102", "430721", "510104", "411302", "360102", "441502", "522601", "421202"]
BUILDING_NAMES = ["民房", "出租楼", "综合楼", "宿舍楼", "商住楼", "厂房"]


def _point_in(rng: random.Random, geom) -> tuple[float, float]:
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(200):
        lng, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if geom.contains(shapely.Point(lng, lat)):
            return lat, lng
    p = geom.representative_point()
    return p.y, p.x


def id_number(rng: random.Random, region: str, born: date, male: bool) -> str:
    seq = rng.randrange(0, 100) * 10 + rng.randrange(0, 5) * 2 + (1 if male else 0)
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def credit_code(rng: random.Random, region: str) -> str:
    first17 = "92" + region + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    return first17 + uscc_check_char(first17)


def phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "135", "150", "158", "186", "188", "177"]) + f"{rng.randrange(10**8):08d}"


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))


def seed_registers(scale: str = "small", log=print) -> None:
    if StandardAddress.objects.exists():
        return
    grids_count, per_grid = SCALES.get(scale, SCALES["small"])
    admin = User.objects.get(username="admin")
    rng = random.Random(20240601)
    from wangge.demo import test_grid_villages

    first = list(
        Area.objects.filter(
            level=Level.GRID, parent__code__in=test_grid_villages(), code__endswith="001", boundary__isnull=False
        ).order_by("code")
    )  # fmt: skip
    others = list(
        Area.objects.filter(level=Level.GRID, boundary__isnull=False).exclude(pk__in=[g.pk for g in first])
        .order_by("code")[: max(0, grids_count - len(first))]
    )  # fmt: skip
    grids = first + others
    person_tags = list(Tag.objects.filter(kind="person"))
    place_tags = list(Tag.objects.filter(kind="place"))
    place_types = list(PlaceType.objects.all())
    counts = dict(addresses=0, buildings=0, rooms=0, people=0, rentals=0, places=0)
    used_ids = set()
    for grid in grids:
        geom = shape(grid.boundary)
        town = grid.parent.parent.name if grid.parent and grid.parent.parent else ""
        village = grid.parent.name if grid.parent else ""
        for _b in range(per_grid):
            lat, lng = _point_in(rng, geom)
            road = rng.choice(ROADS)
            number = f"{rng.randrange(1, 300)}号"
            address = actions.save_address(
                admin,
                {"town": town, "community": village, "road": road, "number": number, "lat": lat, "lng": lng,
                 "full_text": f"广东省东莞市{town}{village}{road}{number}"},
            )  # fmt: skip
            counts["addresses"] += 1
            rental = rng.random() < 0.35
            floors = rng.randrange(2, 8)
            building = actions.save_building(
                admin,
                {"name": f"{road}{number}{rng.choice(BUILDING_NAMES)}", "address": address.code,
                 "use": "rental" if rental else rng.choice(["residential", "self_built", "mixed", "shop"]),
                 "floors": floors, "risk_class": rng.choice([1, 1, 1, 2, 2, 3]),
                 "contact_name": name(rng), "contact_phone": phone(rng)},
            )  # fmt: skip
            counts["buildings"] += 1
            rooms = []
            for floor in range(1, floors + 1):
                for n in range(1, rng.randrange(2, 4)):
                    rooms.append(actions.save_room(admin, building, {"number": f"{floor}0{n}", "floor": floor}))
            counts["rooms"] += len(rooms)
            for room in rng.sample(rooms, k=max(1, len(rooms) // 3)):
                for _p in range(rng.randrange(1, 4)):
                    male = rng.random() < 0.5
                    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
                    floating = rental or rng.random() < 0.3
                    region = rng.choice(HOME_REGIONS[4:] if floating else HOME_REGIONS[:4])
                    number_ = id_number(rng, region, born, male)
                    if number_ in used_ids:
                        continue
                    used_ids.add(number_)
                    person = actions.register_person(
                        admin,
                        {"name": name(rng), "person_type": "floating" if floating else "registered",
                         "id_number": number_, "phone": phone(rng), "room": room.pk,
                         "moved_in": date.today() - timedelta(days=rng.randrange(10, 2000)),
                         "source": "landlord" if rental else "grid_manager",
                         "tags": [t.code for t in rng.sample(person_tags, k=1)] if rng.random() < 0.1 else []},
                    )  # fmt: skip
                    counts["people"] += 1
                    del person
            if rng.random() < 0.2:  # an occupied room nobody declared: a compliance gap to find
                actions.save_room(admin, building, {"number": "999", "floor": 1, "is_occupied": True})
            if rental:
                actions.save_rental(
                    admin,
                    {"building": building.code, "landlord_name": building.contact_name,
                     "landlord_phone": phone(rng) if rng.random() < 0.8 else ""},
                )  # fmt: skip
                counts["rentals"] += 1
            if rng.random() < 0.4:
                place_type = rng.choice(place_types)
                actions.save_place(
                    admin,
                    {"name": f"{road}{rng.choice(['便利店', '五金店', '小食店', '制衣厂', '网吧', '电子厂'])}",
                     "place_type": place_type.code, "credit_code": credit_code(rng, "441900") if rng.random() < 0.8
                     else "", "licence_status": rng.choice(["valid", "valid", "valid", "expired", "none"]),
                     "address": address.code, "building": building.code, "contact_name": name(rng),
                     "contact_phone": phone(rng),
                     "risk_tags": [t.code for t in rng.sample(place_tags, k=rng.randrange(0, 3))]},
                )  # fmt: skip
                counts["places"] += 1
    log("registers: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
