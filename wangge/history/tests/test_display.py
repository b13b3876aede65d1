"""Change history in the users' words: field labels, choice labels, related rows by name, and a
boundary said in words (never `person_type: registered` or `boundary: Polygon`)."""

import re
from datetime import date

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from wangge.accounts.models import User
from wangge.areas.models import Area
from wangge.history.actions import history_for
from wangge.registry import actions
from wangge.registry.validators import id_check_char

pytestmark = pytest.mark.django_db


def shown(obj, language="zh-hans") -> str:
    with translation.override(language):
        html = render_to_string("web/_history.html", {"records": history_for(obj)})
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_person_history_shows_labels_not_codes():
    admin = User.objects.get(username="admin")
    grid = Area.objects.get(code="441900122002001")
    address = actions.save_address(
        admin, {"road": "测试路", "number": "1号", "lat": grid.centroid_lat, "lng": grid.centroid_lng}
    )
    building = actions.save_building(admin, {"name": "测试楼", "address": address.code, "use": "rental", "floors": 3})
    room = actions.save_room(admin, building, {"number": "101", "floor": 1})
    first17 = f"441900{date(1980, 1, 2):%Y%m%d}001"
    person = actions.register_person(
        admin,
        {"name": "赵一", "person_type": "floating", "id_number": first17 + id_check_char(first17), "room": room.pk},
    )
    actions.update_person(admin, person, {"name": "赵一", "person_type": "registered"})
    text = shown(person)
    assert "人员类型: 流动人口 → 户籍人口" in text, text
    assert "网页" not in text and "系统" in text  # where the change came from, in words
    for code in ("person_type", "registered", "floating", "residence", "id_number", "441900122002001 "):
        assert code not in text, (code, text)
    assert str(room) in text  # the residence by name, not its id
    assert "国籍" not in text  # blank before and after: nothing to say
    assert "Person type: Floating population → Registered resident" in shown(person, "en")  # and in English
    text = shown(building)
    assert "用途: — → 出租屋" in text and "rental" not in text, text
    assert "区域: — → " + str(grid) in text, text


def test_boundary_is_said_in_words():
    text = shown(Area.objects.get(code="441900122"))
    assert "边界: 已绘制边界" in text and "Polygon" not in text and "sha1" not in text, text
    assert "层级: — → 镇(街道)" in text or "层级: — → 镇（街道）" in text, text
