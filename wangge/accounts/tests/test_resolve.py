"""The shared resolver of ids in writes: scoped, never city-wide, never a 500 on a huge number."""

import pytest
from django.core.exceptions import ValidationError

from wangge.accounts.resolve import MAX_ID, resolve_many, resolve_one
from wangge.areas.models import Area

pytestmark = pytest.mark.django_db


def _town_and_other():
    town = Area.objects.get(code="441900122")
    inside = Area.objects.filter(path__startswith=town.path).exclude(pk=town.pk).first()
    outside = Area.objects.exclude(path__startswith=town.path).exclude(level="city").first()
    return Area.objects.filter(path__startswith=town.path), inside, outside


def test_resolve_one_inside_and_outside():
    scoped, inside, outside = _town_and_other()
    assert resolve_one(scoped, inside.pk, "area") == inside
    with pytest.raises(ValidationError) as err:
        resolve_one(scoped, outside.pk, "area")
    assert "area" in err.value.message_dict


@pytest.mark.parametrize("bad", [0, -1, MAX_ID + 1, 2**70, "x", None, True])
def test_resolve_one_refuses_impossible_ids(bad):
    scoped, _inside, _outside = _town_and_other()
    with pytest.raises(ValidationError) as err:
        resolve_one(scoped, bad, "area")
    assert list(err.value.message_dict) == ["area"]


def test_resolve_many_all_or_nothing_in_order():
    scoped, inside, outside = _town_and_other()
    assert resolve_many(scoped, [inside.pk, inside.pk], "areas") == [inside]
    assert resolve_many(scoped, [], "areas") == []
    with pytest.raises(ValidationError):
        resolve_many(scoped, [inside.pk, outside.pk], "areas")
    with pytest.raises(ValidationError):
        resolve_many(scoped, [inside.pk, 2**64], "areas")
