import random
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from wangge.worktime import calendar
from wangge.worktime.calendar import (
    add_working_hours,
    deadline_after,
    is_working_day,
    working_hours_between,
    working_periods,
)
from wangge.worktime.models import CalendarDay, DayKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(y, m, d, hh=0, mm=0, ss=0):
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


# ---------------------------------------------------------------- periods


def test_default_working_periods():
    assert [(s.isoformat("minutes"), e.isoformat("minutes")) for s, e in working_periods()] == [
        ("08:30", "12:00"),
        ("14:00", "17:30"),
    ]


@pytest.mark.parametrize(
    "value",
    ["", "8-12", "08:30-12:00;14:00-17:30", "12:00-08:30", "09:00-09:00", "08:30-12:00,11:00-13:00", "25:00-26:00"],
)
def test_invalid_working_periods_are_a_configuration_error(settings, value):
    settings.WORKING_PERIODS = value
    with pytest.raises(ImproperlyConfigured, match="WORKING_PERIODS"):
        working_periods()
    with pytest.raises(ImproperlyConfigured):
        add_working_hours(at(2025, 3, 4, 9), 1)


def test_working_periods_from_settings(settings):
    settings.WORKING_PERIODS = " 14:00-18:00 , 09:00-12:00 "  # any order, spaces allowed
    assert [(s.hour, e.hour) for s, e in working_periods()] == [(9, 12), (14, 18)]
    settings.WORKING_PERIODS = "09:00-17:00"
    assert add_working_hours(at(2025, 3, 4, 9), 8) == at(2025, 3, 4, 17)
    assert add_working_hours(at(2025, 3, 4, 9), 9) == at(2025, 3, 5, 10)
    assert working_hours_between(at(2025, 3, 4, 0), at(2025, 3, 5, 0)) == 8


# ---------------------------------------------------------------- days


def test_default_week_and_the_loaded_calendar():
    assert is_working_day(date(2025, 3, 4))  # Tuesday
    assert not is_working_day(date(2025, 3, 8))  # Saturday
    assert not is_working_day(date(2025, 10, 1))  # National Day
    assert not is_working_day(date(2025, 10, 8))
    assert is_working_day(date(2025, 9, 28))  # Sunday, make-up workday
    assert is_working_day(date(2025, 10, 11))  # Saturday, make-up workday
    assert not is_working_day(date(2026, 2, 16))  # Spring Festival 2026 (Monday)
    assert not is_working_day(date(2026, 2, 23))
    assert is_working_day(date(2026, 2, 14))
    assert is_working_day(date(2026, 2, 28))


def test_data_migration_loaded_both_years():
    rows = CalendarDay.objects.filter(date__year__in=[2025, 2026])
    assert rows.filter(kind=DayKind.HOLIDAY).count() == 28 + 33
    assert rows.filter(kind=DayKind.WORKDAY).count() == 5 + 6
    assert CalendarDay.objects.get(date=date(2026, 2, 15)).name == "春节"
    assert CalendarDay.objects.get(date=date(2026, 2, 15)).source == "cn_holidays.csv"


def test_saving_and_deleting_a_day_clears_the_cache():
    tuesday = date(2025, 3, 4)
    assert is_working_day(tuesday)
    day = CalendarDay.objects.create(date=tuesday, kind=DayKind.HOLIDAY, name="test")
    assert not is_working_day(tuesday)
    day.kind = DayKind.WORKDAY
    day.save()
    assert is_working_day(tuesday)
    day.delete()
    saturday = date(2025, 3, 8)
    CalendarDay.objects.create(date=saturday, kind=DayKind.WORKDAY, name="test")
    assert is_working_day(saturday)


# ---------------------------------------------------------------- adding working hours


def test_within_one_period():
    assert add_working_hours(at(2025, 3, 4, 9), 2) == at(2025, 3, 4, 11)


def test_crossing_lunch():
    assert add_working_hours(at(2025, 3, 4, 11), 2) == at(2025, 3, 4, 15)


def test_ending_exactly_at_a_period_end_stays_there():
    assert add_working_hours(at(2025, 3, 4, 11), 1) == at(2025, 3, 4, 12)
    assert add_working_hours(at(2025, 3, 4, 8, 30), 7) == at(2025, 3, 4, 17, 30)


def test_crossing_a_weekend():
    # Friday 16:30: one hour on Friday, one on Monday morning.
    assert add_working_hours(at(2025, 3, 7, 16, 30), 2) == at(2025, 3, 10, 9, 30)


def test_national_day_2025_and_its_make_up_workdays():
    # Friday 26 Sep 17:00 → half an hour, Saturday rests, Sunday 28 Sep is a workday.
    assert add_working_hours(at(2025, 9, 26, 17), 1) == at(2025, 9, 28, 9)
    # Tuesday 30 Sep 17:00 → half an hour, then 1–8 Oct holiday, Thursday 9 Oct.
    assert add_working_hours(at(2025, 9, 30, 17), 1) == at(2025, 10, 9, 9)
    # Friday 10 Oct 17:00 → half an hour, Saturday 11 Oct is worked in full.
    assert add_working_hours(at(2025, 10, 10, 17), 7.5) == at(2025, 10, 11, 17, 30)
    assert add_working_hours(at(2025, 10, 10, 17), 8) == at(2025, 10, 13, 9)
    # Across the whole holiday: 29, 30 Sep and 9, 10 Oct are 28 hours.
    assert working_hours_between(at(2025, 9, 29), at(2025, 10, 11)) == 28


def test_spring_festival_2026():
    # Saturday 14 Feb is a workday; 15–23 Feb holiday; Tuesday 24 Feb back at work.
    assert add_working_hours(at(2026, 2, 13, 17), 1) == at(2026, 2, 14, 9)
    assert add_working_hours(at(2026, 2, 14, 17), 1) == at(2026, 2, 24, 9)
    assert add_working_hours(at(2026, 2, 16, 10), 1) == at(2026, 2, 24, 9, 30)
    assert working_hours_between(at(2026, 2, 14), at(2026, 3, 1)) == 7 * 6  # 14, 24–27, 28 Feb


def test_start_outside_working_time():
    assert add_working_hours(at(2025, 3, 4, 22), 1) == at(2025, 3, 5, 9, 30)  # night
    assert add_working_hours(at(2025, 3, 5, 6), 0.5) == at(2025, 3, 5, 9)  # early morning
    assert add_working_hours(at(2025, 3, 4, 12, 30), 1) == at(2025, 3, 4, 15)  # lunch
    assert add_working_hours(at(2025, 3, 4, 17, 30), 1) == at(2025, 3, 5, 9, 30)  # at closing
    assert add_working_hours(at(2025, 3, 9, 10), 1) == at(2025, 3, 10, 9, 30)  # Sunday
    assert add_working_hours(at(2025, 10, 3, 10), 1) == at(2025, 10, 9, 9, 30)  # holiday


def test_fractional_hours():
    assert add_working_hours(at(2025, 3, 4, 9), 0.25) == at(2025, 3, 4, 9, 15)
    assert add_working_hours(at(2025, 3, 4, 11), 1.5) == at(2025, 3, 4, 14, 30)
    assert add_working_hours(at(2025, 3, 4, 9), 1 / 3) == at(2025, 3, 4, 9, 20)
    assert add_working_hours(at(2025, 3, 4, 9, 0, 0), 1 / 3600) == at(2025, 3, 4, 9, 0, 1)


def test_zero_hours_is_the_start():
    assert add_working_hours(at(2025, 3, 8, 3), 0) == at(2025, 3, 8, 3)


def test_large_values_skip_whole_days_quickly():
    start = at(2025, 1, 2, 8, 30)
    began = time.perf_counter()
    end = add_working_hours(start, 500)
    assert time.perf_counter() - began < 0.5
    # 500 h = 71 working days of 7 h, then 3 h into the 72nd working day from 2 January.
    days = [d for d in (date(2025, 1, 2) + timedelta(n) for n in range(200)) if is_working_day(d)]
    assert end == at(days[71].year, days[71].month, days[71].day, 11, 30)
    assert working_hours_between(start, end) == 500
    far = add_working_hours(start, 5000)
    assert working_hours_between(start, far) == pytest.approx(5000)


def test_other_time_zones_count_in_shanghai_local_time():
    start = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    end = add_working_hours(start, 2)
    assert end == at(2025, 3, 4, 11)


def test_working_hours_between():
    assert working_hours_between(at(2025, 3, 4, 9), at(2025, 3, 4, 15)) == 4
    assert working_hours_between(at(2025, 3, 4, 15), at(2025, 3, 4, 9)) == -4
    assert working_hours_between(at(2025, 3, 8, 9), at(2025, 3, 9, 18)) == 0  # weekend
    assert working_hours_between(at(2025, 3, 4, 9), at(2025, 3, 4, 9)) == 0


def test_between_and_add_agree_on_random_starts():
    rng = random.Random(20251001)
    for _ in range(300):
        start = at(2025, 1, 1) + timedelta(minutes=rng.randrange(0, 60 * 24 * 700))
        hours = rng.choice([rng.randrange(0, 8 * 60) / 60, rng.uniform(0, 120), rng.randrange(1, 40) * 3.5])
        end = add_working_hours(start, hours)
        assert end >= start
        assert working_hours_between(start, end) == pytest.approx(hours, abs=1e-6)
        # The end is the first moment with that much work done: a minute earlier is short of it.
        if hours > 0:
            assert working_hours_between(start, end - timedelta(minutes=1)) < hours
        # And from any moment, adding the hours up to a later moment never passes that moment.
        later = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
        assert add_working_hours(start, working_hours_between(start, later)) <= later


def test_bad_arguments():
    with pytest.raises(ValueError, match="aware"):
        add_working_hours(datetime(2025, 3, 4, 9), 1)
    with pytest.raises(ValueError):
        add_working_hours(at(2025, 3, 4, 9), -1)
    with pytest.raises(ValueError):
        add_working_hours(at(2025, 3, 4, 9), float("inf"))
    with pytest.raises(ValueError):
        add_working_hours(at(2025, 3, 4, 9), float("nan"))


def test_a_calendar_without_working_time_stops(monkeypatch):
    monkeypatch.setattr(calendar, "is_working_day", lambda d: False)
    with pytest.raises(ValueError, match="No working time"):
        add_working_hours(at(2025, 3, 4, 9), 1)


def test_deadline_after():
    start = at(2025, 3, 7, 16, 30)  # Friday
    assert deadline_after(start, 2, working_hours=False) == at(2025, 3, 7, 18, 30)
    assert deadline_after(start, 2, working_hours=True) == at(2025, 3, 10, 9, 30)
    assert deadline_after(start, 72, working_hours=False) == at(2025, 3, 10, 16, 30)
