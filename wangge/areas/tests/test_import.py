import csv

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wangge.areas.actions import display_name, import_divisions
from wangge.areas.models import Area, Level
from wangge.core.imports import ImportRejected
from wangge.demo import DATA
from wangge.history.models import ChangeRecord

REAL_FILES = [DATA / "dongguan_city.csv", DATA / "dongguan_towns.csv", DATA / "dongguan_villages.csv"]


def write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.mark.django_db
def test_every_town_and_village_of_the_files_is_under_its_parent():
    with open(DATA / "dongguan_towns.csv", encoding="utf-8") as f:
        towns = {r["code"]: r["name"] for r in csv.DictReader(f)}
    with open(DATA / "dongguan_villages.csv", encoding="utf-8") as f:
        villages = {r["code"]: r["town_code"] for r in csv.DictReader(f)}
    assert len(towns) == 36 and len(villages) == 609
    stored_towns = dict(Area.objects.filter(level=Level.TOWN).values_list("code", "parent__code"))
    assert set(stored_towns) == set(towns)
    assert set(stored_towns.values()) == {"441900"}
    stored_villages = dict(Area.objects.filter(level=Level.VILLAGE).values_list("code", "parent__code"))
    assert stored_villages == villages
    village = Area.objects.get(code="441900003001")
    assert village.official_name == "岗贝社区居民委员会"
    assert village.name == "岗贝社区"
    assert village.path == "441900/441900003/441900003001/"


def test_display_name_strips_committee_titles():
    assert display_name("岗贝社区居民委员会") == "岗贝社区"
    assert display_name("新塘村民委员会") == "新塘村"
    assert display_name("茶溪社区") == "茶溪社区"


@pytest.mark.django_db
def test_reimport_is_idempotent():
    before = Area.objects.count()
    records = ChangeRecord.objects.count()
    result = import_divisions(list(reversed(REAL_FILES)))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 646)
    assert Area.objects.count() == before
    assert ChangeRecord.objects.count() == records


@pytest.mark.django_db
def test_files_in_any_order(tmp_path):
    villages = write_csv(
        tmp_path / "v.csv", ["code", "name", "town_code"], [["441900130001", "新村民委员会", "441900130"]]
    )
    towns = write_csv(tmp_path / "t.csv", ["code", "name"], [["441900130", "新镇"]])
    result = import_divisions([villages, towns])
    assert result.created == 2
    village = Area.objects.get(code="441900130001")
    assert village.parent.code == "441900130" and village.name == "新村"
    assert village.path == "441900/441900130/441900130001/"


@pytest.mark.django_db
def test_bad_rows_are_all_reported_and_nothing_is_written(tmp_path):
    bad = write_csv(
        tmp_path / "bad.csv",
        ["code", "name", "town_code"],
        [
            ["441900131001", "好村民委员会", "441900131"],  # line 2: unknown parent town
            ["44190013100", "短码", "441900131"],  # line 3: wrong length
            ["441900122002", "", "441900122"],  # line 4: empty name
            ["441900122003", "重复一", "441900122"],  # line 5
            ["441900122003", "重复二", "441900122"],  # line 6: duplicate
            ["441900122099", "不符村民委员会", "441900111"],  # line 7: town_code does not match the code
        ],
    )
    before = Area.objects.count()
    with pytest.raises(ImportRejected) as caught:
        import_divisions([bad])
    errors = {(e.line, e.field): e.reason for e in caught.value.errors}
    assert set(errors) == {(2, "code"), (3, "code"), (4, "name"), (6, "code"), (7, "town_code")}
    assert "441900131" in errors[(2, "code")]
    assert "重复" in errors[(6, "code")] and "bad.csv:5" in errors[(6, "code")]
    assert Area.objects.count() == before
    assert not Area.objects.filter(code="441900122099").exists()


@pytest.mark.django_db
def test_gbk_file_and_wrong_header(tmp_path):
    gbk = write_csv(tmp_path / "gbk.csv", ["code", "name"], [["441900132", "测试镇"]], encoding="gbk")
    assert import_divisions([gbk]).created == 1
    assert Area.objects.get(code="441900132").name == "测试镇"
    wrong = write_csv(tmp_path / "wrong.csv", ["代码", "名称"], [["441900133", "x"]])
    with pytest.raises(ImportRejected) as caught:
        import_divisions([wrong])
    assert caught.value.errors[0].line == 1 and "code,name" in caught.value.errors[0].reason
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ImportRejected):
        import_divisions([empty])


@pytest.mark.django_db
def test_command_reports_rows_on_stderr_and_fails(tmp_path, capsys):
    bad = write_csv(tmp_path / "bad.csv", ["code", "name"], [["12", "x"], ["441900134", ""]])
    with pytest.raises(CommandError):
        call_command("import_divisions", str(bad))
    err = capsys.readouterr().err
    assert "bad.csv:2" in err and "bad.csv:3" in err


@pytest.mark.django_db
def test_import_records_history_with_source(tmp_path):
    towns = write_csv(tmp_path / "t.csv", ["code", "name"], [["441900135", "记录镇"]])
    call_command("import_divisions", str(towns))
    record = ChangeRecord.objects.get(object_id=str(Area.objects.get(code="441900135").pk), action="create")
    assert record.source == "command" and record.after["name"] == "记录镇"
    write_csv(towns, ["code", "name"], [["441900135", "改名镇"]])
    call_command("import_divisions", str(towns))
    update = ChangeRecord.objects.filter(object_repr__contains="441900135", action="update").get()
    assert ("name", "记录镇", "改名镇") in update.changed_fields()
