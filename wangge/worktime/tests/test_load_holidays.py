from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wangge.core.imports import ImportRejected
from wangge.history.models import ChangeRecord
from wangge.worktime.actions import load_holidays
from wangge.worktime.calendar import is_working_day
from wangge.worktime.holidays import DATA_FILE, parse_holiday_file
from wangge.worktime.models import CalendarDay, DayKind

pytestmark = pytest.mark.django_db


def write(tmp_path, text, name="days.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_the_shipped_file_is_valid():
    rows = parse_holiday_file(DATA_FILE)
    assert len(rows) == 72
    assert all(r["date"].weekday() >= 5 for r in rows if r["kind"] == "workday")


def test_bad_rows_are_reported_by_line_and_nothing_is_written(tmp_path, capsys):
    path = write(
        tmp_path,
        "date,kind,name\n"
        "2027-02-05,holiday,春节\n"  # valid, but must not be written
        "2027-02-30,holiday,春节\n"  # line 3: no such date
        "2027-02-06,vacation,春节\n"  # line 4: unknown kind
        "2027-02-07,holiday,\n"  # line 5: empty name
        "2027-02-08,workday,春节\n"  # line 6: a Monday cannot be a make-up workday
        "2027-02-05,holiday,春节\n",  # line 7: duplicate date
    )
    before = CalendarDay.objects.count(), ChangeRecord.objects.count()
    with pytest.raises(CommandError, match="5"):
        call_command("load_holidays", str(path))
    err = capsys.readouterr().err
    for line, field in [(3, "date"), (4, "kind"), (5, "name"), (6, "kind"), (7, "date")]:
        assert f"days.csv:{line}: {field}: " in err
    assert "days.csv:2" not in err
    assert (CalendarDay.objects.count(), ChangeRecord.objects.count()) == before
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_missing_columns_are_rejected(tmp_path):
    path = write(tmp_path, "day,type\n2027-01-01,holiday\n")
    with pytest.raises(ImportRejected) as exc:
        load_holidays(path)
    assert exc.value.errors[0].line == 1


def test_load_upserts_and_records(tmp_path, capsys):
    path = write(
        tmp_path,
        "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-04,holiday,元旦\n2026-10-01,holiday,国庆节\n",
        encoding="gb18030",
    )
    records = ChangeRecord.objects.count()
    call_command("load_holidays", str(path))
    assert "created 2, updated 0, unchanged 1" in capsys.readouterr().out
    assert CalendarDay.objects.get(date=date(2027, 1, 4)).source == "days.csv"
    assert not is_working_day(date(2027, 1, 4))  # a Monday, now a holiday
    assert ChangeRecord.objects.count() == records + 2
    assert set(ChangeRecord.objects.order_by("-id")[:2].values_list("source", flat=True)) == {"command"}

    fixed = write(tmp_path, "date,kind,name\n2027-01-02,workday,元旦\n2027-01-04,holiday,元旦调整\n", "fix.csv")
    result = load_holidays(fixed, source="国办发明电")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    day = CalendarDay.objects.get(date=date(2027, 1, 4))
    assert (day.kind, day.name, day.source) == (DayKind.HOLIDAY, "元旦调整", "国办发明电")
    assert CalendarDay.objects.filter(date=date(2027, 1, 1)).exists()  # not in the second file, kept
    assert is_working_day(date(2027, 1, 2))  # a Saturday, now worked


def test_admin_lists_and_filters(admin_client):
    response = admin_client.get("/admin/worktime/calendarday/", {"year": "2026", "kind": "workday"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "2026-02-28" in content or "2026年2月28日" in content
    assert response.context["cl"].result_count == 6
