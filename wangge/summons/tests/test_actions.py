"""吹哨报到's rules with a stopped clock and phone fixes: on time, late, too far, a poor fix, no fix;
who may summon, report and close; the case's trail and the notifications."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from wangge.cases.actions import TransitionNotAllowed
from wangge.cases.models import CaseEvent
from wangge.history.models import ChangeRecord
from wangge.notify.models import Channel, Notification
from wangge.summons import actions
from wangge.summons.models import Arrival, Attendance, Status

from .conftest import VILLAGE_B_GRID, north, point_in

pytestmark = pytest.mark.django_db


def arrive(user, summons, lat, lng, accuracy=10.0):
    return actions.report_arrival(user, summons, lat=lat, lng=lng, accuracy=accuracy)


def test_a_good_fix_before_the_deadline_is_an_arrival_on_time(clock, summon, place, user):
    summons = summon(minutes=30)
    assert summons.arrive_by == clock.now() + dt.timedelta(minutes=30)
    clock.shift(minutes=12)
    (arrival,) = arrive(user("fire_handler"), summons, *north(*place, 120), accuracy=15)
    assert arrival.counts and arrival.flags == []
    assert 115 < arrival.distance_m < 125
    row = summons.departments.get()
    assert row.state == Attendance.ARRIVED
    assert row.arrived_at == clock.now() and row.arrived_by.username == "fire_handler"
    # The dispatcher is told who arrived (in the app).
    assert Notification.objects.filter(recipient=summons.created_by, dedupe_key=f"summons:{row.pk}:arrived").exists()


def test_after_the_deadline_the_arrival_is_recorded_late_never_refused(clock, summon, place, user):
    summons = summon(minutes=30)
    clock.shift(minutes=31)
    (arrival,) = arrive(user("fire_handler"), summons, *place)
    assert arrival.counts and arrival.flags == ["late"]
    row = summons.departments.get()
    assert row.state == Attendance.LATE and row.arrived_at == clock.now()


def test_a_fix_too_far_away_is_recorded_flagged_and_not_counted(clock, summon, place, user):
    summons = summon(minutes=30)
    clock.shift(minutes=5)
    (far,) = arrive(user("fire_handler"), summons, *north(*place, 1500), accuracy=8)
    assert far.too_far and not far.counts and far.distance_m > 1400
    assert summons.departments.get().state == Attendance.WAITING
    clock.shift(minutes=5)  # then from the place itself: that one counts
    (near,) = arrive(user("fire_handler"), summons, *place, accuracy=8)
    row = summons.departments.get()
    assert near.counts and row.state == Attendance.ARRIVED and row.arrived_at == clock.now()
    assert Arrival.objects.filter(summoned=row).count() == 2


@pytest.mark.parametrize("accuracy", [500.0, None])
def test_a_poor_fix_or_one_without_accuracy_is_flagged_never_guessed(clock, summon, place, user, accuracy):
    summons = summon()
    (arrival,) = arrive(user("fire_handler"), summons, *place, accuracy=accuracy)
    assert arrival.poor_fix and not arrival.counts
    assert arrival.lat == place[0] and arrival.accuracy_m == accuracy  # as sent
    assert summons.departments.get().state == Attendance.WAITING


def test_no_fix_is_recorded_as_such(clock, summon, user):
    summons = summon()
    (arrival,) = actions.report_arrival(user("fire_handler"), summons, lat=None, lng="", accuracy=None)
    assert arrival.no_fix and not arrival.counts
    assert arrival.lat is None and arrival.distance_m is None
    assert summons.departments.get().state == Attendance.WAITING


def test_the_first_good_arrival_stays(clock, summon, place, user):
    summons = summon(minutes=30)
    arrive(user("fire_handler"), summons, *place)
    first = summons.departments.get().arrived_at
    clock.shift(minutes=40)
    (again,) = arrive(user("fire_handler"), summons, *place)
    row = summons.departments.get()
    assert again.late and row.arrived_at == first and row.state == Attendance.ARRIVED


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"lat": "abc", "lng": 113.7}, "lat"),
        ({"lat": 23.0, "lng": 999}, "lng"),
        ({"lat": 23.0, "lng": None}, "lng"),
        ({"lat": 23.0, "lng": 113.7, "accuracy": -3}, "accuracy"),
    ],
)
def test_bad_coordinates_are_a_field_error_and_nothing_is_written(summon, user, fields, field):
    summons = summon()
    with pytest.raises(ValidationError) as error:
        actions.report_arrival(user("fire_handler"), summons, **fields)
    assert field in error.value.message_dict
    assert not Arrival.objects.exists()


def test_only_staff_of_a_summoned_department_report(summon, place, user, police_handler):
    summons = summon()
    for other in (user("village_dispatcher"), user("grid_manager"), police_handler):
        with pytest.raises(PermissionDenied):
            arrive(other, summons, *place)
    assert not Arrival.objects.exists()


def test_a_summons_calls_every_department_and_tells_its_staff_in_app_and_by_sms(clock, summon, police_handler, user):
    summons = summon(departments=["fire", "public_security"])
    assert [r.department.code for r in summons.departments.all()] == ["fire", "public_security"]
    assert all(r.notified_at == clock.now() and r.state == Attendance.WAITING for r in summons.departments.all())
    for handler in (user("fire_handler"), police_handler):
        channels = set(Notification.objects.filter(recipient=handler).values_list("channel", flat=True))
        assert channels == {Channel.INAPP, Channel.SMS}
    assert ChangeRecord.objects.filter(object_id=str(summons.pk), object_repr__startswith="#").exists()


def test_a_case_summons_takes_its_place_and_deadline_and_goes_on_the_trail(clock, summon, new_case, user):
    case = new_case()
    case.severity = "urgent"
    case.save(update_fields=["severity"])
    summons = summon(case=case.pk, reason="")
    assert (summons.lat, summons.lng, summons.area_id) == (case.lat, case.lng, case.area_id)
    assert summons.arrive_by == clock.now() + dt.timedelta(minutes=30)  # urgent: SUMMONS_DEADLINE_MINUTES
    event = CaseEvent.objects.get(case=case, action="summoned")
    assert event.data["summons"] == summons.pk and event.data["departments"] == ["fire"]
    arrive(user("fire_handler"), summons, case.lat, case.lng)
    arrival = CaseEvent.objects.get(case=case, action="summons_arrival")
    assert arrival.data["counted"] and arrival.data["flags"] == [] and arrival.data["department"] == "fire"


def test_the_default_deadline_follows_the_severity(clock, summon):
    assert summon().arrive_by == clock.now() + dt.timedelta(minutes=120)
    assert summon(severity="important").arrive_by == clock.now() + dt.timedelta(minutes=60)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"departments": []}, "departments"),
        ({"departments": ["nope"]}, "departments"),
        ({"arrive_by": "2026-12-02T16:00:00+08:00"}, "arrive_by"),  # an hour before the clock
        ({"arrive_by": "tomorrow"}, "arrive_by"),
        ({"minutes": 0}, "minutes"),
        ({"minutes": "x"}, "minutes"),
        ({"lat": "north", "lng": 113.7}, "lat"),
        ({"lat": 10.0, "lng": 10.0}, "lat"),  # outside the city
        ({"reason": ""}, "reason"),  # without a case the reason says what for
        ({"severity": "huge"}, "severity"),
    ],
)
def test_bad_summons_input_names_the_field_and_writes_nothing(clock, summon, fields, field):
    from wangge.summons.models import Summons

    with pytest.raises(ValidationError) as error:
        summon(**fields)
    assert field in error.value.message_dict
    assert not Summons.objects.exists() and not Notification.objects.exists()


def test_only_town_and_village_dispatchers_summon_in_their_own_area(summon, place, new_case):
    for username in ("grid_manager", "fire_handler", "leader", "hotline"):
        with pytest.raises(PermissionDenied):
            summon(by=username)
    with pytest.raises(ValidationError) as error:  # another town's dispatcher: the place is not theirs
        summon(by="liaobu_dispatcher")
    assert "lat" in error.value.message_dict
    with pytest.raises(ValidationError) as error:  # nor the case
        summon(by="liaobu_dispatcher", case=new_case().pk)
    assert "case" in error.value.message_dict
    with pytest.raises(ValidationError) as error:  # village A's dispatcher, in village B
        summon(by="village_dispatcher", lat=point_in(VILLAGE_B_GRID)[0], lng=point_in(VILLAGE_B_GRID)[1])
    assert "lat" in error.value.message_dict
    assert summon(by="town_dispatcher").area_path.startswith("441900/441900122/")


def test_a_department_of_another_town_cannot_be_summoned(summon):
    from wangge.accounts.models import Department
    from wangge.areas.models import Area

    Department.objects.create(
        code="liaobu_water", name="寮步水务所", level="town", area=Area.objects.get(code="441900111")
    )
    with pytest.raises(ValidationError) as error:
        summon(departments=["liaobu_water"])
    assert "departments" in error.value.message_dict


def test_closing_marks_who_never_came_and_stops_reports(clock, summon, place, police_handler, user, new_case):
    case = new_case()
    summons = summon(case=case.pk, departments=["fire", "public_security"])
    arrive(user("fire_handler"), summons, *(case.lat, case.lng))
    with pytest.raises(PermissionDenied):
        actions.close_summons(user("liaobu_dispatcher"), summons)
    actions.close_summons(user("village_dispatcher"), summons)
    summons.refresh_from_db()
    assert summons.status == Status.CLOSED and summons.closed_by.username == "village_dispatcher"
    states = dict(summons.departments.values_list("department__code", "state"))
    assert states == {"fire": Attendance.ARRIVED, "public_security": Attendance.ABSENT}
    assert CaseEvent.objects.get(case=case, action="summons_closed").data["absent"] == ["公安局"]
    with pytest.raises(TransitionNotAllowed):
        arrive(police_handler, summons, *place)
    with pytest.raises(TransitionNotAllowed):
        actions.close_summons(user("village_dispatcher"), summons)


def test_the_worker_marks_a_passed_deadline_once_on_the_trail_and_tells_the_dispatcher(
    clock, summon, new_case, user, police_handler
):
    from wangge.summons.tasks import mark_overdue_summonses

    case = new_case()
    summons = summon(case=case.pk, departments=["fire", "public_security"], minutes=30)
    arrive(user("fire_handler"), summons, case.lat, case.lng)
    clock.shift(minutes=29)
    assert mark_overdue_summonses.call_local() == {"marked": 0}
    clock.shift(minutes=2)
    assert mark_overdue_summonses.call_local() == {"marked": 1}
    assert mark_overdue_summonses.call_local() == {"marked": 0}  # once
    event = CaseEvent.objects.get(case=case, action="summons_overdue")
    assert event.data["absent"] == ["公安局"] and event.actor is None
    told = Notification.objects.filter(recipient=user("village_dispatcher"), dedupe_key=f"summons:{summons.pk}:overdue")
    assert set(told.values_list("channel", flat=True)) == {Channel.INAPP, Channel.SMS}
    # Still recorded late when the police come after all.
    (late,) = arrive(police_handler, summons, case.lat, case.lng)
    assert late.late and summons.departments.get(department__code="public_security").state == Attendance.LATE
