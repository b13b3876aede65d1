import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from wangge.accounts.models import Department, Membership, Role, User
from wangge.cases.tests.conftest import VILLAGE_A_GRID, VILLAGE_B_GRID, new_case, point_in  # noqa: F401 (fixtures)
from wangge.summons import actions

START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)  # a Wednesday, 17:00 in Dongguan


def north(lat, lng, metres):
    """The point `metres` due north (about 111 km a degree of latitude)."""
    return lat + metres / 111_195.0, lng


@pytest.fixture
def clock():
    """A stopped clock at START: clock.shift(minutes=…) moves it."""
    with time_machine.travel(START, tick=False) as traveller:

        class Clock:
            @staticmethod
            def shift(**kw):
                traveller.shift(dt.timedelta(**kw))

            @staticmethod
            def now():
                return timezone.now()

        yield Clock


@pytest.fixture
def place(db):
    return point_in(VILLAGE_A_GRID)


@pytest.fixture
def police_handler(db):
    user = User.objects.create_user("police_t", password="x", full_name="公安处置人员")
    user.set_phone("13800009999")
    user.save(update_fields=["phone_encrypted"])
    Membership.objects.create(
        user=user, role=Role.DEPARTMENT_HANDLER, department=Department.objects.get(code="public_security")
    )
    return user


@pytest.fixture
def summon(db, user, place):
    """summon(**kw) → a summons by village A's dispatcher of the fire department to village A's grid."""

    def make(by="village_dispatcher", departments=("fire",), **kw):
        lat, lng = place
        kw.setdefault("reason", "河堤险情，请速到场")
        if "case" not in kw:
            kw.setdefault("lat", lat)
            kw.setdefault("lng", lng)
        return actions.summon(user(by), departments=list(departments), **kw)

    return make
