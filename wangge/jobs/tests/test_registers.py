"""Imports and exports of the registers (addresses, buildings, people, places) through the pages:
every row goes through the register's action (rules, jurisdiction, encryption, history)."""

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wangge.areas.models import Area
from wangge.history.models import ChangeRecord
from wangge.jobs.models import Job, State
from wangge.registry.models import Building, Person, Place, StandardAddress
from wangge.registry.validators import id_check_char, uscc_check_char

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db

GRID_A = "441900122002001"  # grid_manager's grid
GRID_B = "441900122003001"  # grid_manager2's


def make_id(seq: int, born=date(1990, 5, 17), region="441900") -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def make_credit_code(tail: str) -> str:
    first17 = "92441900" + tail
    return first17 + uscc_check_char(first17)


def check(client, register, content, name="file.csv", partial=False):
    data = {"file": SimpleUploadedFile(name, content)}
    if partial:
        data["partial"] = "on"
    response = client.post(reverse("jobs:import", args=[register]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    job = Job.objects.latest("pk")
    assert job.state == State.DONE, job.message
    return job


def confirm(client, checked, partial=False):
    client.post(reverse("jobs:confirm", args=[checked.pk]), {"partial": "1" if partial else "0"})
    return Job.objects.latest("pk")


def errors_of(job):
    return {(e["line"], e["column"]) for e in job.result["errors"]}


def point(code):
    area = Area.objects.get(code=code)
    return str(area.centroid_lat), str(area.centroid_lng)


def test_addresses_dry_run_reports_the_actions_refusals_per_row_and_writes_nothing(client_as):
    client = client_as("grid_manager")
    lat, lng = point(GRID_A)
    lat_b, lng_b = point(GRID_B)
    header = ["地址编码", "路街巷", "门牌号", "完整地址", "纬度", "经度"]
    rows = [
        ["IMPA1", "莞太路", "1号", "", lat, lng],
        ["IMPA2", "莞太路", "2号", "", lat_b, lng_b],  # line 3: the next village, not this grid manager's
        ["IMPA3", "莞太路", "3号", "", "1.0", "100.0"],  # line 4: outside the city
        ["IMPA4", "莞太路", "4号", "", "abc", lng],  # line 5: not a number
        ["IMPA1", "莞太路", "5号", "", lat, lng],  # line 6: duplicate code
    ]
    before = StandardAddress.objects.count()
    checked = check(client, "addresses", csv_bytes([header, *rows]))
    assert errors_of(checked) == {(3, "纬度"), (4, "纬度"), (5, "纬度"), (6, "地址编码")}
    reasons = {(e["line"]): e["reason"] for e in checked.result["errors"]}
    assert Area.objects.get(code=GRID_B).name in reasons[3]  # the point lies there, outside the grid
    assert checked.result["valid"] == 1 and StandardAddress.objects.count() == before  # checked, nothing written

    job = confirm(client, checked)
    assert job.state == State.FAILED and StandardAddress.objects.count() == before
    job = confirm(client, check(client, "addresses", csv_bytes([header, *rows]), partial=True), partial=True)
    assert job.state == State.DONE and job.result["written"] == 1 and job.result["rejected_rows"] == 4
    made = StandardAddress.objects.get(code="IMPA1")
    assert made.area.code == GRID_A and made.full_text == "莞太路1号"
    # One summary change record per import batch (count, file, user), found from the address.
    record = ChangeRecord.objects.get(object_id="import", user_name="grid_manager")
    assert record.after["count"] == 1 and record.after["file"] == "file.csv"
    assert record.after["first_id"] <= made.pk <= record.after["last_id"]
    from wangge.registry.actions import imported_in

    assert imported_in(made) == record


def test_people_import_validates_encrypts_and_reports_duplicates_per_row(client_as, registers):
    client = client_as("grid_manager")
    building = Building.objects.filter(area__code=GRID_A).prefetch_related("rooms").first()
    room = building.rooms.first()
    room_label = f"{room.unit}-{room.number}" if room.unit else room.number
    existing = Person.objects.filter(area_path__startswith=Area.objects.get(code=GRID_A).path).exclude(
        id_number_hash=None
    )[0]
    elsewhere = Person.objects.exclude(area_path__startswith="441900/441900122/441900122002/").exclude(
        id_number_hash=None
    )[0]
    bad_check = make_id(3)[:-1] + ("0" if make_id(3)[-1] != "0" else "1")
    header = ["姓名", "人员类型", "身份证号", "手机号", "标签", "建筑编码", "房号", "入住日期"]
    rows = [
        ["新人甲", "流动人口", make_id(1), "13811112222", "独居老人", building.code, room_label, "2026-03-01"],
        ["新人乙", "户籍", make_id(2), "", "", building.code, room_label, ""],
        ["新人丙", "流动人口", bad_check, "", "", building.code, room_label, ""],  # line 4: check digit
        ["新人丁", "流动人口", make_id(1), "", "", building.code, room_label, ""],  # line 5: duplicate in the file
        ["新人戊", "流动人口", existing.id_number, "", "", building.code, room_label, ""],  # line 6: in the register
        ["新人己", "流动人口", elsewhere.id_number, "", "", building.code, room_label, ""],  # line 7: elsewhere
        ["新人庚", "外星人", make_id(7), "12", "不存在", building.code, "9999", ""],  # line 8: four errors
    ]
    checked = check(client, "people", csv_bytes([header, *rows]))
    assert errors_of(checked) == {
        (4, "身份证号"),
        (5, "身份证号"),
        (6, "身份证号"),
        (7, "身份证号"),
        (8, "人员类型"),
        (8, "手机号"),
        (8, "标签"),
        (8, "房号"),
    }, checked.result["errors"]
    reasons = {(e["line"], e["column"]): e["reason"] for e in checked.result["errors"]}
    assert existing.name in reasons[(6, "身份证号")] and elsewhere.name not in reasons[(7, "身份证号")]
    assert "2" in reasons[(5, "身份证号")]
    job = confirm(client, checked, partial=True)
    assert job.state == State.DONE and job.result["written"] == 2
    person = Person.objects.get(name="新人甲")
    assert person.id_number == make_id(1) and make_id(1) not in person.id_number_encrypted
    assert person.id_number_masked == make_id(1)[:1] + "*" * 16 + make_id(1)[-1:]
    assert person.birth_date == date(1990, 5, 17) and person.phone == "13811112222"
    assert person.residence == room and [t.name for t in person.tags.all()] == ["独居老人"]
    assert person.tenancies.get().source == "import"


def test_people_row_with_unknown_room_and_tag_is_refused_at_the_room_and_tag(client_as, registers):
    client = client_as("grid_manager")
    building = Building.objects.filter(area__code=GRID_A).first()
    header = ["姓名", "人员类型", "身份证号", "标签", "建筑编码", "房号"]
    checked = check(
        client, "people", csv_bytes([header, ["甲", "流动人口", make_id(11), "不存在", building.code, "9-9"]])
    )
    assert errors_of(checked) == {(2, "标签"), (2, "房号")}


def test_buildings_and_places_import_and_update_by_code(client_as, registers):
    client = client_as("grid_manager")
    address = StandardAddress.objects.filter(area__code=GRID_A).first()
    header = ["建筑编码", "建筑名称", "标准地址编码", "用途", "层数", "风险等级", "联系电话"]
    rows = [
        ["IMPB1", "导入楼一", address.code, "出租屋", "6", "3", "13900001111"],
        ["IMPB2", "导入楼二", address.code, "火箭发射塔", "300", "4", ""],
        ["IMPB3", "导入楼三", "NOPE", "住宅", "2", "", ""],
    ]
    checked = check(client, "buildings", csv_bytes([header, *rows]))
    assert errors_of(checked) == {(3, "用途"), (3, "层数"), (3, "风险等级"), (4, "标准地址编码")}
    confirm(client, checked, partial=True)
    made = Building.objects.get(code="IMPB1")
    assert (made.use.code, made.floors, made.risk_class, made.area.code) == ("rental", 6, 3, GRID_A)
    assert made.contact_phone == "13900001111" and made.contact_phone_masked == "139****1111"
    # The export of the list imports back: masked phones keep the stored number, codes update.
    export = client.get(reverse("jobs:export", args=["buildings"]), {"format": "csv", "q": "导入楼一"})
    exported = b"".join(export.streaming_content)
    assert b"13900001111" not in exported and "139****1111" in exported.decode("utf-8-sig")
    changed = exported.decode("utf-8-sig").replace("导入楼一", "导入楼一（改）").encode("utf-8-sig")
    job = confirm(client, check(client, "buildings", changed))
    assert job.state == State.DONE and job.result["counts"] == {"updated": 1}
    made.refresh_from_db()
    assert made.name == "导入楼一（改）" and made.contact_phone == "13900001111"

    header = ["名称", "类型", "统一社会信用代码", "证照状态", "标准地址编码", "联系电话", "风险标签"]
    good = make_credit_code("MA4UJ8LD0")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows = [
        ["导入小店", "小商店", good, "有效", address.code, "13900002222", "使用燃气,人员密集"],
        ["导入作坊", "小作坊", bad, "无证", address.code, "", ""],
        ["导入餐馆", "餐饮店", good, "有效", address.code, "", ""],
    ]
    checked = check(client, "places", csv_bytes([header, *rows]))
    assert errors_of(checked) == {(3, "统一社会信用代码"), (4, "统一社会信用代码")}
    confirm(client, checked, partial=True)
    place = Place.objects.get(name="导入小店")
    assert place.credit_code == good and sorted(t.code for t in place.risk_tags.all()) == ["crowded", "gas_use"]


@pytest.mark.parametrize(
    "username, own_grid, other_grid", [("grid_manager", GRID_A, GRID_B), ("grid_manager2", GRID_B, GRID_A)]
)
def test_people_export_is_masked_and_in_the_jurisdiction(client_as, registers, username, own_grid, other_grid):
    response = client_as(username).get(reverse("jobs:export", args=["people"]), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert body and header[2] == "身份证号" and header[7] == "手机号"
    mine = Person.objects.filter(area__code=own_grid)
    theirs = Person.objects.filter(area__code=other_grid)
    assert {r[0] for r in body} >= set(mine.values_list("name", flat=True))
    text = "\n".join(",".join(r) for r in body)
    for person in list(mine) + list(theirs):
        assert person.id_number and person.id_number not in text
        if person.phone:
            assert person.phone not in text
    assert {r[11] for r in body} <= {a.code for a in Area.objects.filter(path__startswith=mine[0].area.parent.path)}
    for row in body:
        assert "*" in row[2] or not row[2]


def test_register_import_needs_an_editor(client_as):
    assert client_as("leader").get(reverse("jobs:import", args=["people"])).status_code == 403
    assert client_as("grid_manager").get(reverse("jobs:import", args=["people"])).status_code == 200
    page = client_as("grid_manager").get(reverse("registry:person_list")).content.decode()
    assert "/imports/people/" in page and "/exports/people/?format=xlsx" in page
    page = client_as("leader").get(reverse("registry:person_list")).content.decode()
    assert "/imports/people/" not in page and "/exports/people/" in page
